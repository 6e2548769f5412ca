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


def _messages(payload: bytes) -> int:
    return metering.websocket_messages(len(payload))


def usage(w: Workload) -> Usage:
    stack = load_stack(w.stream)
    memory = stack.memory_mb("ChatFunction")  # one function for every route, as the seeds
    p = payloads.payloads(w.message_bytes, round(w.room_size))
    room = w.room_size
    out = Usage()
    connects = w.connects(assumptions.APIGW_MAX_CONNECTION_S)
    fan_out_ms = room * assumptions.POST_TO_CONNECTION_MS
    conn_writes = metering.dynamodb_write_units(p.connection_item)
    roster_reads = metering.dynamodb_read_units(p.roster_read, consistent=False)

    out.add("apigw_ws_connection_minutes", "users online", w.connection_minutes)
    heartbeats = w.user_hours * 3600 / assumptions.APIGW_HEARTBEAT_S
    out.add(
        "apigw_ws_messages",
        "heartbeat every 9 minutes (mock route)",
        heartbeats * _messages(HEARTBEAT),
    )
    common.add_auth(
        out,
        w,
        tokens=connects,
        authorizations=connects,
        memory_mb=stack.memory_mb("AuthorizerFunction"),
    )

    common.add_function(out, "$connect route", connects, assumptions.CONNECT_ROUTE_MS, memory)
    out.add("dynamodb_write_units", "$connect: connections PutItem", connects * conn_writes)

    join_ms = assumptions.JOIN_MS + fan_out_ms
    common.add_function(out, "join route", connects, join_ms, memory)
    out.add("apigw_ws_messages", "join: command in", connects * _messages(p.join_command))
    out.add(
        "dynamodb_write_units",
        "join: connections UpdateItem + room index",
        connects * 2 * conn_writes,
    )
    backlog_reads = metering.dynamodb_read_units(p.backlog_read, consistent=True)
    out.add("dynamodb_read_units", "join: backlog Query", connects * backlog_reads)
    out.add("apigw_ws_messages", "join: backlog out", connects * _messages(p.backlog_reply))
    out.add("dynamodb_read_units", "join: roster Query (room index)", connects * roster_reads)
    out.add(
        "apigw_ws_messages", "join: roster to each member", connects * room * _messages(p.roster)
    )

    disconnect_ms = assumptions.PRESENCE_DISCONNECT_MS + fan_out_ms
    common.add_function(out, "$disconnect route", connects, disconnect_ms, memory)
    out.add(
        "dynamodb_write_units",
        "$disconnect: connections UpdateItem + room index",
        connects * 2 * conn_writes,
    )
    out.add(
        "dynamodb_read_units", "$disconnect: roster Query (room index)", connects * roster_reads
    )
    out.add(
        "apigw_ws_messages",
        "$disconnect: roster to each member",
        connects * room * _messages(p.roster),
    )

    sent = w.chat_messages
    common.add_function(
        out, "message route (fan-out)", sent, assumptions.FANOUT_BASE_MS + fan_out_ms, memory
    )
    out.add("apigw_ws_messages", "chat message: in", sent * _messages(p.chat_command))
    out.add(
        "dynamodb_write_units",
        "chat message: PutItem",
        sent * metering.dynamodb_write_units(p.stored_item),
    )
    out.add("dynamodb_read_units", "chat message: room's connections Query", sent * roster_reads)
    out.add(
        "apigw_ws_messages",
        "chat message: PostToConnection to each member",
        sent * room * _messages(p.room_message),
    )

    pages = w.history_pages
    common.add_function(out, "history route", pages, assumptions.HISTORY_MS, memory)
    out.add("apigw_ws_messages", "history: command in", pages * _messages(p.history_command))
    history_reads = metering.dynamodb_read_units(p.history_read, consistent=True)
    out.add("dynamodb_read_units", "history: Query", pages * history_reads)
    out.add("apigw_ws_messages", "history: page out", pages * _messages(p.history_reply))

    common.add_message_storage(out, w, p.stored_item)
    common.add_site(out, w)
    return out
