"""The chat function: route-rule commands and the Kinesis consumer."""

from __future__ import annotations

import base64
import json
import time
import uuid
from types import SimpleNamespace
from typing import Any
from unittest.mock import ANY

import chat
import pytest
from botocore.exceptions import ClientError

from chatlib import aws, connections, contract, messages, publisher

from .conftest import MESSAGES_TABLE, REGION

T0 = 1_700_000_000_000


@pytest.fixture
def env(tables, published) -> SimpleNamespace:
    return SimpleNamespace(tables=tables, published=published)


def command(kind: str, client: str = "alice1-tab", **fields: Any) -> dict[str, Any]:
    """A command as the route rule delivers it: the client's JSON plus the rule stamps."""
    stamped = {"type": kind, "clientId": client, "sender": client.split("-")[0], "ts": T0}
    stamped.update(fields)
    return stamped


def route(context, payload: Any) -> dict[str, Any]:
    return chat.handler(payload, context)


def stream_message(n: int, room: str = "lobby", **fields: Any) -> dict[str, Any]:
    return command(
        "message",
        id=f"00000000-0000-0000-0000-{n:012d}",
        ts=T0 + n,
        room=room,
        name="Alice",
        text=f"message {n}",
        **fields,
    )


class Stream:
    """Builds Kinesis events like the event source mapping does."""

    def __init__(self) -> None:
        self.seq = 49590338271490256608559692538361571095921575989136588800

    def record(self, payload: Any) -> dict[str, Any]:
        self.seq += 1
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        room = payload.get("room", "x") if isinstance(payload, dict) else "x"
        return {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": str(room),
                "sequenceNumber": str(self.seq),
                "data": base64.b64encode(data).decode(),
                "approximateArrivalTimestamp": 1700000000.123,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"shardId-000000000000:{self.seq}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": "arn:aws:iam::123456789012:role/chat",
            "awsRegion": REGION,
            "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/chat",
        }

    def event(self, *payloads: Any) -> dict[str, Any]:
        return {"Records": [self.record(p) for p in payloads]}


@pytest.fixture
def stream() -> Stream:
    return Stream()


def stored_items(room: str = "lobby") -> list[dict[str, Any]]:
    table = aws.session().resource("dynamodb", region_name=REGION).Table(MESSAGES_TABLE)
    return table.query(KeyConditionExpression="room = :r", ExpressionAttributeValues={":r": room})[
        "Items"
    ]


def errors_for(published, client: str = "alice1-tab") -> list[dict[str, Any]]:
    return [p for p in published.on(f"chat/in/{client}") if p["type"] == "error"]


# -- the stream: messages -------------------------------------------------------------


def test_stream_message_is_published_for_the_store_rule(env, stream, context, store_rule) -> None:
    """The function publishes; the store rule on the room topic is the one writer."""
    result = chat.handler(stream.event(stream_message(1, seq=4)), context)
    assert result == {"batchItemFailures": []}
    assert stored_items() == []  # the function writes nothing itself
    wire = {
        "type": "message",
        "id": "00000000-0000-0000-0000-000000000001",
        "ts": T0 + 1,
        "seq": 4,
        "room": "lobby",
        "name": "Alice",
        "text": "message 1",
        "sender": "alice1",
        "clientId": "alice1-tab",
    }
    assert env.published.all() == [("chat/pub/lobby", wire)]
    item = store_rule.item("chat/pub/lobby", wire)
    assert item["sk"] == f"{T0 + 1:013d}#1000000004#00000000-0000-0000-0000-000000000001"
    assert item["sk"] == messages.sort_key(T0 + 1, 4, wire["id"])
    assert item["expiresAt"] == (T0 + 1) // 1000 + 7 * 86400


def test_same_millisecond_messages_both_published(env, stream, context) -> None:
    a = command("message", id="id-a", ts=T0, room="lobby", name="A", text="one")
    b = command("message", id="id-b", ts=T0, room="lobby", name="B", text="two")
    assert chat.handler(stream.event(a, b), context) == {"batchItemFailures": []}
    assert [m["text"] for m in env.published.on("chat/pub/lobby")] == ["one", "two"]


def test_replayed_record_is_published_as_the_same_message(env, stream, context) -> None:
    """At least once: a record delivered again is published again, with the same id, ts
    and seq, so the store rule writes the same item and clients drop it by id."""
    msg = stream_message(7)
    assert chat.handler(stream.event(msg, msg), context) == {"batchItemFailures": []}
    first, second = env.published.on("chat/pub/lobby")
    assert first == second


