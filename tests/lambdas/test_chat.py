"""The chat function: route-rule commands and the Kinesis consumer."""

from __future__ import annotations

import base64
import json
import time
from types import SimpleNamespace
from typing import Any
from unittest.mock import ANY

import chat
import pytest
from botocore.exceptions import ClientError

from chatlib import aws, limits, messages, publisher

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


def test_stream_message_is_stored_and_published(env, stream, context) -> None:
    result = chat.handler(stream.event(stream_message(1)), context)
    assert result == {"batchItemFailures": []}
    (item,) = stored_items()
    assert item == {
        "room": "lobby",
        "sk": f"{T0 + 1:013d}#00000000-0000-0000-0000-000000000001",
        "id": "00000000-0000-0000-0000-000000000001",
        "ts": T0 + 1,
        "name": "Alice",
        "text": "message 1",
        "sender": "alice1",
        "clientId": "alice1-tab",
        "expiresAt": (T0 + 1) // 1000 + 7 * 86400,
        "type": "message",
    }
    assert env.published.all() == [
        (
            "chat/pub/lobby",
            {
                "type": "message",
                "id": "00000000-0000-0000-0000-000000000001",
                "ts": T0 + 1,
                "room": "lobby",
                "name": "Alice",
                "text": "message 1",
                "sender": "alice1",
                "clientId": "alice1-tab",
            },
        )
    ]


def test_retention_days_from_environment(env, stream, context, monkeypatch) -> None:
    monkeypatch.setenv("MESSAGE_RETENTION_DAYS", "30")
    chat.handler(stream.event(stream_message(1)), context)
    assert stored_items()[0]["expiresAt"] == (T0 + 1) // 1000 + 30 * 86400


def test_same_millisecond_messages_both_stored(env, stream, context) -> None:
    a = command("message", id="id-a", ts=T0, room="lobby", name="A", text="one")
    b = command("message", id="id-b", ts=T0, room="lobby", name="B", text="two")
    assert chat.handler(stream.event(a, b), context) == {"batchItemFailures": []}
    assert sorted(i["text"] for i in stored_items()) == ["one", "two"]
    assert len(env.published.on("chat/pub/lobby")) == 2


def test_duplicated_record_is_stored_and_published_once(env, stream, context) -> None:
    msg = stream_message(7)
    # Twice in one batch, then replayed in a later batch (as after a retry).
    assert chat.handler(stream.event(msg, msg), context) == {"batchItemFailures": []}
    assert chat.handler(stream.event(msg), context) == {"batchItemFailures": []}
    assert len(stored_items()) == 1
    assert len(env.published.on("chat/pub/lobby")) == 1


def test_poison_record_reported_alone(env, stream, context, monkeypatch) -> None:
    real_store = messages.store

    def failing_store(message: messages.Message) -> bool:
        if message.id == "poison":
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}},
                "PutItem",
            )
        return real_store(message)

    monkeypatch.setattr(messages, "store", failing_store)
    good1, good2 = stream_message(1), stream_message(2)
    poison = command("message", id="poison", ts=T0 + 5, room="lobby", name="A", text="boom")
    event = stream.event(good1, poison, good2)
    poison_seq = event["Records"][1]["kinesis"]["sequenceNumber"]

    result = chat.handler(event, context)

    assert result == {"batchItemFailures": [{"itemIdentifier": poison_seq}]}
    assert sorted(i["id"] for i in stored_items()) == [good1["id"], good2["id"]]
    assert [p["id"] for p in env.published.on("chat/pub/lobby")] == [good1["id"], good2["id"]]

    # Lambda retries from the poison record: the good one after it is replayed, and is
    # neither stored nor published twice; once DynamoDB recovers, the poison goes through.
    monkeypatch.setattr(messages, "store", real_store)
    retry = {"Records": event["Records"][1:]}
    assert chat.handler(retry, context) == {"batchItemFailures": []}
    assert len(stored_items()) == 3
    assert [p["id"] for p in env.published.on("chat/pub/lobby")] == [
        good1["id"],
        good2["id"],
        "poison",
    ]


def test_publish_failure_is_retried_without_loss_or_duplicate(
    env, stream, context, monkeypatch
) -> None:
    real_to_room = publisher.to_room
    calls = {"n": 0}

    def flaky(room: str, payload: dict[str, Any]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "x"}}, "Publish")
        real_to_room(room, payload)

    monkeypatch.setattr(publisher, "to_room", flaky)
    event = stream.event(stream_message(1))
    seq = event["Records"][0]["kinesis"]["sequenceNumber"]
    assert chat.handler(event, context) == {"batchItemFailures": [{"itemIdentifier": seq}]}
    assert stored_items() == []  # undone, so the retry stores and publishes it
    assert chat.handler(event, context) == {"batchItemFailures": []}
    assert len(stored_items()) == 1
    assert len(env.published.on("chat/pub/lobby")) == 1


