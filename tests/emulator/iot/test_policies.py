"""IoT policies on publish, subscribe, receive and retain, and the three retained attacks."""

from __future__ import annotations

import json

import pytest

from tests.emulator.iot.harness import (
    ALL,
    V3,
    V5,
    Client,
    Harness,
    allow,
    arn,
    chat_policy,
    policy,
    statement,
)


@pytest.mark.parametrize(("version", "refused"), [(V3, 0x80), (V5, 0x87)])
def test_subscribing_to_another_clients_inbox_is_refused(
    harness: Harness, version: int, refused: int
) -> None:
    c = Client(harness, "alice-1", "alice", version=version).connect()
    assert c.subscribe("chat/in/bob-1") == refused
    assert c.subscribe("chat/in/alice-1") == 1
    harness.publish("chat/in/bob-1", b"secret")
    harness.publish("chat/in/alice-1", b"mine")
    c.wait_messages(1)
    c.sync()
    assert c.received() == [("chat/in/alice-1", b"mine")]
    assert [e["topics"] for e in harness.events("subscribed", "alice-1")] == [["chat/in/alice-1"]]
    c.close()


def test_unauthorised_publish_v3_closes_the_connection_and_skips_rules(harness: Harness) -> None:
    c = Client(harness, "alice-1", "alice").connect()
    c.publish("chat/pub/lobby", b'{"forged": true}')
    assert c.disconnected.wait(5)
    event = harness.wait_event("disconnected", "alice-1")[0]
    assert event["disconnectReason"] == "AUTH_ERROR"
    assert "chat/pub/lobby" not in harness.published_topics()
    c.close()


def test_unauthorised_publish_v5_gets_puback_not_authorized_and_stays(harness: Harness) -> None:
    c = Client(harness, "alice-1", "alice", version=V5).connect()
    assert c.acked(c.publish("chat/pub/lobby", b"forged")) == 0x87
    c.publish("chat/pub/lobby", b"forged at qos 0", qos=0)
    assert c.acked(c.publish("chat/out", b"fine")) == 0
    assert not c.disconnected.is_set()
    assert "chat/pub/lobby" not in harness.published_topics()
    assert "chat/out" in harness.published_topics()
    c.close()


def test_receive_policy_filters_a_broad_subscription(harness: Harness) -> None:
    harness.authorizer.tokens["wide"] = allow(
        "alice",
        policy=chat_policy(
            "alice", subscribe=[arn("topicfilter", "chat/#")], receive=[arn("topic", "chat/pub/*")]
        ),
    )
    c = Client(harness, "alice-1", "wide").connect()
    assert c.subscribe("chat/#") == 1
    harness.publish("chat/in/bob-1", b"not for alice")
    harness.publish("chat/pub/lobby", b"room")
    c.wait_messages(1)
    c.sync()
    assert c.received() == [("chat/pub/lobby", b"room")]
    c.close()


def test_explicit_deny_wins(harness: Harness) -> None:
    harness.authorizer.tokens["t"] = allow(
        "alice",
        policy=policy(
            statement("iot:*", ["*"]),
            statement("iot:Receive", [arn("topic", "secret/*")], effect="Deny"),
        ),
    )
    c = Client(harness, "alice-1", "t").connect()
    assert c.subscribe("#") == 1
    harness.publish("secret/x", b"no")
    harness.publish("open/x", b"yes")
    c.wait_messages(1)
    c.sync()
    assert c.received() == [("open/x", b"yes")]
    c.close()


def test_accepted_publish_reaches_subscribers_and_rules_with_context(harness: Harness) -> None:
    sub = Client(harness, "bob-1", "bob").connect()
    sub.subscribe("chat/pub/lobby")
    harness.authorizer.tokens["pubber"] = allow("alice", policy=ALL)
    pub = Client(harness, "alice-1", "pubber").connect()
    pub.publish("chat/pub/lobby", b"hello")
    sub.wait_messages(1)
    hooked = [ctx for t, _, ctx in harness.published if t == "chat/pub/lobby"]
    assert len(hooked) == 1
    ctx = hooked[0]
    assert (ctx.client_id, ctx.principal, ctx.source_ip, ctx.qos) == (
        "alice-1",
        "alice",
        "127.0.0.1",
        1,
    )
    assert ctx.timestamp_ms > 0 and ctx.trace_id
    pub.close()
    sub.close()


