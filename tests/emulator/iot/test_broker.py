"""The broker against real MQTT clients (paho over TCP and WebSockets, raw sockets)."""

from __future__ import annotations

import base64
import json
import socket
import time

import pytest

from emulator.iot import Limits
from tests.emulator.iot.harness import (
    AUTHORIZER,
    Client,
    Harness,
    allow,
    arn,
    chat_policy,
    wait_for,
)
from tests.support.ports import port_is_free


def test_tcp_connect_builds_the_aws_authorizer_event(harness: Harness) -> None:
    c = Client(harness, "alice-1", "alice").connect()
    assert c.connack == 0
    event = harness.authorizer.events[-1]
    assert event["signatureVerified"] is False
    assert event["protocols"] == ["mqtt"]
    mqtt = event["protocolData"]["mqtt"]
    assert mqtt["clientId"] == "alice-1"
    assert mqtt["username"] == f"user?x-amz-customauthorizer-name={AUTHORIZER}"
    assert base64.b64decode(mqtt["password"]) == b"alice"
    assert event["token"] == "alice"
    assert event["connectionMetadata"]["id"]
    c.close()


def test_ws_connect_passes_query_string_and_headers(harness: Harness) -> None:
    c = Client(harness, "alice-1", "alice", transport="ws").connect()
    assert c.connack == 0
    event = harness.authorizer.events[-1]
    assert event["protocols"] == ["http", "mqtt"]
    http = event["protocolData"]["http"]
    assert http["queryString"] == f"?x-amz-customauthorizer-name={AUTHORIZER}&token=alice"
    assert http["headers"]["sec-websocket-protocol"] == "mqtt"
    assert event["token"] == "alice"
    c.close()


@pytest.mark.parametrize("transport", ["tcp", "ws"])
@pytest.mark.parametrize(
    ("token", "answer"),
    [
        ("deny", {"isAuthenticated": False}),
        ("boom", RuntimeError("lambda crashed")),
        ("slow", "slow"),
        (
            "malformed",
            {"isAuthenticated": True, "principalId": "not alnum!", "policyDocuments": []},
        ),
        ("badpolicy", {"isAuthenticated": True, "principalId": "x", "policyDocuments": ["{"]}),
        (None, None),
    ],
)
def test_refused_connections(
    harness: Harness, transport: str, token: str | None, answer: object
) -> None:
    if token is not None:
        harness.authorizer.tokens[token] = answer
    c = Client(harness, "alice-1", token, transport=transport).connect()
    assert c.connack == 5
    c.close()
    wait_for(lambda: "$aws/events/presence/connect_failed/alice-1" in harness.published_topics())
    assert "$aws/events/presence/connected/alice-1" not in harness.published_topics()


def test_wrong_authorizer_name_is_refused_without_invoking(harness: Harness) -> None:
    c = Client(harness, "alice-1", "alice", authorizer="Other").connect()
    assert c.connack == 5
    assert harness.authorizer.events == []
    c.close()


def test_connect_policy_limits_client_ids(harness: Harness) -> None:
    c = Client(harness, "bob-1", "alice").connect()  # alice may connect only as alice-*
    assert c.connack == 5
    c.close()


def test_subscribing_to_another_clients_inbox_gets_0x80(harness: Harness) -> None:
    c = Client(harness, "alice-1", "alice").connect()
    assert c.subscribe("chat/in/bob-1") == 0x80
    assert c.subscribe("chat/in/alice-1") == 1
    assert c.subscribe("chat/pub/lobby", qos=2) == 1  # AWS grants at most QoS 1
    harness.publish("chat/in/bob-1", b"secret")
    harness.publish("chat/in/alice-1", b"mine")
    wait_for(lambda: c.messages)
    time.sleep(0.2)
    assert c.messages == [("chat/in/alice-1", b"mine")]
    c.close()


