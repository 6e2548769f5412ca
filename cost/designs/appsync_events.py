"""AWS AppSync Events: managed WebSocket channels, handlers, DynamoDB.

Chat messages are published to the room's channel; an onPublish handler stamps and
stores them through a DynamoDB data source and AppSync broadcasts them. Joins and
history go to a Lambda handler that answers on the user's own channel. AppSync Events
has no connect/disconnect events, so nobody publishes a roster when a user leaves: the
member list goes stale (a gap this design would have to fill with heartbeats).
"""

from __future__ import annotations

from cost import assumptions, metering, payloads
from cost.bill import Usage
from cost.designs import common
from cost.stack import load_stack
from cost.workload import Workload

NAME = "appsync"
TITLE = "AppSync Events"
DESCRIPTION = "AppSync Event API channels, handlers (DynamoDB, Lambda)"


def _ops(payload: bytes) -> int:
    return metering.appsync_operations(len(payload))


def usage(w: Workload) -> Usage:
    stack = load_stack(w.stream)
    memory = stack.memory_mb("ChatFunction")
    p = payloads.payloads(w.message_bytes, round(w.room_size))
    room = w.room_size
    out = Usage()
    connects = w.connects(assumptions.APPSYNC_CONNECTION_S)
    # Tokens are renewed as in this design; the authorizer's answer is cached per token.
    tokens = w.connects(stack.token_lifetime_s() * assumptions.TOKEN_RENEW_FRACTION)
    conn_writes = metering.dynamodb_write_units(p.connection_item)

    out.add("appsync_events_connection_minutes", "users online", w.connection_minutes)
    out.add("appsync_events_operations", "connect", connects)
    out.add("appsync_events_operations", "subscribe: room and own channel", 2 * connects)
    common.add_auth(
        out,
        w,
        tokens=tokens,
        authorizations=tokens,
        memory_mb=stack.memory_mb("AuthorizerFunction"),
    )

    joins = connects
    common.add_function(out, "command handler: join", joins, assumptions.JOIN_MS, memory)
    out.add("appsync_events_operations", "join: command published", joins * _ops(p.join_command))
    out.add(
        "dynamodb_write_units", "join: connections UpdateItem + room index", joins * 2 * conn_writes
    )
    backlog_reads = metering.dynamodb_read_units(p.backlog_read, consistent=True)
    out.add("dynamodb_read_units", "join: backlog Query", joins * backlog_reads)
    out.add(
        "appsync_events_operations",
        "join: backlog published + delivered",
        joins * 2 * _ops(p.backlog_reply),
    )
    roster_reads = metering.dynamodb_read_units(p.roster_read, consistent=False)
    out.add("dynamodb_read_units", "join: roster Query (room index)", joins * roster_reads)
    out.add(
        "appsync_events_operations",
        "join: roster published + delivered to each member",
        joins * (1 + room) * _ops(p.roster),
    )

    sent = w.chat_messages
    out.add("appsync_events_operations", "chat message: published", sent * _ops(p.chat_command))
    out.add(
        "dynamodb_write_units",
        "chat message: onPublish PutItem",
        sent * metering.dynamodb_write_units(p.stored_item),
    )
    out.add(
        "appsync_events_operations",
        "chat message: delivered to each member",
        sent * room * _ops(p.room_message),
    )

    pages = w.history_pages
    common.add_function(out, "command handler: history", pages, assumptions.HISTORY_MS, memory)
    out.add(
        "appsync_events_operations", "history: command published", pages * _ops(p.history_command)
    )
    history_reads = metering.dynamodb_read_units(p.history_read, consistent=True)
    out.add("dynamodb_read_units", "history: Query", pages * history_reads)
    out.add(
        "appsync_events_operations",
        "history: page published + delivered",
        pages * 2 * _ops(p.history_reply),
    )

    common.add_message_storage(out, w, p.stored_item)
    common.add_site(out, w)
    return out
