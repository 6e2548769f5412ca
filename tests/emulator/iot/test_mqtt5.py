"""MQTT 5 features AWS IoT Core supports ("MQTT 5 supported features")."""

from __future__ import annotations

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from emulator.mqtt.packets import Subscribe, SubscriptionRequest
from tests.emulator.iot.harness import V3, V5, Client, Harness, RawClient


def expiring(seconds: int) -> Properties:
    props = Properties(PacketTypes.PUBLISH)
    props.MessageExpiryInterval = seconds
    return props


def test_message_expiry_counts_down_and_is_clamped(admin: Harness) -> None:
    sub = Client(admin, "sub-1", "sub", version=V5).connect()
    sub.subscribe("t/x")
    pub = Client(admin, "pub-1", "pub", version=V5).connect()
    pub.publish("t/x", b"a", properties=expiring(30))
    pub.publish("t/x", b"b", properties=expiring(10_000_000))
    first, second = sub.wait_messages(2)
    assert 29 <= first.properties.MessageExpiryInterval <= 30
    assert second.properties.MessageExpiryInterval <= 604_800  # AWS's maximum: 7 days
    pub.close()
    sub.close()


def test_shared_subscriptions_spread_messages_over_the_group(admin: Harness) -> None:
    members = [Client(admin, f"sub-{n}", "sub", version=V5).connect() for n in range(2)]
    for member in members:
        assert member.subscribe("$share/workers/jobs/+") == 1
    everyone = Client(admin, "sub-9", "sub", version=V3).connect()
    everyone.subscribe("jobs/+")
    for n in range(20):
        admin.publish(f"jobs/{n}", str(n).encode(), 1)
    everyone.wait_messages(20)
    for member in members:
        member.sync()
    got = sorted(int(m.payload) for member in members for m in member.messages)
    assert got == list(range(20))  # each message to exactly one member
    for c in (*members, everyone):
        c.close()


def test_shared_subscriptions_get_no_retained_messages(admin: Harness) -> None:
    admin.publish("jobs/1", b"old", 1, retain=True)
    member = Client(admin, "sub-1", "sub", version=V5).connect()
    member.subscribe("$share/workers/jobs/1")
    member.sync()
    assert member.received() == []
    member.close()


def test_no_local(admin: Harness) -> None:
    c = Client(admin, "dev-1", "dev", version=V5).connect()
    c.subscribe("t/echo", noLocal=True)
    c.subscribe("t/other")
    c.publish("t/echo", b"mine")
    c.publish("t/other", b"mine too")
    assert [m.payload for m in c.wait_messages(1)] == [b"mine too"]
    c.sync()
    assert len(c.messages) == 1
    c.close()


def test_subscription_identifiers_are_not_supported(admin: Harness) -> None:
    raw = RawClient(admin, 5)
    assert raw.connect("dev-1", "dev").properties[0x29] == 0
    raw.send(Subscribe(1, [SubscriptionRequest("t/x", 1)], {0x0B: [7]}))
    assert raw.read().reason_code == 0xA1
    assert raw.read() is None


def test_takeover_tells_the_old_connection_why(admin: Harness) -> None:
    first = Client(admin, "dev-1", "dev", version=V5).connect()
    second = Client(admin, "dev-1", "dev", version=V5).connect()
    assert first.disconnected.wait(5)
    assert first.disconnect_code == 0x8E  # Session taken over
    first.close()
    second.close()


def test_request_response_properties_travel_with_a_will(admin: Harness) -> None:
    sub = Client(admin, "sub-1", "sub", version=V5).connect()
    sub.subscribe("status/dev-1")
    c = Client(admin, "dev-1", "dev", version=V5)
    props = Properties(PacketTypes.WILLMESSAGE)
    props.ResponseTopic = "status/ack"
    props.UserProperty = [("k", "v")]
    c.c.will_set("status/dev-1", b"gone", 1, False, props)
    c.connect().drop()
    message = sub.wait_messages(1)[0]
    assert message.properties.ResponseTopic == "status/ack"
    assert message.properties.UserProperty == [("k", "v")]
    sub.close()