def test_unauthorised_publish_closes_connection_and_skips_rules(harness: Harness) -> None:
    c = Client(harness, "alice-1", "alice").connect()
    c.publish("chat/pub/lobby", b'{"forged": true}')
    assert c.disconnected.wait(5)
    time.sleep(0.2)
    assert "chat/pub/lobby" not in harness.published_topics()
    events = [
        json.loads(p)
        for t, p, _ in harness.published
        if t.startswith("$aws/events/presence/disconnected/")
    ]
    assert events[-1]["disconnectReason"] == "AUTH_ERROR"
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
    wait_for(lambda: c.messages)
    time.sleep(0.2)
    assert c.messages == [("chat/pub/lobby", b"room")]
    c.close()


def test_accepted_publish_reaches_subscribers_and_rules_hook_with_context(harness: Harness) -> None:
    sub = Client(harness, "bob-1", "bob").connect()
    harness.authorizer.tokens["pubber"] = allow(
        "alice",
        policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}],
            }
        ),
    )
    sub.subscribe("chat/pub/lobby")
    pub = Client(harness, "alice-1", "pubber").connect()
    pub.publish("chat/pub/lobby", b"hello")
    wait_for(lambda: sub.messages)
    hooked = [(t, p, ctx) for t, p, ctx in harness.published if t == "chat/pub/lobby"]
    assert len(hooked) == 1
    ctx = hooked[0][2]
    assert (ctx.client_id, ctx.principal, ctx.source_ip) == ("alice-1", "alice", "127.0.0.1")
    assert ctx.timestamp_ms > 0 and ctx.trace_id
    pub.close()
    sub.close()


def test_disconnect_after_seconds_closes_the_connection(harness: Harness) -> None:
    harness.authorizer.tokens["short"] = allow("alice", disconnectAfterInSeconds=1)
    c = Client(harness, "alice-1", "short", transport="ws").connect()
    assert c.connack == 0
    assert c.disconnected.wait(5)
    c.close()


def test_duplicate_client_id_drops_the_first(harness: Harness) -> None:
    first = Client(harness, "alice-1", "alice").connect()
    first.c.reconnect_delay_set(60, 60)
    second = Client(harness, "alice-1", "alice", transport="ws").connect()
    assert second.connack == 0
    assert first.disconnected.wait(5)
    disconnects = [
        json.loads(p)
        for t, p, _ in harness.published
        if t == "$aws/events/presence/disconnected/alice-1"
    ]
    assert disconnects[0]["disconnectReason"] == "DUPLICATE_CLIENTID"
    assert second.subscribe("chat/in/alice-1") == 1
    harness.publish("chat/in/alice-1", b"x")
    wait_for(lambda: second.messages)
    first.close()
    second.close()


def test_refused_duplicate_does_not_drop_the_first(harness: Harness) -> None:
    first = Client(harness, "alice-1", "alice").connect()
    intruder = Client(harness, "alice-1", "deny").connect()
    assert intruder.connack == 5
    assert not first.disconnected.wait(0.5)
    first.close()
    intruder.close()


def test_oversize_client_id_is_refused(harness: Harness) -> None:
    harness.authorizer.tokens["any"] = allow(
        "alice",
        policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}],
            }
        ),
    )
    c = Client(harness, "a" * 129, "any").connect()
    assert c.connack == 2
    assert harness.authorizer.events == []
    c.close()


def test_oversize_payload_disconnects(harness: Harness) -> None:
    c = Client(harness, "alice-1", "alice").connect()
    c.publish("chat/out", b"x" * (128 * 1024 + 1))
    assert c.disconnected.wait(5)
    time.sleep(0.2)
    assert "chat/out" not in harness.published_topics()
    c.close()


def test_payload_at_the_limit_is_accepted(harness: Harness) -> None:
    c = Client(harness, "alice-1", "alice").connect()
    c.publish("chat/out", b"x" * (128 * 1024))
    wait_for(lambda: "chat/out" in harness.published_topics())
    c.close()


