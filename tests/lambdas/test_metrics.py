"""The functions' business metrics: what each handler prints to stdout in CloudWatch
embedded metric format (Powertools Metrics), read back as CloudWatch Logs would.

The EMF specification (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
a JSON log line whose ``_aws.CloudWatchMetrics`` directive names the namespace, the
dimension sets and the metrics; the values are top-level members of the same object.
"""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from types import SimpleNamespace
from typing import Any

import authorizer
import chat
import guest_token
import jwt
import presence
import pytest

from chatlib import aws, metrics

from .conftest import SECRET

NAMESPACE = "ServerlessChat/test"
T0 = 1_700_000_000_000


@pytest.fixture
def emf(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Read the EMF lines printed so far: [(metric name, value, dimensions), ...]."""
    monkeypatch.setattr(metrics.metrics, "namespace", NAMESPACE)

    def service(name: str) -> None:
        monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", name)  # single_metric reads it
        monkeypatch.setattr(metrics.metrics, "service", name)

    def read() -> list[tuple[str, float, dict[str, str]]]:
        found = []
        for line in capsys.readouterr().out.splitlines():
            doc = json.loads(line)  # every stdout line is JSON: logs and metrics
            if "_aws" not in doc:
                continue
            (directive,) = doc["_aws"]["CloudWatchMetrics"]
            assert directive["Namespace"] == NAMESPACE
            (dimension_set,) = directive["Dimensions"]
            dims = {d: doc[d] for d in dimension_set}
            for metric in directive["Metrics"]:
                assert metric["Unit"] == "Count"
                values = doc[metric["Name"]]
                found.append((metric["Name"], sum(values), dims))
        return found

    read.service = service  # type: ignore[attr-defined]
    return read


def command(kind: str, client: str = "alice1-tab", **fields: Any) -> dict[str, Any]:
    stamped = {"type": kind, "clientId": client, "sender": client.split("-")[0], "ts": T0}
    stamped.update(fields)
    return stamped


def kinesis(*payloads: Any) -> dict[str, Any]:
    records = []
    for n, payload in enumerate(payloads):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        records.append(
            {
                "eventSource": "aws:kinesis",
                "eventID": f"shardId-000000000000:{n}",
                "kinesis": {
                    "sequenceNumber": str(1000 + n),
                    "partitionKey": "lobby",
                    "data": base64.b64encode(data).decode(),
                },
            }
        )
    return {"Records": records}


def test_chat_counts_joins_history_pages_and_messages_in_one_line(
    tables, published, context, emf
) -> None:
    emf.service("chat")
    chat.handler(command("join", room="lobby", name="Alice"), context)
    assert emf() == [("Joins", 1, {"service": "chat"})]
    chat.handler(command("history", room="lobby", before=None), context)
    assert emf() == [("HistoryPages", 1, {"service": "chat"})]
    messages = [
        command(
            "message",
            id=f"00000000-0000-0000-0000-{n:012d}",
            ts=T0 + n,
            room="lobby",
            name="Alice",
            text=f"hi {n}",
        )
        for n in range(3)
    ]
    assert chat.handler(kinesis(*messages), context) == {"batchItemFailures": []}
    # One EMF line for the batch, its three messages as three values.
    assert emf() == [("Messages", 3, {"service": "chat"})]


def test_chat_refusals_are_counted_by_reason(tables, published, context, emf) -> None:
    emf.service("chat")
    chat.handler(command("join", room="Not A Room!", name="Alice"), context)
    chat.handler(command("nonsense"), context)
    chat.handler(["not", "an", "object"], context)
    chat.handler(kinesis(b"{not json"), context)
    assert emf() == [
        ("Refused", 1, {"service": "chat", "reason": "invalid_join"}),
        ("Refused", 1, {"service": "chat", "reason": "invalid_command"}),
        ("Refused", 1, {"service": "chat", "reason": "not_an_object"}),
        ("Refused", 1, {"service": "chat", "reason": "not_json"}),
    ]


def test_a_leave_counts_nothing_and_prints_no_metrics(tables, published, context, emf) -> None:
    emf.service("chat")
    chat.handler(command("leave", room="lobby"), context)
    assert emf() == []


def test_presence_counts_connections_and_disconnections(tables, published, context, emf):
    emf.service("presence")
    event = {"clientId": "alice1-tab", "timestamp": T0, "versionNumber": 1}
    presence.handler({**event, "eventType": "connected", "principalIdentifier": "a"}, context)
    presence.handler({**event, "eventType": "disconnected", "versionNumber": 2}, context)
    presence.handler({"eventType": "subscribed"}, context)  # ignored: counts nothing
    assert emf() == [
        ("Connected", 1, {"service": "presence"}),
        ("Disconnected", 1, {"service": "presence"}),
    ]


def test_token_function_counts_tokens_and_refusals_by_code(secret_arn, context, emf) -> None:
    emf.service("token")

    def post(body: str, method: str = "POST") -> int:
        event = {"requestContext": {"http": {"method": method, "sourceIp": "192.0.2.1"}}}
        return guest_token.handler({**event, "body": body}, context)["statusCode"]

    assert post('{"name": "Alice"}') == 200
    assert post("{bad") == 400
    assert post('{"name": ""}') == 400
    assert post("{}", method="GET") == 405
    assert post("x" * 5000) == 413
    assert emf() == [
        ("TokensIssued", 1, {"service": "token"}),
        ("Refused", 1, {"service": "token", "reason": "bad_json"}),
        ("Refused", 1, {"service": "token", "reason": "invalid_name"}),
        ("Refused", 1, {"service": "token", "reason": "method_not_allowed"}),
        ("Refused", 1, {"service": "token", "reason": "payload_too_large"}),
    ]


def test_token_rate_limit_refusals_are_counted(secret_arn, context, emf, monkeypatch) -> None:
    emf.service("token")
    monkeypatch.setattr(guest_token.ratelimit, "check", lambda source: _limited())
    event = {"requestContext": {"http": {"method": "POST", "sourceIp": "192.0.2.1"}}}
    assert guest_token.handler({**event, "body": '{"name":"A"}'}, context)["statusCode"] == 429
    assert emf() == [("Refused", 1, {"service": "token", "reason": "rate_limited"})]


def _limited() -> SimpleNamespace:
    return SimpleNamespace(allowed=False, retry_after=7)


def _event(token: str | None) -> dict[str, Any]:
    query = f"?token={token}" if token else ""
    return {"protocolData": {"http": {"queryString": query}}}


def test_authorizer_counts_authorizations_and_denials_by_reason(secret_arn, tables, context, emf):
    emf.service("authorizer")
    now = int(time.time())
    claims = {"iss": "test-issuer", "aud": "test-audience", "sub": "alice1", "iat": now}
    good = jwt.encode({**claims, "exp": now + 3600}, SECRET, algorithm="HS256")
    expiring = jwt.encode({**claims, "exp": now + 60}, SECRET, algorithm="HS256")
    forged = jwt.encode({**claims, "exp": now + 3600}, "x" * 64, algorithm="HS256")
    assert authorizer.handler(_event(good), context)["isAuthenticated"] is True
    for token in (None, forged, expiring):
        assert authorizer.handler(_event(token), context) == {"isAuthenticated": False}
    assert emf() == [
        ("Authorized", 1, {"service": "authorizer"}),
        ("Refused", 1, {"service": "authorizer", "reason": "no_token"}),
        ("Refused", 1, {"service": "authorizer", "reason": "bad_token"}),
        ("Refused", 1, {"service": "authorizer", "reason": "expiring_token"}),
    ]


def test_authorizer_internal_failure_is_counted_for_its_alarm(secret_arn, tables, context, emf):
    """A failure the handler turns into a denial is invisible to Lambda's Errors metric:
    AuthorizerErrors is what the authorizer-failures alarm watches."""
    emf.service("authorizer")
    now = int(time.time())
    token = jwt.encode(
        {"iss": "test-issuer", "aud": "test-audience", "sub": "a", "iat": now, "exp": now + 3600},
        SECRET,
        algorithm="HS256",
    )
    # A context without an ARN makes the policy impossible to scope: the handler denies.
    assert authorizer.handler(_event(token), SimpleNamespace()) == {"isAuthenticated": False}
    counted = Counter(name for name, _, _ in emf())
    assert counted == {"AuthorizerErrors": 1}


def test_no_metric_is_an_api_call(tables, published, context, emf) -> None:
    """Metrics leave as log lines: a handler counting metrics makes no CloudWatch call
    (every call the functions' clients make passes botocore's before-call event)."""
    called: list[str] = []

    def spy(**kwargs: Any) -> None:
        model = kwargs["model"]
        called.append(f"{model.service_model.service_name}:{model.name}")

    events = aws.session().events
    events.register("before-call", spy)
    try:
        emf.service("chat")
        chat.handler(command("join", room="lobby", name="Alice"), context)
    finally:
        events.unregister("before-call", spy)
    assert emf() == [("Joins", 1, {"service": "chat"})]
    assert called  # the join's own DynamoDB and IoT calls were seen
    assert not [c for c in called if c.startswith(("cloudwatch:", "monitoring:", "logs:"))], called
