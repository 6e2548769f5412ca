"""A real MQTT client (paho) speaking the chat's contract, for integration tests."""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

Predicate = Callable[[str, Any], bool]


class ChatClient:
    """Connects with a guest token over TCP or WebSocket and records what it receives."""

    def __init__(
        self,
        host: str,
        port: int,
        token: str,
        authorizer: str,
        client_id: str,
        *,
        transport: str = "tcp",
        ws_query: str | None = None,
    ) -> None:
        self.client_id = client_id
        self.received: list[tuple[str, Any]] = []
        self._cond = threading.Condition()
        self.connack: queue.Queue[Any] = queue.Queue()
        self.disconnected = threading.Event()
        self.suback: queue.Queue[list[Any]] = queue.Queue()
        self.mqtt = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            transport="websockets" if transport == "ws" else "tcp",
            protocol=mqtt.MQTTv311,
        )
        if transport == "ws":
            self.mqtt.ws_set_options(path=f"/mqtt?{ws_query}")
        else:
            self.mqtt.username_pw_set(f"test?x-amz-customauthorizer-name={authorizer}", token)
        self.mqtt.on_connect = lambda c, u, f, rc, p: self.connack.put(rc)
        self.mqtt.on_disconnect = lambda c, u, f, rc, p: self.disconnected.set()
        self.mqtt.on_subscribe = lambda c, u, mid, rcs, p: self.suback.put(rcs)
        self.mqtt.on_message = self._on_message
        self.host, self.port = host, port

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            body: Any = json.loads(msg.payload)
        except ValueError:
            body = msg.payload
        with self._cond:
            self.received.append((msg.topic, body))
            self._cond.notify_all()

    def connect(self, timeout: float = 10) -> str:
        """Connect and return the CONNACK's reason: "Success", "Not authorized", ..."""
        self.mqtt.connect(self.host, self.port, keepalive=30)
        self.mqtt.loop_start()
        return str(self.connack.get(timeout=timeout))

    def subscribe(self, *filters: str, timeout: float = 10) -> list[Any]:
        self.mqtt.subscribe([(f, 1) for f in filters])
        return self.suback.get(timeout=timeout)

    def publish(self, topic: str, payload: Any, qos: int = 1) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload)
        self.mqtt.publish(topic, data, qos=qos).wait_for_publish(10)

    def wait_for(self, predicate: Predicate, timeout: float = 10) -> tuple[str, Any]:
        """The first received (topic, body) matching, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for item in self.received:
                    if predicate(*item):
                        return item
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self.client_id}: nothing matched; got {self.received}")
                self._cond.wait(left)

    def matching(self, predicate: Predicate) -> list[tuple[str, Any]]:
        with self._cond:
            return [item for item in self.received if predicate(*item)]

    def close(self) -> None:
        self.mqtt.disconnect()
        self.mqtt.loop_stop()


def new_client_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
