"""AWS IoT Core's limits ("message broker and protocol limits"), each breach as AWS answers."""

from __future__ import annotations

import socket

import pytest

from emulator.iot import Limits
from emulator.mqtt.packets import Publish, Subscribe, SubscriptionRequest
from tests.emulator.iot.harness import (
    V3,
    V5,
    Client,
    Harness,
    RawClient,
)

LIMIT = 128 * 1024


@pytest.mark.parametrize("version", [V3, V5])
def test_payload_at_the_limit_is_accepted(admin: Harness, version: int) -> None:
    c = Client(admin, "dev-1", "dev", version=version).connect()
    assert c.acked(c.publish("t/big", b"x" * LIMIT)) == 0
    c.close()


@pytest.mark.parametrize(("version", "code"), [(V3, None), (V5, 0x95)])
def test_payload_over_the_limit_disconnects(admin: Harness, version: int, code: int | None) -> None:
    c = Client(admin, "dev-1", "dev", version=version).connect()
    c.publish("t/big", b"x" * (LIMIT + 1))
    assert c.disconnected.wait(5)
    if code is not None:
        assert c.disconnect_code == code
    assert admin.wait_event("disconnected", "dev-1")[0]["disconnectReason"] == "CLIENT_ERROR"
    assert "t/big" not in admin.published_topics()
    c.close()


TOO_LONG = "t/" + "x" * 255
TOO_DEEP = "/".join("abcdefghi")  # 8 slashes


@pytest.mark.parametrize("topic", [TOO_LONG, TOO_DEEP, "$aws/things/x/shadow/update"])
def test_bad_publish_topics(admin: Harness, topic: str) -> None:
    v3 = Client(admin, "dev-1", "dev").connect()
    v3.publish(topic, b"x")
    assert v3.disconnected.wait(5)
    assert admin.wait_event("disconnected", "dev-1")[0]["disconnectReason"] == "CLIENT_ERROR"
    v5 = Client(admin, "dev-2", "dev", version=V5).connect()
    assert v5.acked(v5.publish(topic, b"x")) == 0x90  # Topic Name invalid, connection kept
    assert not v5.disconnected.is_set()
    v3.close()
    v5.close()


def test_seven_slashes_and_256_bytes_are_fine(admin: Harness) -> None:
    c = Client(admin, "dev-1", "dev", version=V5).connect()
    assert c.acked(c.publish("/".join("abcdefgh"), b"x")) == 0
    assert c.acked(c.publish("t/" + "x" * 254, b"x")) == 0
    c.close()


@pytest.mark.parametrize("bad", [TOO_LONG + "/#", "a/b/c/d/e/f/g/h/+", "$share/g/" + TOO_LONG])
def test_bad_subscription_filters(admin: Harness, bad: str) -> None:
    v3 = Client(admin, "dev-1", "dev").connect()
    assert v3.subscribe(bad) == 0x80
    v5 = Client(admin, "dev-2", "dev", version=V5).connect()
    assert v5.subscribe(bad) == 0x8F  # Topic Filter invalid
    v3.close()
    v5.close()


@pytest.mark.parametrize("version", [V3, V5])
def test_more_than_eight_filters_in_one_subscribe_disconnects(admin: Harness, version: int) -> None:
    c = Client(admin, "dev-1", "dev", version=version).connect()
    c.c.subscribe([(f"t/{n}", 1) for n in range(8)])
    c.sync()
    assert len(c.suback) == 9  # eight granted, plus the sync's refusal
    c.c.subscribe([(f"u/{n}", 1) for n in range(9)])
    assert c.disconnected.wait(5)
    if version == V5:
        assert c.disconnect_code == 0x97  # Quota exceeded
    assert admin.wait_event("disconnected", "dev-1")[0]["disconnectReason"] == "CLIENT_ERROR"
    c.close()


def test_the_fifty_first_subscription_disconnects(admin: Harness) -> None:
    c = Client(admin, "dev-1", "dev").connect()
    for n in range(0, 50, 5):
        c.c.subscribe([(f"t/{n + k}", 1) for k in range(5)])
    c.c.subscribe("t/0", 1)  # an existing filter is not a new subscription
    c.sync()
    assert not c.disconnected.is_set()
    c.c.subscribe("t/50", 1)
    assert c.disconnected.wait(5)
    c.close()


def test_publishes_over_the_rate_are_discarded(admin: Harness) -> None:
    w = Client(admin, "watch-1", "watch").connect()
    w.subscribe("t/rate", 0)
    c = Client(admin, "dev-1", "dev", version=V5).connect()
    mids = [c.publish("t/rate", b"x") for _ in range(150)]
    codes = [c.acked(mid) for mid in mids]
    assert codes.count(0x97) >= 1  # Quota exceeded: discarded
    assert codes.count(0) >= 100
    assert not c.disconnected.is_set()
    c.close()
    w.close()