def test_publish_failure_is_reported_for_retry(env, stream, context, monkeypatch) -> None:
    real_to_room = publisher.to_room

    def failing(room: str, payload: dict[str, Any]) -> None:
        if payload.get("id") == "poison":
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "x"}}, "Publish")
        real_to_room(room, payload)

    monkeypatch.setattr(publisher, "to_room", failing)
    good1, good2 = stream_message(1), stream_message(2)
    poison = command("message", id="poison", ts=T0 + 5, room="lobby", name="A", text="boom")
    event = stream.event(good1, poison, good2)
    poison_seq = event["Records"][1]["kinesis"]["sequenceNumber"]

    assert chat.handler(event, context) == {"batchItemFailures": [{"itemIdentifier": poison_seq}]}
    assert [p["id"] for p in env.published.on("chat/pub/lobby")] == [good1["id"], good2["id"]]

    # Lambda retries from the poison record; once the data plane recovers it goes through.
    monkeypatch.setattr(publisher, "to_room", real_to_room)
    assert chat.handler({"Records": event["Records"][1:]}, context) == {"batchItemFailures": []}
    assert [p["id"] for p in env.published.on("chat/pub/lobby")][2:] == ["poison", good2["id"]]


def test_malformed_records_are_skipped_not_retried(env, stream, context) -> None:
    event = stream.event(
        b"this is not json",
        b"\xff\xfe\x00",
        ["a", "list"],
        {"no": "type"},
        command("message", id="x1", room="lobby", name="A", text="t" * (contract.TEXT_MAX + 1)),
        command("message", id="x2", room="bad room!", name="A", text="hi"),
        command("message", id="x3", room="lobby", name="", text="hi"),
        command("message", id="x4", room="lobby", name="n" * (contract.NAME_MAX + 1), text="hi"),
        command("message", id="x5", room="lobby", name="A", text=""),
        command("message", room="lobby", name="A", text="no id"),
        command("message", id="x6", room="lobby", name="A", text="hi", clientId=None),
        command("message", id="x7", room="lobby", name="A", text="hi", ts="yesterday"),
        command("teleport", room="lobby"),
        stream_message(9),
    )
    assert chat.handler(event, context) == {"batchItemFailures": []}
    assert [m["id"] for m in env.published.on("chat/pub/lobby")] == [stream_message(9)["id"]]
    # Every invalid command with a usable clientId got an error reply (x6 had none).
    errors = errors_for(env.published)
    assert len(errors) == 8
    assert all(e["code"] == "bad_request" and e["message"] for e in errors)


def test_text_at_the_limit_is_accepted(env, stream, context) -> None:
    msg = command("message", id="big", room="lobby", name="A", text="t" * contract.TEXT_MAX)
    chat.handler(stream.event(msg), context)
    assert env.published.on("chat/pub/lobby")[0]["text"] == "t" * contract.TEXT_MAX


def test_join_via_stream(env, stream, context) -> None:
    chat.handler(stream.event(command("join", room="lobby", name="Alice")), context)
    assert env.published.on("chat/in/alice1-tab")[0]["type"] == "backlog"


# -- the route rule: join / history / leave -------------------------------------------


def wire(n: int, room: str = "lobby", **fields: Any) -> dict[str, Any]:
    """Message n as the republish rule publishes it."""
    return {
        "type": "message",
        "id": f"00000000-0000-0000-0000-{n:012d}",
        "ts": T0 + n,
        "seq": 0,
        "room": room,
        "name": "Alice",
        "text": f"message {n}",
        "sender": "alice1",
        "clientId": "alice1-tab",
        **fields,
    }


def seed(store_rule, count: int, room: str = "lobby") -> list[dict[str, Any]]:
    """Messages 1..count, stored by the store rule as on AWS."""
    sent = [wire(n, room=room) for n in range(1, count + 1)]
    for message in sent:
        store_rule.store(f"chat/pub/{room}", message)
    return sent


def test_join_replies_backlog_and_publishes_presence(env, store_rule, context) -> None:
    seed(store_rule, 60)
    env.published.clear()
    result = route(context, command("join", room="lobby", name="Alice", ts=T0 + 1000))
    assert result == {"outcome": "joined"}

    (backlog,) = env.published.on("chat/in/alice1-tab")
    assert backlog["type"] == "backlog"
    assert backlog["room"] == "lobby"
    assert [m["text"] for m in backlog["messages"]] == [
        f"message {n}" for n in range(11, 61)
    ]  # the newest BACKLOG_SIZE, oldest first
    assert len(backlog["messages"]) == contract.BACKLOG_SIZE
    assert backlog["messages"][0] == wire(11)
    assert isinstance(backlog["cursor"], str)

    assert env.published.on("chat/pub/lobby") == [
        {
            "type": "presence",
            "room": "lobby",
            "members": [{"name": "Alice", "sender": "alice1"}],
            "at": ANY,
        }
    ]
    # The order: the backlog reply first, then the presence.
    assert [t for t, _ in env.published.all()] == ["chat/in/alice1-tab", "chat/pub/lobby"]