def test_malformed_frame_flood_is_cut_off_while_others_chat(harness: Harness) -> None:
    good = Client(harness, "bob-1", "bob").connect()
    good.subscribe("chat/in/bob-1")
    bad = socket.create_connection(("127.0.0.1", harness.mqtt_port))
    bad.settimeout(5)
    connect = _connect_packet("alice-9", f"u?x-amz-customauthorizer-name={AUTHORIZER}", b"alice")
    bad.sendall(connect)
    assert bad.recv(4) == b"\x20\x02\x00\x00"
    closed = False
    try:
        for _ in range(1000):
            bad.sendall(b"\x30\x05\xff\xff\x00\x00\x00")  # topic length past the frame
    except OSError:
        closed = True
    if not closed:
        assert bad.recv(100) == b""
    bad.close()
    harness.publish("chat/in/bob-1", b"still here")
    wait_for(lambda: good.messages)
    events = [
        json.loads(p)
        for t, p, _ in harness.published
        if t == "$aws/events/presence/disconnected/alice-9"
    ]
    assert events[0]["disconnectReason"] == "CLIENT_ERROR"
    good.close()


def test_garbage_before_connect_is_dropped(harness: Harness) -> None:
    s = socket.create_connection(("127.0.0.1", harness.mqtt_port))
    s.settimeout(5)
    s.sendall(b"GET / HTTP/1.1\r\n\r\n")
    assert s.recv(10) == b""
    s.close()
    assert harness.authorizer.events == []


def test_lifecycle_events_fields_and_versions(harness: Harness) -> None:
    for _ in range(2):
        c = Client(harness, "alice-1", "alice").connect()
        c.subscribe("chat/in/alice-1")
        c.c.unsubscribe("chat/in/alice-1")
        time.sleep(0.2)
        c.close()
        wait_for(lambda: "$aws/events/presence/disconnected/alice-1" in harness.published_topics())
        time.sleep(0.2)
    events = {t: [] for t in harness.published_topics()}
    for t, p, _ in harness.published:
        events[t].append(json.loads(p))
    conn = events["$aws/events/presence/connected/alice-1"]
    disc = events["$aws/events/presence/disconnected/alice-1"]
    assert [e["versionNumber"] for e in conn] == [0, 1]
    assert [e["versionNumber"] for e in disc] == [0, 1]
    first = conn[0]
    assert first["eventType"] == "connected"
    assert first["principalIdentifier"] == "alice"
    assert first["ipAddress"] == "127.0.0.1"
    assert isinstance(first["timestamp"], int)
    assert (
        first["sessionIdentifier"] == disc[0]["sessionIdentifier"] != conn[1]["sessionIdentifier"]
    )
    assert disc[0]["disconnectReason"] == "CLIENT_INITIATED_DISCONNECT"
    assert disc[0]["clientInitiatedDisconnect"] is True
    sub = events["$aws/events/subscriptions/subscribed/alice-1"][0]
    assert sub["topics"] == ["chat/in/alice-1"] and sub["eventType"] == "subscribed"
    unsub = events["$aws/events/subscriptions/unsubscribed/alice-1"][0]
    assert unsub["topics"] == ["chat/in/alice-1"]


def test_internal_publish_to_reserved_topic_reaches_allowed_subscriber(harness: Harness) -> None:
    harness.authorizer.tokens["watcher"] = allow(
        "alice",
        policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}],
            }
        ),
    )
    w = Client(harness, "alice-w", "watcher").connect()
    assert w.subscribe("$aws/events/presence/+/+") == 1
    other = Client(harness, "bob-1", "bob").connect()
    wait_for(lambda: any(t == "$aws/events/presence/connected/bob-1" for t, _ in w.messages))
    other.close()
    w.close()


def test_stop_frees_the_port_and_closes_clients() -> None:
    h = Harness().start()
    port = h.mqtt_port
    c = Client(h, "alice-1", "alice").connect()
    h.stop()
    assert c.disconnected.wait(5)
    c.close()
    assert port_is_free(port)
    assert port_is_free(h.http_port)


def test_keepalive_limits_are_aws_values() -> None:
    limits = Limits()
    assert limits.keepalive_deadline_s(10) == 45
    assert limits.keepalive_deadline_s(0) == 1800


def _connect_packet(client_id: str, username: str, password: bytes) -> bytes:
    def s(b: bytes) -> bytes:
        return len(b).to_bytes(2, "big") + b

    body = (
        s(b"MQTT")
        + b"\x04\xc2\x00\x3c"
        + s(client_id.encode())
        + s(username.encode())
        + s(password)
    )
    return b"\x10" + bytes([len(body)]) + body
