"""The codec: round trips for both versions, and every malformation it must refuse."""

from __future__ import annotations

import pytest

from emulator.mqtt import properties as P
from emulator.mqtt import reasons
from emulator.mqtt.codec import (
    Decoder,
    MalformedPacket,
    MqttError,
    PacketTooLarge,
    ProtocolError,
    UnsupportedProtocolVersion,
    encode,
    varint,
)
from emulator.mqtt.packets import (
    AUTH,
    PUBACK,
    PUBREL,
    Ack,
    Auth,
    Connack,
    Connect,
    Disconnect,
    PingReq,
    PingResp,
    Publish,
    Suback,
    Subscribe,
    SubscriptionRequest,
    Unsuback,
    Unsubscribe,
    Will,
)

FULL_CONNECT = Connect(
    5,
    "dev-1",
    clean_start=False,
    keep_alive=45,
    username="u?x=1",
    password=b"\x00\xffsecret",
    will=Will("t/will", b"bye", 1, True, {P.WILL_DELAY_INTERVAL: 5, P.CONTENT_TYPE: "text"}),
    properties={
        P.SESSION_EXPIRY_INTERVAL: 3600,
        P.RECEIVE_MAXIMUM: 20,
        P.USER_PROPERTY: [("a", "1"), ("a", "2")],
    },
)


def server_decode(*packets: Connect | Publish | Subscribe | Unsubscribe | Ack, version: int = 5):
    decoder = Decoder()
    data = encode(Connect(version, "c"), version) + b"".join(encode(p, version) for p in packets)
    return decoder.feed(data)[1:]


@pytest.mark.parametrize("version", [4, 5])
def test_connect_round_trip(version: int) -> None:
    packet = FULL_CONNECT
    if version == 4:
        packet = Connect(4, "dev-1", False, 45, "u", b"pw", Will("t/will", b"bye", 1, True))
    assert Decoder().feed(encode(packet, version)) == [packet]


@pytest.mark.parametrize("version", [4, 5])
def test_client_packets_round_trip_byte_by_byte(version: int) -> None:
    props = {P.USER_PROPERTY: [("k", "v")]} if version == 5 else {}
    packets = [
        Publish("a/b", b"payload", 1, True, True, 7, dict(props)),
        Publish("a/b", b"", 0),
        Subscribe(3, [SubscriptionRequest("a/+", 1), SubscriptionRequest("#", 0)], dict(props)),
        Unsubscribe(4, ["a/+", "#"], dict(props)),
        Ack(PUBACK, 9),
        PingReq(),
        Disconnect(),
    ]
    stream = encode(Connect(version, "c"), version) + b"".join(encode(p, version) for p in packets)
    decoder = Decoder()
    decoded = []
    for i in range(len(stream)):
        decoded += decoder.feed(stream[i : i + 1])
    assert decoded[1:] == packets


def test_v5_only_fields_round_trip() -> None:
    packets = [
        Publish("a", b"x", 1, False, False, 1, {P.MESSAGE_EXPIRY_INTERVAL: 9, P.TOPIC_ALIAS: 2}),
        Subscribe(2, [SubscriptionRequest("a/#", 1, True, True, 2)]),
        Ack(PUBACK, 5, reasons.NOT_AUTHORIZED, {P.REASON_STRING: "no"}),
        Disconnect(reasons.DISCONNECT_WITH_WILL, {P.SESSION_EXPIRY_INTERVAL: 0}),
        Auth(0x18, {P.AUTHENTICATION_METHOD: "x"}),
    ]
    assert server_decode(*packets) == packets


@pytest.mark.parametrize("version", [4, 5])
def test_server_packets_round_trip(version: int) -> None:
    v5 = version == 5
    packets = [
        Connack(True, 0, {P.MAXIMUM_QOS: 1, P.ASSIGNED_CLIENT_IDENTIFIER: "x"} if v5 else {}),
        Publish("a/b", b"p", 1, False, False, 3),
        Ack(PUBACK, 3),
        Suback(4, [0, 1, 0x80]),
        Unsuback(5, [0, 0x11] if v5 else []),
        PingResp(),
    ]
    decoder = Decoder(side="client", version=version)
    assert decoder.feed(b"".join(encode(p, version) for p in packets)) == packets


def test_v3_connack_maps_mqtt5_reasons() -> None:
    assert encode(Connack(False, reasons.NOT_AUTHORIZED), 4) == b"\x20\x02\x00\x05"
    assert encode(Connack(False, reasons.CLIENT_IDENTIFIER_NOT_VALID), 4) == b"\x20\x02\x00\x02"
    assert encode(Connack(False, reasons.QOS_NOT_SUPPORTED), 4) == b"\x20\x02\x00\x05"


def test_varint_boundaries() -> None:
    assert [varint(n) for n in (0, 127, 128, 16383, 16384, 268_435_455)] == [
        b"\x00",
        b"\x7f",
        b"\x80\x01",
        b"\xff\x7f",
        b"\x80\x80\x01",
        b"\xff\xff\xff\x7f",
    ]
    with pytest.raises(ValueError):
        varint(268_435_456)


