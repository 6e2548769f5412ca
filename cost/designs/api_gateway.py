"""API Gateway WebSockets + a Lambda fan-out + a DynamoDB connections table.

The design the project's seeds describe, carrying the same chat (backlog, history,
rosters): every message goes to a function that reads the room's connections from an
index and posts to each one in turn (PostToConnection). Metering: Amazon API Gateway
pricing, WebSocket APIs (https://aws.amazon.com/api-gateway/pricing/).
"""

from __future__ import annotations

from cost import assumptions, metering, payloads
from cost.bill import Usage
from cost.designs import common
from cost.stack import load_stack
from cost.workload import Workload

NAME = "apigw"
TITLE = "API Gateway WebSockets"
DESCRIPTION = "API Gateway WebSocket API, a Lambda fan-out, a DynamoDB connections table"
HEARTBEAT = b'{"action":"ping"}'


def usage(w: Workload) -> Usage:
    stack = load_stack(w.stream)
    memory = stack.memory_mb("ChatFunction")  # one function for every route, as the seeds
    p = payloads.payloads(w.message_bytes, round(w.room_size))
    out = Usage()
    connects = w.connects(assumptions.APIGW_MAX_CONNECTION_S)
    fan_out_ms = w.room_size * assumptions.POST_TO_CONNECTION_MS

    def messages(label: str, count: float, payload: bytes) -> None:
        """Messages in or out, each metered in 32 KB increments."""
        out.add("apigw_ws_messages", label, count * metering.websocket_messages(len(payload)))

    out.add("apigw_ws_connection_minutes", "users online", w.connection_minutes)
    heartbeats = w.user_hours * 3600 / assumptions.APIGW_HEARTBEAT_S
    messages("heartbeat every 9 minutes (mock route)", heartbeats, HEARTBEAT)
    auth_mb = stack.memory_mb("AuthorizerFunction")
    common.add_auth(out, w, tokens=connects, authorizations=connects, memory_mb=auth_mb)

    common.add_function(out, "$connect route", connects, assumptions.CONNECT_ROUTE_MS, memory)
    common.connection_write(out, "$connect", connects, p, index=False)

    join_ms = assumptions.JOIN_MS + fan_out_ms
    common.add_function(out, "join route", connects, join_ms, memory)
    messages("join: command in", connects, p.join_command)
    common.connection_write(out, "join", connects, p, index=True)
    common.page_query(out, "join: backlog", connects, p.backlog_read)
    messages("join: backlog out", connects, p.backlog_reply)
    common.roster_query(out, "join: roster", connects, p)
    messages("join: roster to each member", connects * w.room_size, p.roster)

    disconnect_ms = assumptions.PRESENCE_DISCONNECT_MS + fan_out_ms
    common.add_function(out, "$disconnect route", connects, disconnect_ms, memory)
    common.connection_write(out, "$disconnect", connects, p, index=True)
    common.roster_query(out, "$disconnect: roster", connects, p)
    messages("$disconnect: roster to each member", connects * w.room_size, p.roster)

    sent = w.chat_messages
    fan_out = assumptions.FANOUT_BASE_MS + fan_out_ms
    common.add_function(out, "message route (fan-out)", sent, fan_out, memory)
    messages("chat message: in", sent, p.chat_command)
    common.message_put(out, "chat message", sent, p)
    common.roster_query(out, "chat message: the room's connections", sent, p)
    messages("chat message: PostToConnection to each member", sent * w.room_size, p.room_message)

    pages = w.history_pages
    common.add_function(out, "history route", pages, assumptions.HISTORY_MS, memory)
    messages("history: command in", pages, p.history_command)
    common.page_query(out, "history", pages, p.history_read)
    messages("history: page out", pages, p.history_reply)

    common.add_message_storage(out, w, p.stored_item)
    common.add_site(out, w)
    return out
