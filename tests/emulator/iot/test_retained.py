"""Retained messages as AWS IoT Core documents them ("MQTT retained messages")."""

from __future__ import annotations

import time

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.emulator.iot.harness import (
    V3,
    V5,
    Client,
    Harness,
    allow,
    arn,
    policy,
    statement,
    wait_for,
)


@pytest.mark.parametrize("version", [V3, V5])
def test_an_exact_subscription_gets_the_retained_message_flagged(
    admin: Harness, version: int
) -> None:
    pub = Client(admin, "pub-1", "pub", version=version).connect()
    live = Client(admin, "sub-1", "sub", version=version).connect()
    live.subscribe("cfg/a")
    pub.acked(pub.publish("cfg/a", b"v1", retain=True))
    assert [(m.payload, m.retain) for m in live.wait_messages(1)] == [(b"v1", False)]
    late = Client(admin, "late-1", "late", version=version).connect()
    late.subscribe("cfg/a")
    assert [(m.payload, m.retain) for m in late.wait_messages(1)] == [(b"v1", True)]
    for c in (pub, live, late):
        c.close()


def test_a_wildcard_subscription_gets_no_retained_message(admin: Harness) -> None:
    admin.publish("cfg/a", b"v1", 1, retain=True)
    sub = Client(admin, "sub-1", "sub").connect()
    for topic_filter in ("cfg/+", "cfg/#", "#"):
        sub.subscribe(topic_filter)
    sub.sync()
    assert sub.received() == []
    admin.publish("cfg/a", b"v2", 1)  # but later messages match as usual
    assert [m.payload for m in sub.wait_messages(1)] == [b"v2"]
    sub.close()


def test_a_newer_retained_message_replaces_and_an_empty_one_deletes(admin: Harness) -> None:
    admin.publish("cfg/a", b"v1", 1, retain=True)
    admin.publish("cfg/a", b"v2", 1, retain=True)
    first = Client(admin, "sub-1", "sub").connect()
    first.subscribe("cfg/a")
    assert [m.payload for m in first.wait_messages(1)] == [b"v2"]
    admin.publish("cfg/a", b"", 1, retain=True)
    assert [(m.payload, m.retain) for m in first.wait_messages(2)][1] == (b"", False)
    late = Client(admin, "late-1", "late").connect()
    late.subscribe("cfg/a")
    late.sync()
    assert late.received() == []
    first.close()
    late.close()


def test_retained_delivery_needs_receive_and_uses_the_lower_qos(harness: Harness) -> None:
    harness.publish("cfg/a", b"v1", 0, retain=True)
    harness.publish("cfg/b", b"v1", 1, retain=True)
    harness.authorizer.tokens["s"] = allow(
        "s",
        policy=policy(
            statement(["iot:Connect", "iot:Subscribe"], ["*"]),
            statement("iot:Receive", [arn("topic", "cfg/a")]),
        ),
    )
    sub = Client(harness, "sub-1", "s").connect()
    sub.subscribe("cfg/a", 1)
    sub.subscribe("cfg/b", 1)
    sub.sync()
    assert [(m.topic, m.qos) for m in sub.messages] == [("cfg/a", 0)]
    sub.close()


def test_retain_handling_options(admin: Harness) -> None:
    admin.publish("cfg/a", b"v1", 1, retain=True)
    sub = Client(admin, "sub-1", "sub", version=V5).connect()
    sub.subscribe("cfg/a", retainHandling=2)  # never send retained
    sub.sync()
    assert sub.received() == []
    sub.subscribe("cfg/a", retainHandling=1)  # only for a new subscription: not new
    sub.sync()
    assert sub.received() == []
    sub.subscribe("cfg/a", retainHandling=0)
    assert [m.payload for m in sub.wait_messages(1)] == [b"v1"]
    sub.close()


def test_reserved_topics_cannot_be_retained(harness: Harness) -> None:
    with pytest.raises(ValueError, match="reserved"):
        harness.publish("$aws/events/x", b"v", retain=True)


def test_an_expired_retained_message_is_not_delivered(admin: Harness) -> None:
    pub = Client(admin, "pub-1", "pub", version=V5).connect()
    props = Properties(PacketTypes.PUBLISH)
    props.MessageExpiryInterval = 1
    pub.acked(pub.publish("cfg/a", b"short-lived", retain=True, properties=props))
    sent = time.monotonic()
    wait_for(lambda: time.monotonic() - sent > 1.05, timeout=3)  # the interval itself
    late = Client(admin, "late-1", "late", version=V5).connect()
    late.subscribe("cfg/a")
    late.sync()
    assert late.received() == []
    pub.close()
    late.close()