def test_malformed_records_are_skipped_not_retried(env, stream, context) -> None:
    event = stream.event(
        b"this is not json",
        b"\xff\xfe\x00",
        ["a", "list"],
        {"no": "type"},
        command("message", id="x1", room="lobby", name="A", text="t" * (limits.TEXT_MAX + 1)),
        command("message", id="x2", room="bad room!", name="A", text="hi"),
        command("message", id="x3", room="lobby", name="", text="hi"),
        command("message", id="x4", room="lobby", name="n" * (limits.NAME_MAX + 1), text="hi"),
        command("message", id="x5", room="lobby", name="A", text=""),
        command("message", room="lobby", name="A", text="no id"),
        command("message", id="x6", room="lobby", name="A", text="hi", clientId=None),
        command("message", id="x7", room="lobby", name="A", text="hi", ts="yesterday"),
        command("teleport", room="lobby"),
        stream_message(9),
    )
    assert chat.handler(event, context) == {"batchItemFailures": []}
    assert [i["id"] for i in stored_items()] == [stream_message(9)["id"]]
    assert len(env.published.on("chat/pub/lobby")) == 1
    # Every invalid command with a usable clientId got an error reply (x6 had none).
    errors = errors_for(env.published)
    assert len(errors) == 8
    assert all(e["code"] == "bad_request" and e["message"] for e in errors)


def test_text_at_the_limit_is_accepted(env, stream, context) -> None:
    msg = command("message", id="big", room="lobby", name="A", text="t" * limits.TEXT_MAX)
    chat.handler(stream.event(msg), context)
    assert stored_items()[0]["text"] == "t" * limits.TEXT_MAX


def test_join_via_stream(env, stream, context) -> None:
    chat.handler(stream.event(command("join", room="lobby", name="Alice")), context)
    assert env.published.on("chat/in/alice1-tab")[0]["type"] == "backlog"


# -- the route rule: join / history / leave -------------------------------------------


def seed(stream: Stream, context, count: int, room: str = "lobby") -> list[dict[str, Any]]:
    sent = [stream_message(n, room=room) for n in range(1, count + 1)]
    for start in range(0, count, 100):
        result = chat.handler(stream.event(*sent[start : start + 100]), context)
        assert result == {"batchItemFailures": []}
    return sent


def test_join_replies_backlog_and_publishes_presence(env, stream, context) -> None:
    seed(stream, context, 60)
    env.published.clear()
    result = route(context, command("join", room="lobby", name="Alice", ts=T0 + 1000))
    assert result == {"outcome": "joined"}

    (backlog,) = env.published.on("chat/in/alice1-tab")
    assert backlog["type"] == "backlog"
    assert backlog["room"] == "lobby"
    assert [m["text"] for m in backlog["messages"]] == [
        f"message {n}" for n in range(11, 61)
    ]  # the newest BACKLOG_SIZE, oldest first
    assert len(backlog["messages"]) == limits.BACKLOG_SIZE
    assert backlog["messages"][0] == {
        "type": "message",
        "id": "00000000-0000-0000-0000-000000000011",
        "ts": T0 + 11,
        "room": "lobby",
        "name": "Alice",
        "text": "message 11",
        "sender": "alice1",
        "clientId": "alice1-tab",
    }
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


def test_join_exactly_backlog_size_has_no_cursor(env, stream, context) -> None:
    seed(stream, context, limits.BACKLOG_SIZE)
    env.published.clear()
    route(context, command("join", room="lobby", name="Alice", ts=T0 + 1000))
    (backlog,) = env.published.on("chat/in/alice1-tab")
    assert len(backlog["messages"]) == limits.BACKLOG_SIZE
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


def test_history_pages_through_120_messages(env, stream, context) -> None:
    sent = seed(stream, context, 120)
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


def test_history_without_cursor_is_the_newest_page(env, stream, context) -> None:
    seed(stream, context, 3)
    env.published.clear()
    route(context, command("history", room="lobby", before=None))
    (reply,) = env.published.on("chat/in/alice1-tab")
    assert [m["text"] for m in reply["messages"]] == ["message 1", "message 2", "message 3"]
    assert reply["cursor"] is None


def test_history_same_millisecond_pages_lose_nothing(env, stream, context) -> None:
    burst = [
        command("message", id=f"id{n:03d}", ts=T0, room="lobby", name="A", text=str(n))
        for n in range(75)
    ]
    chat.handler(stream.event(*burst), context)
    env.published.clear()
    route(context, command("join", room="lobby", name="A", ts=T0 + 1))
    first = env.published.on("chat/in/alice1-tab")[0]
    route(context, command("history", room="lobby", before=first["cursor"], ts=T0 + 2))
    second = env.published.on("chat/in/alice1-tab")[1]
    ids = [m["id"] for m in second["messages"] + first["messages"]]
    assert ids == [f"id{n:03d}" for n in range(75)]
    assert second["cursor"] is None


@pytest.mark.parametrize(
    "before",
    [
        "not-a-cursor",
        "",
        "!!!",
        12,
        {"sk": "x"},
        "x" * 1000,
        messages.encode_cursor("other", f"{T0:013d}#abc"),  # made for another room
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
