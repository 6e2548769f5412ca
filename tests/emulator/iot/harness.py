"""Runs IotBroker + the HTTP app on a private event loop thread, for real blocking clients."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from aiohttp import web

from emulator.http import create_app
from emulator.http.cors import CorsConfig
from emulator.iot import IotBroker, Limits, MessageContext

AUTHORIZER = "ChatAuthorizer"
ACCOUNT = "123456789012"
REGION = "us-east-1"


def arn(kind: str, name: str) -> str:
    return f"arn:aws:iot:{REGION}:{ACCOUNT}:{kind}/{name}"


def chat_policy(
    principal: str, *, subscribe: list[str] | None = None, receive: list[str] | None = None
) -> str:
    """The design's policy: connect as <principal>-*, own chat/in, rooms, publish chat/out."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "iot:Connect",
                    "Resource": arn("client", f"{principal}-*"),
                },
                {
                    "Effect": "Allow",
                    "Action": "iot:Subscribe",
                    "Resource": subscribe
                    or [
                        arn("topicfilter", "chat/in/${iot:ClientId}"),
                        arn("topicfilter", "chat/pub/*"),
                    ],
                },
                {
                    "Effect": "Allow",
                    "Action": "iot:Receive",
                    "Resource": receive
                    or [arn("topic", "chat/in/${iot:ClientId}"), arn("topic", "chat/pub/*")],
                },
                {
                    "Effect": "Allow",
                    "Action": "iot:Publish",
                    "Resource": [arn("topic", "chat/out"), arn("topic", "chat/stream")],
                },
            ],
        }
    )


def allow(principal: str, **extra: Any) -> dict[str, Any]:
    """An AWS-shaped authorizer answer."""
    return {
        "isAuthenticated": True,
        "principalId": principal,
        "policyDocuments": [extra.pop("policy", None) or chat_policy(principal)],
        "disconnectAfterInSeconds": 3600,
        "refreshAfterInSeconds": 3600,
        **extra,
    }


class FakeAuthorizer:
    """Answers by token: tokens maps a token to a response dict, an exception or 'slow'."""

    def __init__(self) -> None:
        self.tokens: dict[str, Any] = {"alice": allow("alice"), "bob": allow("bob")}
        self.events: list[dict[str, Any]] = []

    async def __call__(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        answer = self.tokens.get(event.get("token", ""), {"isAuthenticated": False})
        if answer == "slow":
            await asyncio.sleep(30)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Harness:
    """Broker and HTTP server on a background loop; tests stay synchronous."""

    def __init__(
        self,
        *,
        limits: Limits | None = None,
        web_root: Path | None = None,
        token_cors: CorsConfig | None = None,
        **broker_kw: Any,
    ) -> None:
        self.authorizer = FakeAuthorizer()
        self.published: list[tuple[str, bytes, MessageContext]] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._limits = limits
        self._web_root = web_root
        self._token_cors = token_cors
        self._broker_kw = broker_kw
        self.token_events: list[dict[str, Any]] = []
        self.token_result: Any = {"token": "t", "clientIdPrefix": "alice", "expiresAt": 1}

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> Harness:
        self.thread.start()
        self.call(self._start())
        return self

    async def _invoke_token(self, event: dict[str, Any]) -> Any:
        self.token_events.append(event)
        if isinstance(self.token_result, Exception):
            raise self.token_result
        return self.token_result

    async def _start(self) -> None:
        self.broker = IotBroker(
            invoke_authorizer=self.authorizer,
            authorizer_name=AUTHORIZER,
            on_publish=lambda t, p, c: self.published.append((t, p, c)),
            limits=self._limits,
            **self._broker_kw,
        )
        await self.broker.start()
        app = create_app(
            broker=self.broker,
            invoke_token=self._invoke_token,
            web_root=self._web_root,
            authorizer_name=AUTHORIZER,
            limits=self._limits,
            token_cors=self._token_cors,
        )
        self.runner = web.AppRunner(app, shutdown_timeout=2)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.http_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.mqtt_port = self.broker.mqtt_port

    def stop(self) -> None:
        async def _stop() -> None:
            await self.broker.stop()
            await self.runner.cleanup()

        try:
            self.call(_stop())
            leftovers = self.call(_other_tasks())
            assert not leftovers, leftovers
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            self.loop.close()

    def publish(self, topic: str, payload: bytes, qos: int = 0) -> None:
        self.call(self.broker.publish(topic, payload, qos))

    def published_topics(self) -> list[str]:
        return [t for t, _, _ in self.published]


async def _other_tasks() -> list[asyncio.Task[Any]]:
    await asyncio.sleep(0.1)
    current = asyncio.current_task()
    return [t for t in asyncio.all_tasks() if t is not current and not t.done()]


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


class Client:
    """A paho MQTT 3.1.1 client over TCP or WebSockets, recording what happens."""

    def __init__(
        self,
        harness: Harness,
        client_id: str,
        token: str | None,
        *,
        transport: str = "tcp",
        authorizer: str = AUTHORIZER,
        keepalive: int = 60,
    ) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.suback: list[int] = []
        self.connack: int | None = None
        self.disconnected = threading.Event()
        self.connected = threading.Event()
        self.c = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=paho.MQTTv311,
            transport="websockets" if transport == "ws" else "tcp",
        )
        self.c.on_connect = self._on_connect
        self.c.on_message = lambda _c, _u, m: self.messages.append((m.topic, m.payload))
        self.c.on_subscribe = lambda _c, _u, _m, codes, _p: self.suback.extend(
            [getattr(x, "value", x) for x in codes]
        )
        self.c.on_disconnect = lambda *_a: self.disconnected.set()
        if transport == "ws":
            query = f"x-amz-customauthorizer-name={authorizer}" + (
                f"&token={token}" if token else ""
            )
            self.c.ws_set_options(path=f"/mqtt?{query}")
            self.host_port = harness.http_port
        else:
            self.c.username_pw_set(f"user?x-amz-customauthorizer-name={authorizer}", token)
            self.host_port = harness.mqtt_port
        self.keepalive = keepalive

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        # paho 2 reports MQTT 3.1.1 CONNACK codes as MQTT 5 reason codes; map them back.
        value = getattr(reason, "value", reason)
        self.connack = {133: 2, 134: 4, 135: 5}.get(value, value)
        self.connected.set()

    def connect(self) -> Client:
        self.c.connect("127.0.0.1", self.host_port, keepalive=self.keepalive)
        self.c.loop_start()
        self.connected.wait(10)
        return self

    def subscribe(self, topic: str, qos: int = 1) -> int:
        before = len(self.suback)
        self.c.subscribe(topic, qos)
        wait_for(lambda: len(self.suback) > before)
        return self.suback[-1]

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        self.c.publish(topic, payload, qos)

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()
