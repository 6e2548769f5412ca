"""What the model assumes that is neither a price nor in the template.

Durations are warm invocations in the region (arm64), not measured on AWS: the chat's
functions spend their time waiting on DynamoDB and the IoT data plane, a few to a few
tens of milliseconds a call. Cold starts are left out. Change them here and the bill,
the plot and docs/cost.md's worked example (tests pin it) follow.
"""

from __future__ import annotations

# -- Lambda: warm duration per invocation, milliseconds --------------------------------
AUTHORIZER_MS = 15  # verify an HS256 JWT (key cached 300 s), build the policy
TOKEN_MS = 15  # sign a guest JWT
JOIN_MS = 80  # UpdateItem, backlog Query, publish, roster Query, publish
HISTORY_MS = 40  # Query, publish
PRESENCE_CONNECT_MS = 15  # one conditional UpdateItem
PRESENCE_DISCONNECT_MS = 50  # UpdateItem, roster Query, publish
STREAM_BATCH_MS = 20  # per Kinesis batch
STREAM_RECORD_MS = 30  # per record: PutItem, publish to the room
FANOUT_BASE_MS = 25  # API Gateway design: PutItem and the room's connections Query
POST_TO_CONNECTION_MS = 10  # API Gateway design: one PostToConnection, sent in turn
CONNECT_ROUTE_MS = 15  # API Gateway design: $connect PutItem

# Each invocation logs Lambda's START/END/REPORT lines and about one JSON line of ours.
LOG_BYTES_PER_INVOCATION = 700

# -- Monitoring (stack/observability.py, lambdas/chatlib/metrics.py) --------------------
# Each invocation prints at most one embedded-metric-format line besides its logs (a
# refusal is a line of its own, an invocation that counts nothing prints none): about
# 200 bytes (180 to 215 measured, the stack name in the namespace included).
EMF_BYTES_PER_INVOCATION = 200
# Custom metrics, one per name and dimension values, all assumed to get data every hour
# of the month (an upper bound: a refusal reason that never happens costs nothing):
# RuleActionFailures (the rule-error metric filter) 1; Messages, Joins, HistoryPages,
# Connected, Disconnected, TokensIssued, TokenErrors, Authorized, AuthorizerErrors 9;
# Refused by reason: chat 7 (invalid_<join|history|leave|message>, invalid_command,
# not_an_object, not_json), token 5 (bad_json, invalid_name, method_not_allowed,
# payload_too_large, rate_limited), authorizer 3 (no_token, bad_token, expiring_token).
CUSTOM_METRICS = 1 + 9 + 7 + 5 + 3
# Alarm e-mails a month, when AlarmEmail is set: ten incidents, each ALARM then OK.
ALARM_EMAILS_PER_MONTH = 20

# -- Connections -----------------------------------------------------------------------
# This design's web client renews its token at 80% of its lifetime and reconnects with
# it (web/js/backoff.js renewDelay); the lifetime is the template's.
TOKEN_RENEW_FRACTION = 0.8
# API Gateway closes a WebSocket after 2 hours (quota "Connection duration for
# WebSocket API", not adjustable) and after 10 idle minutes: the browser, which cannot
# send ping frames, sends a heartbeat message (a mock route, no function) every 9.
APIGW_MAX_CONNECTION_S = 2 * 3600
APIGW_HEARTBEAT_S = 9 * 60
# AppSync Events: no connection cap was found; one connection per session a day.
APPSYNC_CONNECTION_S = 24 * 3600

# -- Secrets Manager -------------------------------------------------------------------
# The authorizer and the token function cache the key for 300 s (chatlib.tokens): with
# one warm container each, 12 reads an hour each while users are online.
SECRET_READS_PER_HOUR = 2 * 3600 / 300

# -- Static site ---------------------------------------------------------------------------
PAGE_LOADS_PER_SESSION = 1  # one full page load a session; reconnects reuse the page
# The page as CloudFront serves it (compressed): web/'s HTML, CSS and JS, gzip level 6,
# plus config.json, measured 2026-12-02 (tests/cost keep it within 25% of web/ today).
# The same page stands in for the other designs' clients.
PAGE_REQUESTS = 14  # web/js/contract.js added 2026-12 (issue 11)
PAGE_BYTES = 125_000
CONFIG_JSON_BYTES = 200  # /config.json, four short fields, part of PAGE_BYTES
