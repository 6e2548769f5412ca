"""The chat on the emulator refuses what AWS IoT Core and the rules would refuse.

Bad tokens, client ids and topics, invalid messages, floods and oversize payloads:
each gets a clear refusal, and the clients that behave keep chatting.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from typing import Any

import jwt
import pytest

from emulator.testing import EmulatorProcess
from tests.support.chat import (
    guest_claims,
    is_message,
    signing_key,
    unique_room,
    wait_stored,
)
from tests.support.mqtt_client import ChatClient, new_client_id

pytestmark = pytest.mark.integration

NOT_AUTHORIZED = "Not authorized"  # MQTT 3.1.1 CONNACK return code 5
ACCEPTED = "Success"


def try_connect(emulator: EmulatorProcess, token: str, client_id: str) -> Any:
    client = ChatClient(
        "127.0.0.1", emulator.mqtt_port, token, emulator.config()["authorizer"], client_id
    )
    try:
        return client.connect()
    finally:
        client.close()


def test_a_token_signed_with_the_right_key_is_accepted(emulator) -> None:
    """The control for the refusals below: only the one thing changed makes them fail."""
    claims = guest_claims()
    token = jwt.encode(claims, signing_key(emulator), algorithm="HS256")
    assert try_connect(emulator, token, f"{claims['sub']}-ok") == ACCEPTED


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(
            lambda key, c: jwt.encode(c, "not-the-key-" + "x" * 32, algorithm="HS256"), id="forged"
        ),
        pytest.param(
            lambda key, c: jwt.encode(c | {"exp": int(time.time()) - 60}, key, algorithm="HS256"),
            id="expired",
        ),
        pytest.param(
            lambda key, c: jwt.encode(c | {"nbf": int(time.time()) + 600}, key, algorithm="HS256"),
            id="not-yet-valid",
        ),
        pytest.param(
            lambda key, c: jwt.encode(c | {"aud": "other/iot"}, key, algorithm="HS256"),
            id="wrong-audience",
        ),
        pytest.param(
            lambda key, c: jwt.encode(c, None, algorithm="none"),  # type: ignore[arg-type]
            id="alg-none",
        ),
        pytest.param(lambda key, c: "not.a.jwt", id="garbage"),
        pytest.param(lambda key, c: "", id="missing"),
    ],
)
def test_bad_tokens_are_refused(emulator, make_token) -> None:
    claims = guest_claims()
    token = make_token(signing_key(emulator), claims)
    assert try_connect(emulator, token, f"{claims['sub']}-x") == NOT_AUTHORIZED


def test_client_id_outside_the_token_prefix_is_refused(emulator) -> None:
    token = emulator.guest_token("Mallory")
    assert try_connect(emulator, token["token"], new_client_id("someoneelse")) == NOT_AUTHORIZED
    assert try_connect(emulator, token["token"], token["clientIdPrefix"]) == NOT_AUTHORIZED


def test_browser_style_websocket_auth_in_the_query_string(emulator) -> None:
    config = emulator.config()
    token = emulator.guest_token("Wendy")
    client_id = new_client_id(token["clientIdPrefix"])
    good = f"x-amz-customauthorizer-name={config['authorizer']}&token={token['token']}"
    for query, expected in [(good, ACCEPTED), (good.replace("token=", "token=x"), NOT_AUTHORIZED)]:
        client = ChatClient(
            "127.0.0.1", emulator.port, "", "", client_id, transport="ws", ws_query=query
        )
        try:
            assert client.connect() == expected
        finally:
            client.close()


def test_subscribing_to_another_clients_inbox_is_refused(emulator, connect) -> None:
    alice = connect("Alice")
    bob = connect("Bob")
    granted = bob.subscribe(f"chat/in/{alice.client_id}", f"chat/in/{bob.client_id}", "chat/#")
    assert [getattr(code, "value", code) for code in granted] == [0x80, 1, 0x80]


def test_publishing_to_a_room_topic_directly_disconnects_and_delivers_nothing(
    emulator, connect
) -> None:
    room = unique_room()
    alice = connect("Alice", room)
    mallory = connect("Mallory")
    fake = {"type": "message", "room": room, "name": "Admin", "text": "fake", "id": "1"}
    mallory.mqtt.publish(f"chat/pub/{room}", json.dumps(fake), qos=0)
    assert mallory.disconnected.wait(10), "an unauthorised publish closes the connection"
    alice.publish("chat/out", {"type": "message", "room": room, "name": "Alice", "text": "real"})
    alice.wait_for(is_message("real"))  # the fake, had it passed, came first
    assert alice.matching(is_message("fake")) == []
    assert [m["text"] for m in wait_stored(emulator, room, 1)] == ["real"]


@pytest.mark.parametrize(
    "change",
    [
        {"text": ""},
        {"text": "x" * 2001},
        {"text": 42},
        {"name": ""},
        {"name": "n" * 41},
        {"room": "bad room"},
        {"room": "a/b"},
        {"room": "r" * 65},
    ],
    ids=lambda c: json.dumps(c)[:40],
)
def test_invalid_messages_are_neither_delivered_nor_stored(emulator, connect, change) -> None:
    room = unique_room()
    alice = connect("Alice", room)
    bad = {"type": "message", "room": room, "name": "Alice", "text": "bad one"} | change
    alice.publish("chat/out", bad)
    alice.publish("chat/out", {"type": "message", "room": room, "name": "Alice", "text": "good"})
    alice.wait_for(is_message("good"))  # messages are handled in order: the bad one is past
    assert [b["text"] for _, b in alice.matching(lambda t, b: b.get("type") == "message")] == [
        "good"
    ]
    assert [m["text"] for m in wait_stored(emulator, room, 1)] == ["good"]


@pytest.mark.parametrize(
    "command",
    [
        {"type": "dance", "room": "lobby"},
        {"type": "join", "room": "no spaces", "name": "Alice"},
        {"type": "history", "room": "lobby", "before": "not-a-cursor"},
        {"type": "join", "room": "lobby"},
    ],
    ids=["unknown-type", "bad-room", "bad-cursor", "no-name"],
)
def test_bad_commands_get_an_error_reply(connect, command) -> None:
    alice = connect("Alice", unique_room(), join=False)
    alice.publish("chat/out", command)
    _, reply = alice.wait_for(lambda t, b: b.get("type") == "error")
    assert reply["code"] == "bad_request" and reply["message"]


def test_malformed_json_is_ignored_and_the_client_keeps_working(connect) -> None:
    room = unique_room()
    alice = connect("Alice", room)
    alice.publish("chat/out", b"{not json")
    alice.publish("chat/out", b"\xff\xfe binary")
    alice.publish("chat/out", {"type": "message", "room": room, "name": "Alice", "text": "still"})
    alice.wait_for(is_message("still"))


def test_oversize_payload_cuts_the_sender_off_and_others_keep_chatting(connect) -> None:
    room = unique_room()
    alice = connect("Alice", room)
    bob = connect("Bob", room)
    bob.mqtt.publish("chat/out", b"x" * (128 * 1024 + 1), qos=0)
    assert bob.disconnected.wait(10)
    alice.publish("chat/out", {"type": "message", "room": room, "name": "Alice", "text": "ok"})
    alice.wait_for(is_message("ok"))


def test_malformed_frames_cut_the_sender_off_and_others_keep_chatting(emulator, connect) -> None:
    room = unique_room()
    alice = connect("Alice", room)
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", emulator.mqtt_port), timeout=5) as raw:
            raw.sendall(b"\xf0\xff\xff\xff\xff" + b"\x00" * 64)  # reserved type, bad length
            raw.settimeout(5)
            with contextlib.suppress(ConnectionResetError):  # a reset is a close too
                assert raw.recv(1024) == b""  # closed by the server
    alice.publish("chat/out", {"type": "message", "room": room, "name": "Alice", "text": "alive"})
    alice.wait_for(is_message("alive"))


def test_a_second_connection_with_the_same_client_id_drops_the_first(emulator) -> None:
    token = emulator.guest_token("Twin")
    client_id = new_client_id(token["clientIdPrefix"])
    authorizer = emulator.config()["authorizer"]
    first = ChatClient("127.0.0.1", emulator.mqtt_port, token["token"], authorizer, client_id)
    second = ChatClient("127.0.0.1", emulator.mqtt_port, token["token"], authorizer, client_id)
    try:
        assert first.connect() == ACCEPTED
        first.mqtt.reconnect_delay_set(60, 60)  # do not fight back for the id
        assert second.connect() == ACCEPTED
        assert first.disconnected.wait(10)
        assert not second.disconnected.is_set()
    finally:
        first.close()
        second.close()
