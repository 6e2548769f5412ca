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
import uuid
from typing import Any

from chatlib import connections, contract, messages, people, publisher
from chatlib.log import logger
from chatlib.policy import MAX_PRIVATE_ROOMS
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
    if command.private and command.type in (
        "join",
        "history",
        "message",
        "typing",
        "edit",
        "delete",
    ):
        _require_member(command.sender, command.room)
    handlers = {
        "join": join,
        "history": history,
        "leave": leave,
        "message": message,
        "dm": direct_message,
        "typing": typing,
        "edit": edit,
        "delete": delete,
        "create": create,
        "invite": invite,
        "remove": remove,
    }
    return handlers[command.type](command)


def _require_member(principal: str, room: str) -> None:
    if not people.is_member(principal, room):
        raise ValidationError("you are not a member of this private room")


def _partition(command: Command) -> str:
    """Where a room's messages are stored."""
    return messages.private_key(command.room) if command.private else command.room


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
    people.record_user(command.sender, command.name, command.ts)
    if command.private:
        # No roster for a private room: presence goes to public topics.
        send_page(command, "backlog", contract.BACKLOG_SIZE)
        return "joined-private"
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


def send_page(command: Command, kind: str, size: int) -> None:
    """A backlog or history page of a private room or a conversation to the client."""
    if command.to is not None:
        partition = messages.conversation(command.sender, command.to)
        where: dict[str, Any] = {"with": command.to}
    else:
        partition = _partition(command)
        where = {"room": command.room, "private": True} if command.private else {}
        where.setdefault("room", command.room)
    before = None
    if command.before is not None:
        before = messages.decode_cursor(command.before, partition)
    result = messages.page(partition, size, before)
    publisher.to_client(
        command.client_id,
        {"type": kind, **where, "messages": result.messages, "cursor": result.cursor},
    )


def history(command: Command) -> str:
    """A page of a room's, a private room's or a conversation's history. A conversation
    is always the caller's own with ``with``: no one pages another pair's."""
    send_page(command, "history", contract.HISTORY_PAGE_SIZE)
    return "history"


def leave(command: Command) -> str:
    if not connections.leave(command.client_id, command.room, command.ts):
        return "leave-noop"
    publish_roster(command.room, exclude_client=command.client_id)
    return "left"


def private_message(command: Command) -> str:
    """A member's message to a private room: stored, then published to its members."""
    assert command.name is not None and command.text is not None
    msg = messages.ChatMessage(
        id=str(uuid.uuid4()),
        ts=command.ts,
        room=command.room,
        name=command.name,
        text=command.text,
        sender=command.sender,
        client_id=command.client_id,
        seq=command.seq,
    )
    wire = msg.to_wire()
    messages.store(messages.private_key(command.room), wire)
    publisher.to_any_room(command.room, True, wire)
    return "published-private"


def direct_message(command: Command) -> str:
    """A DM: stored under the pair's conversation, then sent to both user topics (every
    device of the recipient and of the sender)."""
    assert command.to is not None and command.name is not None and command.text is not None
    if command.to == command.sender:
        raise ValidationError("you cannot send a direct message to yourself")
    if people.profile_name(command.to) is None:
        raise ValidationError(f"no user {command.to} (they must have joined the chat)")
    dm = {
        "type": "dm",
        "id": str(uuid.uuid4()),
        "ts": command.ts,
        "sender": command.sender,
        "clientId": command.client_id,
        "to": command.to,
        "name": command.name,
        "text": command.text,
    }
    messages.store_dm(dm)
    publisher.to_user(command.to, dm)
    publisher.to_user(command.sender, dm)
    return "dm"


def typing(command: Command) -> str:
    """A typing signal, never stored: a private room's (after the membership check), or
    one sent on the stream (a public room's on <root>/out takes the republish rule)."""
    publisher.to_any_room(
        command.room,
        command.private,
        {
            "type": "typing",
            "room": command.room,
            "name": command.name,
            "sender": command.sender,
            "ts": command.ts,
        },
    )
    return "typing"


def edit(command: Command) -> str:
    assert command.id is not None and command.text is not None
    messages.edit(_partition(command), command.id, command.sender, command.text, command.ts)
    publisher.to_any_room(
        command.room,
        command.private,
        {
            "type": "edit",
            "room": command.room,
            "id": command.id,
            "text": command.text,
            "editedAt": command.ts,
        },
    )
    return "edited"


def delete(command: Command) -> str:
    assert command.id is not None
    messages.delete(_partition(command), command.id, command.sender, command.ts)
    publisher.to_any_room(
        command.room,
        command.private,
        {"type": "delete", "room": command.room, "id": command.id, "deletedAt": command.ts},
    )
    return "deleted"


def _check_room_count(principal: str) -> None:
    if len(people.memberships(principal)) >= MAX_PRIVATE_ROOMS:
        raise ValidationError(f"a user can belong to at most {MAX_PRIVATE_ROOMS} private rooms")


def create(command: Command) -> str:
    assert command.title is not None and command.name is not None
    _check_room_count(command.sender)
    people.record_user(command.sender, command.name, command.ts)
    room = people.create_room(command.sender, command.title)
    publisher.to_user(command.sender, {"type": "created", "room": room.id, "title": room.title})
    return "created"


def _owned(command: Command) -> people.Room:
    room = people.room(command.room)
    if room is None or room.owner != command.sender:
        raise ValidationError("only the owner of this private room can do that")
    return room


def invite(command: Command) -> str:
    """Add a member; its pages reconnect on ``invited`` and get a policy with the room."""
    assert command.member is not None
    room = _owned(command)
    if people.profile_name(command.member) is None:
        raise ValidationError(f"no user {command.member} (they must have joined the chat)")
    _check_room_count(command.member)
    added = people.add_member(room, command.member)
    if added:
        publisher.to_user(
            command.member,
            {"type": "invited", "room": room.id, "title": room.title, "by": command.sender},
        )
    _done(command, changed=added)
    return "invited" if added else "invite-noop"


def _done(command: Command, *, changed: bool) -> None:
    """The owner's page or client learns the invite or removal went through."""
    publisher.to_client(
        command.client_id,
        {
            "type": "done",
            "command": command.type,
            "room": command.room,
            "member": command.member,
            "changed": changed,
        },
    )


def remove(command: Command) -> str:
    """End a membership, tell the member, and close its connections (DeleteConnection):
    they reconnect, and the authorizer's new policy no longer has the room."""
    assert command.member is not None
    room = _owned(command)
    if command.member == room.owner:
        raise ValidationError("the owner cannot be removed from their room")
    if not people.remove_member(room.id, command.member):
        _done(command, changed=False)
        return "remove-noop"
    publisher.to_user(command.member, {"type": "removed", "room": room.id})
    for client_id in connections.clients_of(command.member):
        publisher.disconnect(client_id)
    _done(command, changed=True)
    return "removed"


def message(command: Command) -> str:
    """A message from the stream: publish it to its room, where the store rule stores
    it like any other (one writer, one write). A record Kinesis delivers again is
    published again with the same id, ts and seq: it lands on the same item, and clients
    drop the repeat by id, as they do for MQTT's own redeliveries."""
    if command.private:
        return private_message(command)
    assert command.id is not None and command.name is not None and command.text is not None
    msg = messages.ChatMessage(
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
