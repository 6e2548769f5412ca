"""What a late joiner gets back, with real clients: a burst in the order it was sent, and
rooms whose newest messages are too big for one publish paged whole."""

from __future__ import annotations

import json
from typing import Any

from tests.support.chat import unique_room, wait_stored
from tests.support.mqtt_client import ChatClient

EMOJI_TEXT = "\U0001f600" * 2000  # 2,000 characters, 8,000 UTF-8 bytes


def page_back(client: ChatClient, room: str) -> list[dict[str, Any]]:
    """The backlog, then every history page its cursors lead to: all the messages,
    oldest first."""
    inbox = f"chat/in/{client.client_id}"
    _, reply = client.wait_for(lambda t, b: t == inbox and b.get("type") == "backlog")
    pages, answered = [reply["messages"]], set()
    while reply["cursor"] is not None:
        assert len(pages) < 40, "the cursors do not end"
        client.publish("chat/out", {"type": "history", "room": room, "before": reply["cursor"]})
        _, reply = client.wait_for(
            lambda t, b: t == inbox and b.get("type") == "history" and id(b) not in answered,
            timeout=15,
        )
        answered.add(id(reply))
        pages.insert(0, reply["messages"])
    return [m for page in pages for m in page]


# AWS IoT Core quotas: 100 inbound publishes per second per connection.
BURST = 100


def test_a_burst_comes_back_in_the_order_it_was_sent(emulator, connect) -> None:
    """100 messages back to back, without waiting for acknowledgements: many share a
    millisecond; the late joiner's pages keep the sender's order. 100 is as many as IoT
    Core takes from one connection in a second (more are discarded, as the emulator
    does); tests/lambdas has the 120-in-one-millisecond case on the functions' side."""
    room = unique_room()
    alice = connect("Alice", room)
    sent = [f"burst {n}" for n in range(BURST)]
    pending = [
        alice.mqtt.publish(
            "chat/out",
            json.dumps({"type": "message", "room": room, "name": "Alice", "text": t, "seq": n}),
            qos=1,
        )
        for n, t in enumerate(sent)
    ]
    for info in pending:
        info.wait_for_publish(10)
    assert len(wait_stored(emulator, room, BURST, timeout=30)) == BURST
    bob = connect("Bob", room, join=False)
    bob.publish("chat/out", {"type": "join", "room": room, "name": "Bob"})
    assert [m["text"] for m in page_back(bob, room)] == sent


def test_a_room_of_50_emoji_messages_is_paged_whole_on_join(emulator, connect) -> None:
    """Fifty 8 KB messages are 400 KB: the backlog holds what fits in 128 KB and the
    cursors lead through the rest (before, the backlog's publish was refused)."""
    room = unique_room()
    alice = connect("Alice", room)
    for n in range(50):
        alice.publish(
            "chat/out",
            {"type": "message", "room": room, "name": "Alice", "text": EMOJI_TEXT, "seq": n},
        )
    assert len(wait_stored(emulator, room, 50, timeout=30)) == 50
    bob = connect("Bob", room, join=False)
    bob.publish("chat/out", {"type": "join", "room": room, "name": "Bob"})
    messages = page_back(bob, room)
    assert len(messages) == 50 and {m["text"] for m in messages} == {EMOJI_TEXT}
    assert [m["seq"] for m in messages] == list(range(50))
    bob.wait_for(lambda t, b: b.get("type") == "presence", timeout=10)