# ---- the three attacks of issue 9 ---------------------------------------------------------


@pytest.mark.parametrize("version", [V3, V5])
@pytest.mark.parametrize("topic", ["chat/pub/lobby", "chat/in/bob-1", "chat/out"])
def test_a_retained_will_needs_publish_and_retain_publish_at_connect(
    harness: Harness, version: int, topic: str
) -> None:
    """Attack 1: a guest's retained will on a room or another client's inbox."""
    forged = json.dumps({"type": "message", "name": "Bob", "sender": "bob", "clientId": "bob-1"})
    c = Client(harness, "alice-1", "alice", version=version).will(topic, forged.encode(), 1, True)
    c.connect()
    assert c.connack == (5 if version == V3 else 0x87)
    failed = harness.wait_event("connect_failed", "alice-1")[0]
    assert failed["principalIdentifier"] == "alice"
    # Nothing was stored: a later subscriber to the exact topic gets nothing retained.
    harness.authorizer.tokens["watch"] = allow("bob", policy=ALL)
    watcher = Client(harness, "bob-1", "watch").connect()
    watcher.subscribe(topic)
    watcher.sync()
    assert watcher.received() == []
    watcher.close()
    c.close()


def test_a_will_without_retain_is_allowed_where_publish_is(harness: Harness) -> None:
    c = Client(harness, "alice-1", "alice").will("chat/out", b"{}", 1, False).connect()
    assert c.connack == 0
    c.close()


@pytest.mark.parametrize("version", [V3, V5])
def test_retained_publish_without_retain_publish_is_refused(harness: Harness, version: int) -> None:
    """Attack 2: the chat policy grants iot:Publish on chat/out but no iot:RetainPublish."""
    c = Client(harness, "alice-1", "alice", version=version).connect()
    mid = c.publish("chat/out", b'{"type":"join"}', retain=True)
    if version == V3:
        assert c.disconnected.wait(5)
        assert harness.wait_event("disconnected", "alice-1")[0]["disconnectReason"] == "AUTH_ERROR"
    else:
        assert c.acked(mid) == 0x87
    assert "chat/out" not in harness.published_topics()
    harness.authorizer.tokens["watch"] = allow("bob", policy=ALL)
    watcher = Client(harness, "bob-1", "watch").connect()
    watcher.subscribe("chat/out")
    watcher.sync()
    assert watcher.received() == []
    watcher.close()
    c.close()


def test_retain_publish_allows_a_retained_publish(harness: Harness) -> None:
    harness.authorizer.tokens["r"] = allow(
        "alice",
        policy=policy(
            statement("iot:Connect", [arn("client", "alice-1")]),
            statement(["iot:Publish", "iot:RetainPublish"], [arn("topic", "cfg/alice")]),
        ),
    )
    c = Client(harness, "alice-1", "r").connect()
    c.acked(c.publish("cfg/alice", b"v1", retain=True))
    harness.authorizer.tokens["watch"] = allow("bob", policy=ALL)
    watcher = Client(harness, "bob-1", "watch").connect()
    watcher.subscribe("cfg/alice")
    assert [(m.payload, m.retain) for m in watcher.wait_messages(1)] == [(b"v1", True)]
    watcher.close()
    c.close()


def test_retained_messages_reach_only_subscribers_and_once(harness: Harness) -> None:
    """Attack 3: retained messages went to clients that never subscribed, and twice."""
    harness.publish("chat/pub/lobby", b"retained roster", 1, retain=True)
    idle = Client(harness, "bob-1", "bob").connect()
    idle.subscribe("chat/in/bob-1")
    sub = Client(harness, "alice-1", "alice").connect()
    sub.subscribe("chat/pub/lobby")
    sub.wait_messages(1)
    sub.subscribe("chat/in/alice-1")
    harness.publish("chat/in/alice-1", b"later")
    sub.wait_messages(2)
    idle.sync()
    sub.sync()
    assert idle.received() == []
    assert sub.received() == [("chat/pub/lobby", b"retained roster"), ("chat/in/alice-1", b"later")]
    idle.close()
    sub.close()