CONNECT_V4 = encode(Connect(4, "c"), 4)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"\x30\x02\x00\x00", ProtocolError),  # PUBLISH before CONNECT
        (b"\x11" + CONNECT_V4[1:], MalformedPacket),  # CONNECT reserved flags
        (encode(Connect(4, "c"), 4).replace(b"MQTT\x04", b"MQTT\x03"), UnsupportedProtocolVersion),
        (encode(Connect(4, "c"), 4).replace(b"MQTT", b"MQTx"), UnsupportedProtocolVersion),
        (CONNECT_V4[:9] + bytes([CONNECT_V4[9] | 0x01]) + CONNECT_V4[10:], MalformedPacket),
        (CONNECT_V4[:9] + bytes([CONNECT_V4[9] | 0x08]) + CONNECT_V4[10:], MalformedPacket),
        (CONNECT_V4[:9] + bytes([CONNECT_V4[9] | 0x40]) + CONNECT_V4[10:], MalformedPacket),
        (b"\x10\xff\xff\xff\xff\x01", MalformedPacket),  # five-byte remaining length
    ],
    ids=[
        "publish-first",
        "connect-flags",
        "level-3",
        "protocol-name",
        "reserved-flag",
        "will-qos-without-will",
        "password-without-user",
        "long-length",
    ],
)
def test_bad_connects(data: bytes, error: type[MqttError]) -> None:
    with pytest.raises(error):
        Decoder().feed(data)


def _after_connect(version: int = 4) -> Decoder:
    decoder = Decoder()
    decoder.feed(encode(Connect(version, "c"), version))
    return decoder


@pytest.mark.parametrize(
    ("version", "data", "error"),
    [
        (4, b"\x36\x05\x00\x01a\x00\x01", MalformedPacket),  # QoS 3
        (4, b"\x38\x03\x00\x01a", MalformedPacket),  # DUP on QoS 0
        (4, b"\x32\x05\x00\x01a\x00\x00", MalformedPacket),  # packet id 0
        (4, b"\x30\x03\x00\x05a", MalformedPacket),  # topic longer than the packet
        (4, b"\x30\x04\x00\x02\xc3\x28", MalformedPacket),  # invalid UTF-8
        (4, b"\x30\x04\x00\x02a\x00", MalformedPacket),  # U+0000
        (4, b"\x80\x06\x00\x01\x00\x01a\x01", MalformedPacket),  # SUBSCRIBE flags 0000
        (4, b"\x82\x02\x00\x01", ProtocolError),  # SUBSCRIBE without filters
        (4, b"\x82\x06\x00\x01\x00\x01a\x03", MalformedPacket),  # requested QoS 3
        (4, b"\x82\x06\x00\x01\x00\x01a\x04", MalformedPacket),  # 3.1.1 reserved option bits
        (5, b"\x82\x07\x00\x01\x00\x00\x01a\x30", MalformedPacket),  # retain handling 3
        (4, b"\xa2\x02\x00\x01", ProtocolError),  # UNSUBSCRIBE without filters
        (4, b"\xc0\x01\x00", MalformedPacket),  # PINGREQ with a body
        (4, b"\xe2\x00", MalformedPacket),  # DISCONNECT flags
        (4, b"\x60\x02\x00\x01", MalformedPacket),  # PUBREL flags must be 0010
        (4, b"\x20\x02\x00\x00", ProtocolError),  # CONNACK from a client
        (4, b"\x10\x0c" + CONNECT_V4[2:], ProtocolError),  # second CONNECT
        (4, b"\xf0\x00", ProtocolError),  # AUTH in 3.1.1
        (5, b"\x30\x06\x00\x01a\x02\x63\x00", MalformedPacket),  # unknown property 0x63
        (5, b"\x30\x06\x00\x01a\x02\x02\x00", MalformedPacket),  # property runs past the end
        (5, b"\x30\x07\x00\x01a\x01\x23\x00\x01", MalformedPacket),  # past property length
        (5, b"\x30\x07\x00\x01a\x03\x23\x00\x00", ProtocolError),  # topic alias 0
        (5, b"\x30\x06\x00\x01a\x02\x01\x02", ProtocolError),  # payload format 2
        (5, b"\x30\x07\x00\x01a\x03\x12\x00\x00", ProtocolError),  # CONNACK-only property
    ],
)
def test_bad_packets_after_connect(version: int, data: bytes, error: type[MqttError]) -> None:
    decoder = _after_connect(version)
    with pytest.raises(error):
        decoder.feed(data)


def test_duplicate_property_is_a_protocol_error() -> None:
    decoder = _after_connect(5)
    # two Message Expiry Intervals
    data = b"\x30\x0e\x00\x01a\x0a\x02\x00\x00\x00\x01\x02\x00\x00\x00\x01"
    with pytest.raises(ProtocolError, match="twice"):
        decoder.feed(data)


def test_packet_too_large_is_refused_from_its_header() -> None:
    decoder = Decoder(max_packet_size=100)
    decoder.feed(encode(Connect(5, "c"), 5))
    with pytest.raises(PacketTooLarge) as caught:
        decoder.feed(b"\x30\xe5\x00")  # remaining length 101: refused before the body
    assert caught.value.reason_code == reasons.PACKET_TOO_LARGE


def test_good_packets_before_a_bad_one_are_returned_then_the_error() -> None:
    decoder = _after_connect()
    good = encode(Publish("a", b"1"), 4)
    packets = decoder.feed(good + b"\x36\x03\x00\x01a")
    assert packets == [Publish("a", b"1")]
    assert isinstance(decoder.error, MalformedPacket)
    with pytest.raises(MalformedPacket):
        decoder.feed(good)


def test_pubrel_and_auth_encode_with_their_flags() -> None:
    assert encode(Ack(PUBREL, 1), 4)[0] == 0x62
    assert encode(Auth(), 5)[0] == AUTH << 4
    with pytest.raises(ValueError):
        encode(Auth(), 4)
