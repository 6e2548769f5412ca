"""Lifecycle events with AWS's field names, versions and disconnect reasons."""

from __future__ import annotations

import socket

import pytest

from emulator.iot import Limits
from tests.emulator.iot.harness import (
    V3,
    V5,
    Client,
    Harness,
    RawClient,
    wait_for,
)
from tests.support.ports import port_is_free

PRESENCE_FIELDS = {"clientId", "timestamp", "eventType", "sessionIdentifier"}


def test_connect_and_disconnect_events_have_aws_fields(admin: Harness) -> None:
    c = Client(admin, "dev-1", "dev").connect()
    c.close()
    connected = admin.wait_event("connected", "dev-1")[0]
    disconnected = admin.wait_event("disconnected", "dev-1")[0]
    assert set(connected) == PRESENCE_FIELDS | {
        "principalIdentifier",
        "ipAddress",
        "versionNumber",
    }
    assert connected["ipAddress"] == "127.0.0.1"
    assert connected["principalIdentifier"] == "dev"
    assert isinstance(connected["timestamp"], int)
    assert set(disconnected) == PRESENCE_FIELDS | {
        "principalIdentifier",
        "clientInitiatedDisconnect",
        "disconnectReason",
        "versionNumber",
    }  # no ipAddress on disconnects
    assert disconnected["clientInitiatedDisconnect"] is True
    assert disconnected["sessionIdentifier"] == connected["sessionIdentifier"]
    assert disconnected["versionNumber"] == connected["versionNumber"] == 0


def test_versions_grow_per_connection_and_sessions_differ(admin: Harness) -> None:
    for _ in range(2):
        Client(admin, "dev-1", "dev").connect().close()
        admin.wait_event("disconnected", "dev-1")
    connected = admin.wait_event("connected", "dev-1", 2)
    disconnected = admin.wait_event("disconnected", "dev-1", 2)
    assert [e["versionNumber"] for e in connected] == [0, 1]
    assert [e["versionNumber"] for e in disconnected] == [0, 1]
    assert connected[0]["sessionIdentifier"] != connected[1]["sessionIdentifier"]


def test_versions_reset_after_the_client_was_away_long_enough() -> None:
    h = Harness(limits=Limits(authorizer_min_ttl_s=1, version_reset_s=0)).start()
    try:
        h.allow_all("dev")
        for n in range(2):
            Client(h, "dev-1", "dev").connect().close()
            h.wait_event("disconnected", "dev-1", n + 1)
        assert [e["versionNumber"] for e in h.events("connected", "dev-1")] == [0, 0]
    finally:
        h.stop()


def test_subscription_events(admin: Harness) -> None:
    c = Client(admin, "dev-1", "dev").connect()
    c.subscribe("a/b")
    c.c.unsubscribe("a/b")
    wait_for(lambda: c.unsuback)
    subscribed = admin.wait_event("subscribed", "dev-1")[0]
    unsubscribed = admin.wait_event("unsubscribed", "dev-1")[0]
    assert subscribed["topics"] == unsubscribed["topics"] == ["a/b"]
    assert set(subscribed) == PRESENCE_FIELDS | {"principalIdentifier", "topics"}
    c.close()


@pytest.mark.parametrize("client_id", ["dev#1", "dev+1"])
def test_no_events_for_client_ids_with_wildcards(admin: Harness, client_id: str) -> None:
    Client(admin, client_id, "dev").connect().close()
    Client(admin, "dev-1", "dev").connect().close()  # a later client's events do arrive
    admin.wait_event("disconnected", "dev-1")
    assert not [t for t in admin.published_topics() if client_id in t]


def test_allowed_subscribers_receive_lifecycle_events(admin: Harness) -> None:
    w = Client(admin, "watch-1", "dev").connect()
    assert w.subscribe("$aws/events/presence/+/+") == 1
    other = Client(admin, "dev-2", "dev").connect()
    wait_for(lambda: "$aws/events/presence/connected/dev-2" in [m.topic for m in w.messages])
    other.close()
    w.close()


def test_keep_alive_timeout() -> None:
    h = Harness(limits=Limits(authorizer_min_ttl_s=1, min_keepalive_s=1)).start()
    try:
        h.allow_all("dev")
        raw = RawClient(h)
        assert raw.connect("dev-1", "dev", keep_alive=1).reason_code == 0
        assert raw.read() is None  # closed after 1.5 x the keep-alive
        assert h.wait_event("disconnected", "dev-1")[0]["disconnectReason"] == (
            "MQTT_KEEP_ALIVE_TIMEOUT"
        )
        raw.close()
    finally:
        h.stop()


def test_protocol_errors_are_client_errors(admin: Harness) -> None:
    raw = RawClient(admin)
    assert raw.connect("dev-1", "dev").reason_code == 0
    raw.sock.sendall(b"\x30\x05\xff\xff\x00\x00\x00")  # topic length past the packet
    assert raw.read() is None
    assert admin.wait_event("disconnected", "dev-1")[0]["disconnectReason"] == "CLIENT_ERROR"


@pytest.mark.parametrize("version", [V3, V5])
def test_stopping_the_broker_is_server_initiated(version: int) -> None:
    h = Harness(limits=Limits(authorizer_min_ttl_s=1)).start()
    h.allow_all("dev")
    c = Client(h, "dev-1", "dev", version=version).connect()
    h.stop()
    assert c.disconnected.wait(5)
    assert port_is_free(h.mqtt_port) and port_is_free(h.http_port)
    if version == V5:
        assert c.disconnect_code == 0x8B  # Server shutting down
    assert h.events("disconnected", "dev-1")[0]["disconnectReason"] == (
        "SERVER_INITIATED_DISCONNECT"
    )
    c.close()


def test_garbage_before_connect_is_dropped_without_events(harness: Harness) -> None:
    s = socket.create_connection(("127.0.0.1", harness.mqtt_port))
    s.settimeout(5)
    s.sendall(b"GET / HTTP/1.1\r\n\r\n")
    assert s.recv(10) == b""
    s.close()
    assert harness.authorizer.events == []
