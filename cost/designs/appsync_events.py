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


def usage(w: Workload) -> Usage:
    stack = load_stack(w.stream)
    memory = stack.memory_mb("ChatFunction")
    p = payloads.payloads(w.message_bytes, round(w.room_size))
    out = Usage()
    connects = w.connects(assumptions.APPSYNC_CONNECTION_S)
    # Tokens are renewed as in this design; the authorizer's answer is cached per token.
    tokens = w.connects(stack.token_lifetime_s() * assumptions.TOKEN_RENEW_FRACTION)

    def operations(label: str, count: float, payload: bytes) -> None:
        """Publishes or deliveries, each metered in 5 KB increments (assumed)."""
        out.add(
            "appsync_events_operations", label, count * metering.appsync_operations(len(payload))
        )

    out.add("appsync_events_connection_minutes", "users online", w.connection_minutes)
    out.add("appsync_events_operations", "connect", connects)
    out.add("appsync_events_operations", "subscribe: room and own channel", 2 * connects)
    auth_mb = stack.memory_mb("AuthorizerFunction")
    common.add_auth(out, w, tokens=tokens, authorizations=tokens, memory_mb=auth_mb)

    joins = connects
    common.add_function(out, "command handler: join", joins, assumptions.JOIN_MS, memory)
    operations("join: command published", joins, p.join_command)
    common.connection_write(out, "join", joins, p, index=True)
    common.page_query(out, "join: backlog", joins, p.backlog_read)
    operations("join: backlog published + delivered", 2 * joins, p.backlog_reply)
    common.roster_query(out, "join: roster", joins, p)
    operations(
        "join: roster published + delivered to each member", joins * (1 + w.room_size), p.roster
    )

    sent = w.chat_messages
    operations("chat message: published", sent, p.chat_command)
    common.message_put(out, "chat message: onPublish", sent, p)
    operations("chat message: delivered to each member", sent * w.room_size, p.room_message)

    pages = w.history_pages
    common.add_function(out, "command handler: history", pages, assumptions.HISTORY_MS, memory)
    operations("history: command published", pages, p.history_command)
    common.page_query(out, "history", pages, p.history_read)
    operations("history: page published + delivered", 2 * pages, p.history_reply)

    common.add_message_storage(out, w, p.stored_item)
    common.add_site(out, w)
    return out