def test_outbound_window_is_one_hundred_unacknowledged() -> None:
    # The publish rate is raised so that only the window holds messages back.
    h = Harness(limits=Limits(authorizer_min_ttl_s=1, publish_rate=10_000)).start()
    try:
        h.allow_all("dev")
        c = Client(h, "dev-1", "dev", version=V5, manual_ack=True).connect()
        c.subscribe("t/w", 1)
        for n in range(101):
            h.publish("t/w", str(n).encode(), 1)
        c.wait_messages(100)
        c.sync()
        assert len(c.messages) == 100
        c.c.ack(c.messages[0].mid, 1)
        assert c.wait_messages(101)[-1].payload == b"100"
        c.close()
    finally:
        h.stop()


@pytest.mark.parametrize(("asked", "given"), [(10, 30), (0, 1200), (2000, 1200)])
def test_keep_alive_is_kept_between_30_and_1200(admin: Harness, asked: int, given: int) -> None:
    c = Client(admin, "dev-1", "dev", version=V5, keepalive=asked).connect()
    assert c.connack_properties.ServerKeepAlive == given
    c.close()


def test_topic_alias_over_the_maximum_disconnects(admin: Harness) -> None:
    raw = RawClient(admin, 5)
    assert raw.connect("dev-1", "dev").reason_code == 0
    raw.send(Publish("t/a", b"x", 0, properties={0x23: 9}))
    disconnect = raw.read()
    assert disconnect.reason_code == 0x94  # Topic Alias invalid
    assert raw.read() is None


def test_topic_aliases_within_the_maximum(admin: Harness) -> None:
    w = Client(admin, "watch-1", "watch").connect()
    w.subscribe("t/alias")
    raw = RawClient(admin, 5)
    assert raw.connect("dev-1", "dev").reason_code == 0
    raw.send(
        Publish("t/alias", b"1", 0, properties={0x23: 8}),
        Publish("", b"2", 0, properties={0x23: 8}),
    )
    assert [(m.topic, m.payload) for m in w.wait_messages(2)] == [
        ("t/alias", b"1"),
        ("t/alias", b"2"),
    ]
    raw.close()
    w.close()


def test_malformed_frame_flood_is_cut_off_while_others_chat(admin: Harness) -> None:
    good = Client(admin, "watch-1", "watch").connect()
    good.subscribe("t/ok")
    bad = RawClient(admin)
    assert bad.connect("dev-9", "dev").reason_code == 0
    closed = False
    try:
        for _ in range(1000):
            bad.sock.sendall(b"\x30\x05\xff\xff\x00\x00\x00")
    except OSError:
        closed = True
    if not closed:
        assert bad.read() is None
    bad.close()
    admin.publish("t/ok", b"still here")
    good.wait_messages(1)
    assert admin.wait_event("disconnected", "dev-9")[0]["disconnectReason"] == "CLIENT_ERROR"
    good.close()


def test_unsupported_protocol_level_gets_connack_1(harness: Harness) -> None:
    s = socket.create_connection(("127.0.0.1", harness.mqtt_port), timeout=5)
    s.sendall(b"\x10\x0d\x00\x06MQIsdp\x03\x02\x00\x3c\x00\x00")
    assert s.recv(4) == b"\x20\x02\x00\x01"
    s.close()
    assert harness.authorizer.events == []


def test_extended_authentication_is_refused(admin: Harness) -> None:
    raw = RawClient(admin, 5)
    connack = raw.connect("dev-1", "dev", properties={0x15: "SCRAM-SHA-1"})
    assert connack.reason_code == 0x8C  # Bad authentication method
    assert admin.authorizer.events == []  # refused before custom auth


def test_a_client_that_stops_reading_is_cut_off() -> None:
    h = Harness(limits=Limits(authorizer_min_ttl_s=1, publish_rate=10_000)).start()
    try:
        h.allow_all("dev")
        raw = RawClient(h)
        raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        assert raw.connect("dev-1", "dev").reason_code == 0
        raw.send(Subscribe(1, [SubscriptionRequest("t/big", 0)]))
        chunk = b"x" * LIMIT
        for _ in range(200):  # 25 MiB to a client that reads nothing
            h.publish("t/big", chunk)
            if h.events("disconnected", "dev-1"):
                break
        assert h.wait_event("disconnected", "dev-1")[0]["disconnectReason"] == "CLIENT_ERROR"
        raw.close()
    finally:
        h.stop()
