"""The whole chat on the emulator, with real MQTT clients: the happy paths.

Everything here goes through `python -m emulator` on loopback ports: guest tokens from
the token function, the custom authorizer, the rules, the functions, moto.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.support.chat import (
    is_message,
    stored_messages,
    unique_room,
    wait_roster,
    wait_stored,
)

pytestmark = pytest.mark.integration


def test_two_clients_chat_and_another_room_hears_nothing(emulator, connect) -> None:
    room = unique_room()
    alice = connect("Alice", room)
    bob = connect("Bob", room)
    carol_room = unique_room()
    carol = connect("Carol", carol_room)

    alice.publish("chat/out", {"type": "message", "room": room, "name": "Alice", "text": "hi"})
    _, got = bob.wait_for(is_message("hi"))
    bob.publish("chat/out", {"type": "message", "room": room, "name": "Bob", "text": "hello"})
    alice.wait_for(is_message("hello"))

    # Stamped by the rule, never taken from the client.
    assert got["clientId"] == alice.client_id
    assert alice.client_id.startswith(got["sender"] + "-")
    uuid.UUID(got["id"])
    assert abs(got["ts"] - time.time() * 1000) < 10_000
    assert {k: got[k] for k in ("room", "name", "text")} == {
        "room": room,
        "name": "Alice",
        "text": "hi",
    }

    stored = wait_stored(emulator, room, 2)
    assert sorted(m["text"] for m in stored) == ["hello", "hi"]
    first = next(m for m in stored if m["text"] == "hi")
    assert first["sk"] == f"{got['ts']:013d}#{1000000000 + got['seq']}#{got['id']}"
    assert int(first["expiresAt"]) > time.time()

    # Carol's own message reaches her after anything of Alice's room would have.
    carol.publish(
        "chat/out", {"type": "message", "room": carol_room, "name": "Carol", "text": "me"}
    )
    carol.wait_for(is_message("me"))
    assert [b["text"] for _, b in carol.matching(lambda t, b: b.get("type") == "message")] == ["me"]


def test_stamped_fields_cannot_be_forged(emulator, connect) -> None:
    room = unique_room()
    alice = connect("Alice", room)
    forged = {"type": "message", "room": room, "name": "Alice", "text": "forged?"}
    alice.publish("chat/out", {**forged, "sender": "admin", "id": "x", "ts": 1, "clientId": "y"})
    _, got = alice.wait_for(is_message("forged?"))
    assert got["sender"] != "admin" and got["clientId"] == alice.client_id
    assert got["id"] != "x" and got["ts"] > 1


def test_late_joiner_gets_backlog_and_history_pages_back_through_120(emulator, connect) -> None:
    room = unique_room()
    writer = connect("Writer", room)
    for i in range(120):
        writer.publish(
            "chat/out", {"type": "message", "room": room, "name": "Writer", "text": f"m{i:03d}"}
        )
    assert len(wait_stored(emulator, room, 120, timeout=30)) == 120

    late = connect("Late", room, join=False)
    late.publish("chat/out", {"type": "join", "room": room, "name": "Late"})
    _, backlog = late.wait_for(lambda t, b: b.get("type") == "backlog")
    assert_oldest_first(backlog["messages"])
    newest = max(int(m["ts"]) for m in stored_messages(emulator, room))
    assert backlog["messages"][-1]["ts"] == newest

    seen = list(backlog["messages"])
    cursor = backlog["cursor"]
    pages = 0
    while cursor is not None:
        late.received.clear()
        late.publish("chat/out", {"type": "history", "room": room, "before": cursor})
        _, page = late.wait_for(lambda t, b: b.get("type") == "history")
        assert_oldest_first(page["messages"])
        seen = page["messages"] + seen
        cursor = page["cursor"]
        pages += 1
        assert pages < 10
    assert_oldest_first(seen)  # pages join up in order too
    texts = [m["text"] for m in seen]
    assert sorted(texts) == [f"m{i:03d}" for i in range(120)], "none lost, none repeated"


def assert_oldest_first(messages: list[dict]) -> None:
    """Ordered by (ts, id), as the table's sort key is; messages of one millisecond have no
    other order (in AWS too), so the ids break the tie."""
    keys = [(m["ts"], m["id"]) for m in messages]
    assert keys == sorted(keys), "oldest first"


def test_stream_path_stores_and_delivers_each_message_once(emulator, connect) -> None:
    room = unique_room()
    alice = connect("Alice", room)
    bob = connect("Bob", room)
    for i in range(20):
        alice.publish(
            "chat/stream", {"type": "message", "room": room, "name": "Alice", "text": f"s{i}"}
        )
    for i in range(20):
        bob.wait_for(is_message(f"s{i}"), timeout=20)
    # One shard per room, processed in order: a redelivered batch would come before this.
    alice.publish("chat/stream", {"type": "message", "room": room, "name": "Alice", "text": "end"})
    bob.wait_for(is_message("end"), timeout=20)
    delivered = [b["text"] for _, b in bob.matching(lambda t, b: b.get("type") == "message")]
    assert sorted(delivered) == sorted([*(f"s{i}" for i in range(20)), "end"])
    stored = wait_stored(emulator, room, 21)
    assert sorted(m["text"] for m in stored) == sorted([*(f"s{i}" for i in range(20)), "end"])
    assert len({m["id"] for m in stored}) == 21


def test_presence_follows_connects_and_disconnects(emulator, connect) -> None:
    room = unique_room()
    alice = connect("Alice", room)
    wait_roster(alice, ["Alice"])
    bob = connect("Bob", room)
    wait_roster(alice, ["Alice", "Bob"])
    bob.close()
    wait_roster(alice, ["Alice"])
    carol = connect("Carol", room)
    wait_roster(alice, ["Alice", "Carol"])
    carol.publish("chat/out", {"type": "leave", "room": room})
    wait_roster(alice, ["Alice"])


def test_data_plane_publish_reaches_subscribers(emulator, connect) -> None:
    """boto3 iot-data, unchanged, against the emulator's HTTP port."""
    room = unique_room()
    alice = connect("Alice", room)
    iot = emulator.data_plane()
    note = {"type": "presence", "room": room, "members": [{"name": "Bot", "sender": "bot"}]}
    iot.publish(topic=f"chat/pub/{room}", qos=1, payload=json.dumps(note).encode())
    alice.wait_for(lambda t, b: b.get("members") == note["members"])
