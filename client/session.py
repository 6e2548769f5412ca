"""A chat session over one MQTT connection: the topics, the JSON commands, an inbox queue.

Everything the broker delivers lands in `inbox` as an Incoming, in arrival order, so the
commands (chat, send, listen) and the benchmark all read one queue from one thread.
"""

from __future__ import annotations

import itertools
import json
import queue
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from awscrt import mqtt

from client import connection
from client.connection import ConnectSpec
from client.errors import ClientError
from client.limits import SEQ_MAX, check_name, check_room, check_text, topic
from client.site import SiteConfig, fetch_token, load_config


@dataclass(frozen=True)
class Incoming:
    """One delivered message; `payload` is None when it was not a JSON object."""

    topic: str
    payload: dict[str, Any] | None
    received_ns: int


def make_client_id(prefix: str) -> str:
    """A fresh client id under the prefix the policy allows (`<principal>-*`)."""
    if not prefix:
        return f"device-{uuid.uuid4().hex[:12]}"
    sep = "" if prefix.endswith("-") else "-"
    return f"{prefix}{sep}{uuid.uuid4().hex[:12]}"


def _decode(payload: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(payload)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class ChatSession:
    """One connected client: join rooms, send commands, read `inbox`."""

    def __init__(
        self,
        spec: ConnectSpec,
        topic_root: str = "chat",
        sink: Callable[[str, bytes, int], None] | None = None,
    ) -> None:
        """`sink`, if given, gets every delivery raw (topic, payload, receipt ns) instead of
        `inbox`: the benchmark keeps the CRT callback down to one append."""
        self.spec = spec
        self.root = topic_root
        self.sink = sink
        self.inbox: queue.Queue[Incoming] = queue.Queue()
        self._seq = itertools.count()  # orders our messages within one millisecond
        self.conn = connection.build(
            spec,
            on_connection_interrupted=self._on_interrupted,
            on_connection_resumed=self._on_resumed,
        )
        self.connected = False

    @property
    def client_id(self) -> str:
        return self.spec.client_id

    @property
    def out_topic(self) -> str:
        return topic("out", self.root)

    @property
    def stream_topic(self) -> str:
        return topic("stream", self.root)

    @property
    def inbox_topic(self) -> str:
        return topic("inbox", self.root, clientId=self.client_id)

    def room_topic(self, room: str) -> str:
        return topic("room", self.root, room=room)

    def _on_message(self, topic: str, payload: bytes, **_: Any) -> None:
        if self.sink is not None:
            self.sink(topic, payload, time.time_ns())
            return
        self.inbox.put(Incoming(topic, _decode(payload), time.time_ns()))

    def _on_interrupted(self, connection: Any, error: Exception, **_: Any) -> None:
        self.inbox.put(Incoming("$client/interrupted", {"error": str(error)}, time.time_ns()))

    def _on_resumed(self, connection: Any, return_code: Any, session_present: bool, **_: Any):
        self.inbox.put(Incoming("$client/resumed", {"code": int(return_code)}, time.time_ns()))

    def open(self, timeout: float = 10.0, inbox: bool = True) -> ChatSession:
        """Connect, then subscribe to this client's reply topic (unless `inbox=False`)."""
        connection.connect(self.conn, self.spec, timeout)
        self.connected = True
        if inbox:
            self.subscribe(self.inbox_topic, timeout=timeout)
        return self

    def subscribe(self, topic: str, qos: int = 1, timeout: float = 10.0) -> None:
        """Subscribe and wait for the SUBACK; a refused filter (0x80) is an error."""
        future, _ = self.conn.subscribe(topic, mqtt.QoS(qos), callback=self._on_message)
        try:
            result = future.result(timeout)
        except Exception as exc:
            raise ClientError(f"subscribe to {topic} failed: {exc}") from None
        if result.get("qos") is None:
            raise ClientError(f"subscribe to {topic} refused by the broker's policy")

    def publish(self, topic: str, body: dict[str, Any] | bytes, qos: int = 1) -> Future:
        """Publish JSON (or raw bytes); the future completes on PUBACK for QoS 1."""
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        future, _ = self.conn.publish(topic, payload, mqtt.QoS(qos))
        return future

    def join(self, room: str, name: str, timeout: float = 10.0) -> None:
        """Subscribe to the room's traffic, then announce ourselves (the backlog follows)."""
        check_room(room)
        check_name(name)
        self.subscribe(self.room_topic(room), timeout=timeout)
        self.publish(self.out_topic, {"type": "join", "room": room, "name": name}).result(timeout)

    def send(self, room: str, name: str, text: str, stream: bool = False) -> Future:
        """Post a chat message on chat/out (or chat/stream), numbered by ``seq`` so the
        room keeps our messages in the order we sent them, even within one millisecond."""
        body = {
            "type": "message",
            "room": check_room(room),
            "name": check_name(name),
            "text": check_text(text),
            "seq": next(self._seq) % (SEQ_MAX + 1),
        }
        return self.publish(self.stream_topic if stream else self.out_topic, body)

    def history(self, room: str, before: str | None = None) -> Future:
        """Ask for one page of older messages; the answer arrives on the inbox topic."""
        body: dict[str, Any] = {"type": "history", "room": check_room(room)}
        if before:
            body["before"] = before
        return self.publish(self.out_topic, body)

    def leave(self, room: str) -> Future:
        return self.publish(self.out_topic, {"type": "leave", "room": room})

    def close(self) -> None:
        if self.connected:
            self.connected = False
            connection.disconnect(self.conn)


def open_site_session(
    site: str,
    name: str,
    transport: str = "auto",
    tcp_port: int | None = None,
    timeout: float = 10.0,
) -> tuple[ChatSession, SiteConfig]:
    """Read config.json, get a guest token for `name`, connect; the usual way in."""
    check_name(name)
    config = load_config(site)
    token = fetch_token(config, name)
    spec = connection.spec_from_url(
        config.mqtt_url,
        make_client_id(token.client_id_prefix),
        config.authorizer,
        token.token,
        transport=transport,
        tcp_port=tcp_port,
    )
    return ChatSession(spec, config.topic_root).open(timeout), config
