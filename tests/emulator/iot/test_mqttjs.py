"""mqtt.js (the browser client's library) in node, over WebSocket, MQTT 3.1.1 and 5."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.iot.harness import ALL, AUTHORIZER, Client, Harness, allow, wait_for

SCRIPT = Path(__file__).with_name("mqttjs_client.js")
ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules" / "mqtt").is_dir(),
    reason="node and `make setup`'s node_modules are needed",
)


class MqttJs:
    """Drives mqttjs_client.js: commands on stdin, events on stdout."""

    def __init__(self, harness: Harness, client_id: str, token: str, **config: Any) -> None:
        url = (
            f"ws://127.0.0.1:{harness.http_port}/mqtt"
            f"?x-amz-customauthorizer-name={AUTHORIZER}&token={token}"
        )
        config = {"url": url, "clientId": client_id, "protocolVersion": 4, **config}
        self.events: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(
            ["node", str(SCRIPT), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._ids = 0

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.cond:
                self.events.append(json.loads(line))
                self.cond.notify_all()

    def wait(self, event: str, timeout: float = 10, **match: Any) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            for item in self.events:
                if item["event"] == event and all(item.get(k) == v for k, v in match.items()):
                    return item
            return None

        with self.cond:
            assert self.cond.wait_for(found, timeout), f"no {event} {match}: {self.events}"
            result = found()
            assert result is not None
            return result

    def command(self, op: str, **fields: Any) -> int:
        self._ids += 1
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, "id": self._ids, **fields}) + "\n")
        self.proc.stdin.flush()
        return self._ids

    def messages(self) -> list[dict[str, Any]]:
        with self.cond:
            return [e for e in self.events if e["event"] == "message"]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def clients(harness: Harness):  # type: ignore[no-untyped-def]
    opened: list[MqttJs] = []

    def _open(client_id: str, token: str, **config: Any) -> MqttJs:
        client = MqttJs(harness, client_id, token, **config)
        opened.append(client)
        return client

    yield _open
    for client in opened:
        client.close()


@pytest.mark.parametrize("version", [4, 5])
def test_mqttjs_subscribes_receives_and_publishes(harness: Harness, clients, version: int) -> None:
    alice = clients("alice-js", "alice", protocolVersion=version)
    alice.wait("connect")
    alice.command("subscribe", topic="chat/in/alice-js")
    assert alice.wait("suback")["granted"][0]["qos"] == 1
    refused = alice.command("subscribe", topic="chat/in/bob-1")
    error = alice.wait("suback", id=refused)["error"]  # mqtt.js names the SUBACK code
    assert error == (
        "Subscribe error: Unspecified error" if version == 4 else "Subscribe error: Not authorized"
    )
    harness.publish("chat/in/alice-js", b'{"type":"backlog"}', 1)
    message = alice.wait("message")
    assert (message["topic"], message["payload"], message["qos"]) == (
        "chat/in/alice-js",
        '{"type":"backlog"}',
        1,
    )
    sent = alice.command("publish", topic="chat/out", payload='{"type":"join"}')
    assert alice.wait("puback", id=sent)["error"] is None
    wait_for(lambda: "chat/out" in harness.published_topics())


def test_mqttjs_v5_sees_puback_not_authorized_and_properties(harness: Harness, clients) -> None:
    harness.authorizer.tokens["all"] = allow("bob", policy=ALL)
    bob = clients("bob-js", "all", protocolVersion=5)
    bob.wait("connect")
    bob.command("subscribe", topic="t/props")
    bob.wait("suback")
    sent = bob.command(
        "publish",
        topic="t/props",
        payload="x",
        properties={"userProperties": {"k": "v"}, "contentType": "text/plain"},
    )
    assert bob.wait("puback", id=sent)["error"] is None
    message = bob.wait("message")
    assert message["properties"]["userProperties"] == {"k": "v"}
    assert message["properties"]["contentType"] == "text/plain"
    alice = clients("alice-js", "alice", protocolVersion=5)
    alice.wait("connect")
    denied = alice.command("publish", topic="chat/pub/lobby", payload="forged")
    assert alice.wait("puback", id=denied)["reasonCode"] == 0x87


@pytest.mark.parametrize("version", [4, 5])
def test_mqttjs_retained_will_without_retain_publish_is_refused(
    harness: Harness, clients, version: int
) -> None:
    will = {"topic": "chat/out", "payload": "x", "qos": 1, "retain": True}
    alice = clients("alice-js", "alice", protocolVersion=version, will=will)
    error = alice.wait("error")
    assert error["code"] == (5 if version == 4 else 0x87)
    harness.wait_event("connect_failed", "alice-js")


def test_mqttjs_forced_end_is_a_lost_connection_and_sends_the_will(
    harness: Harness, clients
) -> None:
    harness.authorizer.tokens["all"] = allow("bob", policy=ALL)
    watcher = Client(harness, "bob-1", "all").connect()
    watcher.subscribe("status/bob-js")
    will = {"topic": "status/bob-js", "payload": "gone", "qos": 1, "retain": False}
    bob = clients("bob-js", "all", will=will)
    bob.wait("connect")
    bob.command("end", force=True)  # in node: the socket is destroyed, no DISCONNECT, no Close
    event = harness.wait_event("disconnected", "bob-js")[0]
    assert (event["disconnectReason"], event["clientInitiatedDisconnect"]) == (
        "CONNECTION_LOST",
        False,
    )
    assert watcher.wait_messages(1)[0].payload == b"gone"
    watcher.close()