def test_join_empty_room(env, context) -> None:
    route(context, command("join", room="empty", name="Alice"))
    (backlog,) = env.published.on("chat/in/alice1-tab")
    assert backlog == {"type": "backlog", "room": "empty", "messages": [], "cursor": None}


def test_join_exactly_backlog_size_has_no_cursor(env, store_rule, context) -> None:
    seed(store_rule, contract.BACKLOG_SIZE)
    env.published.clear()
    route(context, command("join", room="lobby", name="Alice", ts=T0 + 1000))
    (backlog,) = env.published.on("chat/in/alice1-tab")
    assert len(backlog["messages"]) == contract.BACKLOG_SIZE
    assert backlog["cursor"] is None


def test_presence_lists_every_member(env, context) -> None:
    route(context, command("join", "bob1-x", room="lobby", name="Bob", ts=T0))
    route(context, command("join", "alice1-tab", room="lobby", name="Alice", ts=T0 + 1))
    route(context, command("join", "carol1-y", room="other", name="Carol", ts=T0 + 2))
    last = env.published.on("chat/pub/lobby")[-1]
    assert last["members"] == [
        {"name": "Alice", "sender": "alice1"},
        {"name": "Bob", "sender": "bob1"},
    ]


def test_switching_rooms_updates_both_rosters(env, context) -> None:
    route(context, command("join", "bob1-x", room="lobby", name="Bob", ts=T0))
    route(context, command("join", room="lobby", name="Alice", ts=T0 + 1))
    env.published.clear()
    route(context, command("join", room="games", name="Alice", ts=T0 + 2))
    assert env.published.on("chat/pub/lobby") == [
        {
            "type": "presence",
            "room": "lobby",
            "members": [{"name": "Bob", "sender": "bob1"}],
            "at": ANY,
        }
    ]
    assert env.published.on("chat/pub/games")[-1]["members"] == [
        {"name": "Alice", "sender": "alice1"}
    ]


def test_history_pages_through_120_messages(env, store_rule, context) -> None:
    sent = seed(store_rule, 120)
    env.published.clear()
    route(context, command("join", room="lobby", name="Alice", ts=T0 + 1000))
    backlog = env.published.on("chat/in/alice1-tab")[0]
    pages = [backlog["messages"]]
    cursor = backlog["cursor"]
    while cursor is not None:
        env.published.clear()
        route(context, command("history", room="lobby", before=cursor, ts=T0 + 2000))
        (reply,) = env.published.on("chat/in/alice1-tab")
        assert reply["type"] == "history" and reply["room"] == "lobby"
        pages.append(reply["messages"])
        cursor = reply["cursor"]
        assert len(pages) < 10

    assert [len(p) for p in pages] == [50, 50, 20]
    seen = [m["id"] for page in reversed(pages) for m in page]
    assert seen == [m["id"] for m in sent]  # every message once, in order
    for page in pages:
        assert [m["ts"] for m in page] == sorted(m["ts"] for m in page)


def test_history_without_cursor_is_the_newest_page(env, store_rule, context) -> None:
    seed(store_rule, 3)
    env.published.clear()
    route(context, command("history", room="lobby", before=None))
    (reply,) = env.published.on("chat/in/alice1-tab")
    assert [m["text"] for m in reply["messages"]] == ["message 1", "message 2", "message 3"]
    assert reply["cursor"] is None


def test_history_same_millisecond_pages_lose_nothing(env, store_rule, context) -> None:
    for n in range(75):
        store_rule.store("chat/pub/lobby", wire(n, id=f"id{n:03d}", ts=T0))
    env.published.clear()
    route(context, command("join", room="lobby", name="A", ts=T0 + 1))
    first = env.published.on("chat/in/alice1-tab")[0]
    route(context, command("history", room="lobby", before=first["cursor"], ts=T0 + 2))
    second = env.published.on("chat/in/alice1-tab")[1]
    ids = [m["id"] for m in second["messages"] + first["messages"]]
    assert ids == [f"id{n:03d}" for n in range(75)]
    assert second["cursor"] is None


