"""QoS as AWS IoT Core has it: 0 and 1, the lower of publish and subscription; no QoS 2."""

from __future__ import annotations

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from emulator.mqtt import properties as P
from emulator.mqtt.packets import Connack, PingResp, Publish, Subscribe, SubscriptionRequest
from tests.emulator.iot.harness import V3, V5, Client, Harness, RawClient


@pytest.mark.parametrize("version", [V3, V5])
@pytest.mark.parametrize(
    ("publish_qos", "subscribe_qos", "delivered"), [(0, 1, 0), (1, 0, 0), (1, 1, 1)]
)
def test_delivered_qos_is_the_lower_of_publish_and_subscription(
    admin: Harness, version: int, publish_qos: int, subscribe_qos: int, delivered: int
) -> None:
    sub = Client(admin, "sub-1", "sub", version=version).connect()
    assert sub.subscribe("t/q", subscribe_qos) == subscribe_qos
    pub = Client(admin, "pub-1", "pub", version=version).connect()
    pub.publish("t/q", b"x", publish_qos)
    assert [m.qos for m in sub.wait_messages(1)] == [delivered]
    pub.close()
    sub.close()


def test_v3_qos2_publish_gets_no_acknowledgement_and_goes_nowhere(admin: Harness) -> None:
    sub = Client(admin, "sub-1", "sub").connect()
    sub.subscribe("t/q")
    raw = RawClient(admin)
    assert raw.connect("pub-1", "pub") == Connack(False, 0)
    raw.send(Publish("t/q", b"two", qos=2, packet_id=7))
    assert raw.ping() == [PingResp()]  # no PUBREC (nor PUBACK) before the PINGRESP
    sub.sync()
    assert sub.received() == []
    assert "t/q" not in admin.published_topics()
    raw.close()
    sub.close()


@pytest.mark.parametrize("version", [V3, V5])
def test_qos2_subscribe_gets_no_suback_and_subscribes_nothing(admin: Harness, version: int) -> None:
    raw = RawClient(admin, version)
    assert raw.connect("sub-1", "sub").reason_code == 0
    raw.send(Subscribe(3, [SubscriptionRequest("t/q", 2), SubscriptionRequest("t/r", 1)]))
    assert raw.ping() == [PingResp()]
    admin.publish("t/q", b"x", 1)
    admin.publish("t/r", b"x", 1)
    assert raw.ping() == [PingResp()]
    assert admin.events("subscribed") == []
    raw.close()


def test_v5_qos2_publish_is_disconnected_with_qos_not_supported(admin: Harness) -> None:
    pub = Client(admin, "pub-1", "pub", version=V5).connect()
    assert pub.connack_properties.MaximumQoS == 1
    pub.publish("t/q", b"two", 2)
    assert pub.disconnected.wait(5)
    assert pub.disconnect_code == 0x9B
    assert admin.wait_event("disconnected", "pub-1")[0]["disconnectReason"] == "CLIENT_ERROR"
    pub.close()


@pytest.mark.parametrize(("publisher", "subscriber"), [(V3, V5), (V5, V3), (V5, V5)])
def test_versions_talk_to_each_other(admin: Harness, publisher: int, subscriber: int) -> None:
    sub = Client(admin, "sub-1", "sub", version=subscriber).connect()
    sub.subscribe("t/x")
    pub = Client(admin, "pub-1", "pub", version=publisher).connect()
    props = None
    if publisher == V5:
        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = [("trace", "42"), ("trace", "43")]
        props.ContentType = "application/json"
        props.ResponseTopic = "t/reply"
        props.CorrelationData = b"\x01\x02"
        props.PayloadFormatIndicator = 1
    pub.publish("t/x", b'{"a":1}', properties=props)
    message = sub.wait_messages(1)[0]
    assert (message.topic, message.payload) == ("t/x", b'{"a":1}')
    if subscriber == V5 and publisher == V5:
        got = message.properties
        assert got.UserProperty == [("trace", "42"), ("trace", "43")]
        assert (got.ContentType, got.ResponseTopic, got.CorrelationData) == (
            "application/json",
            "t/reply",
            b"\x01\x02",
        )
        assert got.PayloadFormatIndicator == 1
    pub.close()
    sub.close()


def test_v5_reason_and_flag_properties_reach_raw_clients(admin: Harness) -> None:
    raw = RawClient(admin, 5)
    connack = raw.connect("sub-1", "sub", keep_alive=10)
    assert connack.properties[P.SERVER_KEEP_ALIVE] == 30  # AWS's minimum keep-alive
    assert connack.properties[P.RECEIVE_MAXIMUM] == 100
    assert connack.properties[P.TOPIC_ALIAS_MAXIMUM] == 8
    assert connack.properties[P.SUBSCRIPTION_IDENTIFIER_AVAILABLE] == 0
    raw.close()
