"""What the chat function does with one command, whichever rule delivered it.

``handle_payload`` is the single entry point for the route rule (one command per
invocation) and for each Kinesis record of the stream rule. It validates, acts, replies
to the client on ``<root>/in/<clientId>`` and publishes room traffic on
``<root>/pub/<room>``.

Client mistakes are answered with an ``error`` reply and never raise. Infrastructure
failures (DynamoDB, IoT data plane) do raise, so the caller can report the record as a
batch item failure (stream) or let Lambda retry (route).

Chat messages from the stream are published to their room and stored by the store rule
there, as the republish rule's are: the function never writes a message itself.
"""

from __future__ import annotations

import time
from typing import Any

from chatlib import connections, contract, messages, publisher
from chatlib.log import logger
from chatlib.validation import Command, ValidationError, parse_command, reply_client_id


def handle_payload(payload: Any) -> str:
    """Run one command. Returns a short outcome label (for logs and tests)."""
    try:
        command = parse_command(payload)
        return _dispatch(command)
    except ValidationError as exc:
        client_id = reply_client_id(payload.get("clientId")) if isinstance(payload, dict) else None
        kind = payload.get("type") if isinstance(payload, dict) else None
        logger.warning(
            "rejected command",
            extra={"reason": str(exc), "clientId": client_id, "commandType": str(kind)[:32]},
        )
        if client_id is not None:
            reply_error(client_id, str(exc))
        return "rejected"


def reply_error(client_id: str, message: str) -> None:
    """Send a bad_request reply; a failure to deliver it is logged, not raised (nothing
    would be gained by retrying a rejected command)."""
    try:
        publisher.to_client(client_id, publisher.error_reply(message))
    except Exception:
        logger.exception("could not deliver error reply", extra={"clientId": client_id})


def _dispatch(command: Command) -> str:
    if command.type == "join":
        return join(command)
    if command.type == "history":
        return history(command)
    if command.type == "leave":
        return leave(command)
    return message(command)


def publish_roster(
    room: str,
    *,
    include: connections.Member | None = None,
    exclude_client: str | None = None,
) -> None:
    read_at = int(time.time() * 1000)  # before the read: a later read has a later stamp
    members = connections.roster(room, include=include, exclude_client=exclude_client)
    publisher.to_room(room, connections.presence_payload(room, members, read_at))


def join(command: Command) -> str:
    assert command.name is not None
    result = connections.join(
        command.client_id, command.sender, command.room, command.name, command.ts
    )
    backlog = messages.page(command.room, contract.BACKLOG_SIZE)
    publisher.to_client(
        command.client_id,
        {
            "type": "backlog",
            "room": command.room,
            "messages": backlog.messages,
            "cursor": backlog.cursor,
        },
    )
    if not result.applied:
        logger.info("stale join ignored", extra={"clientId": command.client_id})
        return "join-stale"
    if result.previous_room and result.previous_room != command.room:
        publish_roster(result.previous_room, exclude_client=command.client_id)
    member = connections.Member(command.client_id, command.name, command.sender)
    publish_roster(command.room, include=member)
    return "joined"


def history(command: Command) -> str:
    before = None
    if command.before is not None:
        before = messages.decode_cursor(command.before, command.room)
    result = messages.page(command.room, contract.HISTORY_PAGE_SIZE, before)
    publisher.to_client(
        command.client_id,
        {
            "type": "history",
            "room": command.room,
            "messages": result.messages,
            "cursor": result.cursor,
        },
    )
    return "history"


def leave(command: Command) -> str:
    if not connections.leave(command.client_id, command.room, command.ts):
        return "leave-noop"
    publish_roster(command.room, exclude_client=command.client_id)
    return "left"


def message(command: Command) -> str:
    """A message from the stream: publish it to its room, where the store rule stores
    it like any other (one writer, one write). A record Kinesis delivers again is
    published again with the same id, ts and seq: it lands on the same item, and clients
    drop the repeat by id, as they do for MQTT's own redeliveries."""
    assert command.id is not None and command.name is not None and command.text is not None
    msg = messages.Message(
        id=command.id,
        ts=command.ts,
        room=command.room,
        name=command.name,
        text=command.text,
        sender=command.sender,
        client_id=command.client_id,
        seq=command.seq,
    )
    publisher.to_room(msg.room, msg.to_wire())
    return "published"