def test_a_burst_of_120_in_one_millisecond_pages_back_in_order(env, store_rule, context) -> None:
    """One client's burst stamped in the same millisecond (random ids, as newuuid()
    gives): every page, and the pages together, keep the order it was sent in."""
    burst = [wire(0, id=str(uuid.uuid4()), ts=T0, seq=n, text=f"burst {n}") for n in range(120)]
    for message in burst:
        store_rule.store("chat/pub/lobby", message)
    route(context, command("join", room="lobby", name="Late", ts=T0 + 5))
    reply = env.published.on("chat/in/alice1-tab")[0]
    pages = [reply["messages"]]
    while reply["cursor"] is not None:
        env.published.clear()
        route(context, command("history", room="lobby", before=reply["cursor"], ts=T0 + 6))
        (reply,) = env.published.on("chat/in/alice1-tab")
        pages.insert(0, reply["messages"])
    assert [m["text"] for page in pages for m in page] == [f"burst {n}" for n in range(120)]


def test_a_room_of_50_emoji_messages_pages_back_through_every_one(env, store_rule, context) -> None:
    """50 messages of 2,000 emoji are 400 KB: every reply stays within AWS IoT's 128 KB
    and the cursors lead through all of them, in order."""
    sent = [wire(n, text="\U0001f600" * contract.TEXT_MAX) for n in range(1, 51)]
    for message in sent:
        store_rule.store("chat/pub/lobby", message)
    route(context, command("join", room="lobby", name="Late", ts=T0 + 1000))
    replies = [env.published.on("chat/in/alice1-tab")[0]]
    while replies[-1]["cursor"] is not None and len(replies) < 20:
        env.published.clear()
        route(context, command("history", room="lobby", before=replies[-1]["cursor"]))
        replies += env.published.on("chat/in/alice1-tab")
    for reply in replies:
        assert len(publisher.encode(reply)) <= contract.REPLY_MAX_BYTES
    assert replies[0]["type"] == "backlog" and 0 < len(replies[0]["messages"]) < 50
    seen = [m["id"] for reply in reversed(replies) for m in reply["messages"]]
    assert seen == [m["id"] for m in sent]


@pytest.mark.parametrize(
    "before",
    [
        "not-a-cursor",
        "",
        "!!!",
        12,
        {"sk": "x"},
        "x" * 1000,
        messages.encode_cursor("other", f"{T0:013d}#1000000000#abc"),  # another room's
        messages.encode_cursor("lobby", "12#abc"),
        base64.urlsafe_b64encode(b"\xff\xfe|x").decode().rstrip("="),
    ],
)
def test_bad_cursor_is_a_bad_request(env, context, before) -> None:
    route(context, command("history", room="lobby", before=before))
    (reply,) = env.published.on("chat/in/alice1-tab")
    assert reply["type"] == "error" and reply["code"] == "bad_request"


def test_leave_publishes_presence_without_the_client(env, context) -> None:
    route(context, command("join", "bob1-x", room="lobby", name="Bob", ts=T0))
    route(context, command("join", room="lobby", name="Alice", ts=T0 + 1))
    env.published.clear()
    assert route(context, command("leave", room="lobby", ts=T0 + 2)) == {"outcome": "left"}
    assert env.published.all() == [
        (
            "chat/pub/lobby",
            {
                "type": "presence",
                "room": "lobby",
                "members": [{"name": "Bob", "sender": "bob1"}],
                "at": ANY,
            },
        )
    ]
    # Leaving again (or a room one is not in) changes nothing and publishes nothing.
    env.published.clear()
    assert route(context, command("leave", room="lobby", ts=T0 + 3)) == {"outcome": "leave-noop"}
    assert route(context, command("leave", room="games", ts=T0 + 3)) == {"outcome": "leave-noop"}
    assert env.published.all() == []


def test_late_leave_does_not_undo_a_newer_join(env, context) -> None:
    route(context, command("join", room="lobby", name="Alice", ts=T0 + 10))
    assert route(context, command("leave", room="lobby", ts=T0 + 5)) == {"outcome": "leave-noop"}
    route(context, command("join", "bob1-x", room="lobby", name="Bob", ts=T0 + 20))
    assert env.published.on("chat/pub/lobby")[-1]["members"] == [
        {"name": "Alice", "sender": "alice1"},
        {"name": "Bob", "sender": "bob1"},
    ]


