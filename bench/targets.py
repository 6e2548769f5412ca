"""The systems a load runs against, behind one small interface.

The emulator is driven as a real client would (guest token per client, join, post on
chat/out or chat/stream; the rules republish to chat/pub/<room>). Bare brokers have no
rules and no auth, so there clients publish the same JSON straight to chat/pub/<room>.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from client import connection
from client.connection import ConnectSpec
from client.errors import ClientError
from client.session import ChatSession, make_client_id
from client.site import GuestToken, SiteConfig, fetch_token, load_config

Sink = Callable[[str, bytes, int], None]


@dataclass
class Target:
    """One system under test; `pid` (when we started it) lets us read its CPU time."""

    name: str
    pid: int | None = None
    transport: str = "tcp"
    port: int = 0  # the MQTT port the clients connect to (0: unknown)

    rules: bool = False  # True: messages go through chat/out or chat/stream and the rules
    path: str = "direct"

    def open(self, index: int, sink: Sink | None) -> ChatSession:
        raise NotImplementedError

    def prepare(self, session: ChatSession, room: str, name: str) -> None:
        """Subscribe `session` to `room` (and join it where the rules know rooms)."""
        session.subscribe(session.room_topic(room))

    def publish(self, session: ChatSession, room: str, name: str, text: str):
        """Publish one message the way this target expects; returns the PUBACK future."""
        body = {"type": "message", "room": room, "name": name, "text": text}
        return session.publish(session.room_topic(room), json.dumps(body).encode())


@dataclass
class BrokerTarget(Target):
    """A bare MQTT broker on plain TCP, anonymous."""

    def open(self, index: int, sink: Sink | None) -> ChatSession:
        spec = ConnectSpec("127.0.0.1", self.port, "tcp", f"bench-{index}-{id(self) % 10000}")
        return ChatSession(spec, "chat", sink=sink).open(inbox=False)


@dataclass
class EmulatorTarget(Target):
    """The local emulator (or any site): tokens, custom auth, rules, Lambda, storage."""

    site: str = ""
    mqtt_port: int | None = None
    dynamodb_endpoint: str | None = None  # the emulator's moto endpoint, when known
    config: SiteConfig | None = None

    def __post_init__(self) -> None:
        self.rules = True
        self.config = load_config(self.site)
        if not self.port:  # the port the clients' sockets connect to (TCP_NODELAY is set on them)
            ws_port = urlsplit(self.config.mqtt_url).port
            self.port = (self.mqtt_port if self.transport == "tcp" else ws_port) or 0

    def open(self, index: int, sink: Sink | None) -> ChatSession:
        assert self.config is not None
        token = self._token(f"bench{index}")
        spec = connection.spec_from_url(
            self.config.mqtt_url,
            make_client_id(token.client_id_prefix),
            self.config.authorizer,
            token.token,
            transport=self.transport,
            tcp_port=self.mqtt_port,
        )
        # A busy machine's authorizer can take long; keep-alive must exceed the ping timeout.
        spec = dataclasses.replace(spec, ping_timeout_ms=60_000, keep_alive_secs=120)
        return ChatSession(spec, self.config.topic_root, sink=sink).open(timeout=60)

    def _token(self, name: str, attempts: int = 3) -> GuestToken:
        """A guest token; retried a little, since cold Lambda workers on a loaded machine
        can exceed the token function's timeout (HTTP 502) the first time."""
        assert self.config is not None
        for attempt in range(1, attempts + 1):
            try:
                return fetch_token(self.config, name, timeout=60)
            except ClientError:
                if attempt == attempts:
                    raise
                time.sleep(attempt)
        raise AssertionError("unreachable")

    def prepare(self, session: ChatSession, room: str, name: str) -> None:
        session.join(room, name, timeout=60)

    def publish(self, session: ChatSession, room: str, name: str, text: str):
        body = {"type": "message", "room": room, "name": name, "text": text}
        topic = session.stream_topic if self.path == "stream" else session.out_topic
        return session.publish(topic, json.dumps(body).encode())
