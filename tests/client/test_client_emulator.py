"""The client against the real local emulator: connect, join, send, receive, refusals."""

from __future__ import annotations

import json
import time
import uuid

import jwt
import pytest

from client.session import open_site_session
from emulator.testing import EmulatorProcess, free_port
from tests.client.helpers import LiveClient, run_client

pytestmark = pytest.mark.integration


def _room() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def _single_line_error(result, fragment: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and fragment in lines[0], lines[0]
    assert "Traceback" not in result.stderr


def test_send_is_echoed_and_seen_by_a_member(site: EmulatorProcess) -> None:
    room = _room()
    alice, _ = open_site_session(site.base_url, "Alice")
    try:
        alice.join(room, "Alice")
        result = run_client(
            "send", "--site", site.base_url, "--room", room, "--name", "Bob", "hello from bob"
        )
        assert result.returncode == 0, result.stderr
        echo = json.loads(result.stdout)
        assert (echo["type"], echo["text"], echo["name"], echo["room"]) == (
            "message",
            "hello from bob",
            "Bob",
            room,
        )
        assert echo["id"] and echo["ts"] and echo["sender"] and echo["clientId"]
        deadline = time.monotonic() + 15
        got = None
        while got is None and time.monotonic() < deadline:
            item = alice.inbox.get(timeout=max(0.1, deadline - time.monotonic()))
            body = item.payload or {}
            if body.get("type") == "message" and body.get("text") == "hello from bob":
                got = body
        assert got is not None and got["id"] == echo["id"]
    finally:
        alice.close()


def test_send_over_plain_tcp(site: EmulatorProcess) -> None:
    result = run_client(
        "send",
        "--site",
        site.base_url,
        "--transport",
        "tcp",
        "--mqtt-port",
        str(site.mqtt_port),
        "--room",
        _room(),
        "--name",
        "Tcp",
        "over tcp",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["text"] == "over tcp"


def test_listen_prints_room_traffic_as_json_lines(site: EmulatorProcess) -> None:
    room = _room()
    listener = LiveClient(
        "listen",
        "--site",
        site.base_url,
        "--room",
        room,
        "--join",
        "--name",
        "Lis",
        "--seconds",
        "30",
    )
    try:
        listener.wait_for(lambda line: json.loads(line).get("type") == "backlog")
        sent = run_client(
            "send", "--site", site.base_url, "--room", room, "--name", "Bot", "for the listener"
        )
        assert sent.returncode == 0, sent.stderr
        line = listener.wait_for(lambda line: json.loads(line).get("type") == "message")
        assert json.loads(line)["text"] == "for the listener"
    finally:
        listener.proc.terminate()
        listener.finish()


def test_interactive_chat_sends_typed_lines_and_quits(site: EmulatorProcess) -> None:
    room = _room()
    chat = LiveClient(
        "chat", "--site", site.base_url, "--room", room, "--name", "Carol", stdin=True
    )
    try:
        chat.wait_for(lambda line: line.startswith("joined"))
        chat.wait_for(lambda line: line.startswith("* in") and "Carol" in line)
        chat.write("typed by carol\n")
        chat.wait_for(lambda line: line.endswith("Carol: typed by carol"))
        chat.write("/quit\n")
        chat.wait_for(lambda line: line == f"left {room}")
        assert chat.finish() == 0
    finally:
        if chat.proc.poll() is None:
            chat.proc.kill()


def test_forged_token_is_refused_with_one_line(site: EmulatorProcess) -> None:
    now = int(time.time())
    claims = {"sub": "mallory", "iss": "x", "aud": "x", "iat": now, "exp": now + 600}
    forged = jwt.encode(claims, "not-the-real-secret-but-long-enough-for-hs256", "HS256")
    for transport in ("ws", "tcp"):
        result = run_client(
            "send",
            "--site",
            site.base_url,
            "--room",
            "lobby",
            "--name",
            "Mallory",
            "--token",
            forged,
            "--client-id",
            "mallory-1",
            "--transport",
            transport,
            "--mqtt-port",
            str(site.mqtt_port),
            "hi",
        )
        _single_line_error(result, "refused")


def test_bad_room_and_oversize_message_are_refused(site: EmulatorProcess) -> None:
    bad = run_client("send", "--site", site.base_url, "--room", "no good!", "--name", "Bob", "hi")
    _single_line_error(bad, "bad room name")
    big = run_client(
        "send", "--site", site.base_url, "--room", "lobby", "--name", "Bob", "x" * 2001
    )
    _single_line_error(big, "too long")


def test_unreachable_site_and_endpoint(site: EmulatorProcess) -> None:
    nowhere = run_client(
        "send",
        "--site",
        f"http://127.0.0.1:{free_port()}",
        "--room",
        "lobby",
        "--name",
        "Bob",
        "hi",
    )
    _single_line_error(nowhere, "cannot reach")
    no_broker = run_client(
        "send",
        "--site",
        site.base_url,
        "--transport",
        "tcp",
        "--mqtt-port",
        str(free_port()),
        "--room",
        "lobby",
        "--name",
        "Bob",
        "hi",
    )
    _single_line_error(no_broker, "cannot reach the MQTT endpoint")