def test_late_join_does_not_undo_a_newer_join(env, context) -> None:
    route(context, command("join", room="games", name="Alice", ts=T0 + 10))
    assert route(context, command("join", room="lobby", name="Alice", ts=T0 + 5)) == {
        "outcome": "join-stale"
    }
    route(context, command("join", "bob1-x", room="lobby", name="Bob", ts=T0 + 20))
    assert env.published.on("chat/pub/lobby")[-1]["members"] == [{"name": "Bob", "sender": "bob1"}]


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (command("teleport", room="lobby"), "type"),
        (command("join", room="no spaces", name="A"), "room"),
        (command("join", room="x" * 65, name="A"), "room"),
        (command("join", room="lobby/sub", name="A"), "room"),
        (command("join", room="lobby\n", name="A"), "room"),
        (command("join", room=None, name="A"), "room"),
        (command("join", room="lobby"), "name"),
        (command("join", room="lobby", name=""), "name"),
        (command("join", room="lobby", name="A\x00"), "name"),
        (command("join", room="lobby", name="n" * 41), "name"),
        (command("leave"), "room"),
        (command("history", room="lobby", before=5), "before"),
        (command("join", room="lobby", name="A", ts=None), "ts"),
        (command("join", room="lobby", name="A", ts=True), "ts"),
        (command("join", room="lobby", name="A", sender=None), "sender"),
        ({"clientId": "alice1-tab", "sender": "alice1", "ts": T0}, "type"),
        ({"type": 5, "clientId": "alice1-tab"}, "type"),
    ],
)
def test_bad_commands_get_an_error_reply(env, context, payload, fragment) -> None:
    assert route(context, payload) == {"outcome": "rejected"}
    (reply,) = env.published.on("chat/in/alice1-tab")
    assert reply["type"] == "error"
    assert reply["code"] == "bad_request"
    assert fragment in reply["message"]
    assert [t for t, _ in env.published.all()] == ["chat/in/alice1-tab"]


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "join",
        42,
        {},
        command("teleport", clientId=None),
        command("join", room="bad room", clientId="evil/../x"),
        command("join", room="bad room", clientId="wild+card"),
        command("join", room="bad room", clientId="#"),
        command("join", room="bad room", clientId=""),
    ],
)
def test_commands_without_usable_client_id_do_not_crash_or_reply(env, context, payload) -> None:
    assert route(context, payload) == {"outcome": "rejected"}
    assert env.published.all() == []


def test_topic_root_from_environment(env, stream, context, monkeypatch) -> None:
    monkeypatch.setenv("TOPIC_ROOT", "acme")
    chat.handler(stream.event(stream_message(1)), context)
    route(context, command("join", room="lobby", name="Alice", ts=T0 + 10))
    assert [t for t, _ in env.published.all()] == [
        "acme/pub/lobby",
        "acme/in/alice1-tab",
        "acme/pub/lobby",
    ]


def test_dynamodb_failure_on_route_raises_for_lambda_retry(env, context, monkeypatch) -> None:
    monkeypatch.setenv("CONNECTIONS_TABLE", "missing-table")
    with pytest.raises(ClientError):
        route(context, command("join", room="lobby", name="Alice"))


def test_failed_error_reply_does_not_raise(env, context, monkeypatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalFailure", "Message": "x"}}, "Publish")

    monkeypatch.setattr(publisher, "publish", broken)
    assert route(context, command("teleport", room="lobby")) == {"outcome": "rejected"}


def test_empty_kinesis_batch(env, context) -> None:
    assert chat.handler({"Records": []}, context) == {"batchItemFailures": []}


def test_rosters_carry_when_they_were_read(env, context) -> None:
    """Clients keep the newest roster by `at`, whichever function published it last."""
    before = int(time.time() * 1000)
    route(context, command("join", room="lobby", name="Alice", ts=T0))
    route(context, command("join", "bob1-x", room="lobby", name="Bob", ts=T0 + 1))
    first, second = env.published.on("chat/pub/lobby")
    assert before <= first["at"] <= second["at"] <= int(time.time() * 1000)


def test_a_roster_too_big_for_one_publish_says_how_many_more() -> None:
    members = [{"name": f"{n:04d}" + "\u674e" * 36, "sender": f"p{n:031d}"} for n in range(3000)]
    payload = connections.presence_payload("lobby", members, T0)
    assert len(publisher.encode(payload)) <= contract.REPLY_MAX_BYTES
    kept = len(payload["members"])
    assert payload["members"] == members[:kept] and payload["more"] == 3000 - kept > 0
    assert "more" not in connections.presence_payload("lobby", members[:10], T0)
