"""`make run`'s state folder: a restart keeps the messages and the signing key (tokens
issued before it still connect), FRESH=1 starts empty."""

from __future__ import annotations

import subprocess
from pathlib import Path

from emulator.testing import ROOT, EmulatorProcess
from tests.support.chat import stored_messages, unique_room, wait_stored
from tests.support.mqtt_client import ChatClient, new_client_id


def client_with(server: EmulatorProcess, token: dict) -> ChatClient:
    return ChatClient(
        "127.0.0.1",
        server.mqtt_port,
        token["token"],
        server.config()["authorizer"],
        new_client_id(token["clientIdPrefix"]),
    )


def connect_with(server: EmulatorProcess, token: dict) -> str:
    client = client_with(server, token)
    try:
        return client.connect()
    finally:
        client.close()


def test_a_restart_keeps_messages_and_key_and_fresh_forgets_them(tmp_path: Path) -> None:
    state = ["--state-dir", str(tmp_path / "state")]
    room = unique_room()
    server = EmulatorProcess(state).start()
    try:
        token = server.guest_token("Alice")
        alice = client_with(server, token)
        assert alice.connect() == "Success"
        for n in range(3):
            alice.publish(
                "chat/out", {"type": "message", "room": room, "name": "A", "text": f"m{n}"}
            )
        alice.close()
        assert len(wait_stored(server, room, 3)) == 3
        server.stop()
        server.start()
        assert sorted(m["text"] for m in stored_messages(server, room)) == ["m0", "m1", "m2"]
        assert connect_with(server, token) == "Success"  # the same signing key
    finally:
        server.stop()

    fresh = EmulatorProcess([*state, "--fresh"]).start()
    try:
        assert stored_messages(fresh, room) == []
        assert connect_with(fresh, token) != "Success"  # a new key: the old token is refused
    finally:
        fresh.stop()


def test_make_run_keeps_state_in_the_checkout_unless_fresh() -> None:
    def run(*args: str) -> str:
        made = subprocess.run(
            ["make", "-n", "run", *args], cwd=ROOT, capture_output=True, text=True, check=True
        )
        return made.stdout

    assert "--state-dir .local-state" in run() and "--fresh" not in run()
    assert "--fresh" in run("FRESH=1")
    assert ".local-state/" in (ROOT / ".gitignore").read_text().splitlines()
