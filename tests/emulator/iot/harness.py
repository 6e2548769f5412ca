"""IotBroker + the HTTP app on a private event loop thread, and paho clients that record."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from aiohttp import web
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from emulator.http import create_app
from emulator.http.cors import CorsConfig
from emulator.http.function_url import FunctionUrlRoute
from emulator.iot import IotBroker, Limits, PublishMetadata
from emulator.iot.auth import Authorizers, CustomAuthorizer
from emulator.mqtt.codec import Decoder, encode
from emulator.mqtt.packets import Connect, PingReq, PingResp

AUTHORIZER = "ChatAuthorizer"
ACCOUNT = "123456789012"
REGION = "us-east-1"
V3, V5 = paho.MQTTv311, paho.MQTTv5
# Tests may use authorizer TTLs of a few seconds (AWS's minimum is 300).
TEST_LIMITS = Limits(authorizer_min_ttl_s=1)


def arn(kind: str, name: str) -> str:
    return f"arn:aws:iot:{REGION}:{ACCOUNT}:{kind}/{name}"


def statement(action: str | list[str], resources: list[str], effect: str = "Allow") -> dict:
    return {"Effect": effect, "Action": action, "Resource": resources}


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def chat_policy(
    principal: str, *, subscribe: list[str] | None = None, receive: list[str] | None = None
) -> str:
    """The design's policy: connect as <principal>-*, own chat/in, rooms, publish chat/out."""
    return policy(
        statement("iot:Connect", [arn("client", f"{principal}-*")]),
        statement(
            "iot:Subscribe",
            subscribe
            or [arn("topicfilter", "chat/in/${iot:ClientId}"), arn("topicfilter", "chat/pub/*")],
        ),
        statement(
            "iot:Receive",
            receive or [arn("topic", "chat/in/${iot:ClientId}"), arn("topic", "chat/pub/*")],
        ),
        statement("iot:Publish", [arn("topic", "chat/out"), arn("topic", "chat/stream")]),
    )


ALL = policy(statement("iot:*", ["*"]))


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
    """Answers by token (the event's token, else the decoded MQTT password).

    ``tokens`` maps a token to a response dict, an exception or "slow".
    """

    def __init__(self) -> None:
        self.tokens: dict[str, Any] = {
            "alice": allow("alice"),
            "bob": allow("bob"),
            "admin": allow("admin", policy=ALL),
        }
        self.events: list[dict[str, Any]] = []

    async def __call__(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        token = event.get("token")
        password = event["protocolData"]["mqtt"].get("password")
        if token is None and password is not None:
            token = base64.b64decode(password).decode()
        answer = self.tokens.get(token or "", {"isAuthenticated": False})
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
        self.published: list[tuple[str, bytes, PublishMetadata]] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._limits = limits or TEST_LIMITS
        self._web_root = web_root
        self._token_cors = token_cors
        self._broker_kw = broker_kw
        self.token_events: list[dict[str, Any]] = []
        self.token_result: Any = {"token": "t", "clientIdPrefix": "alice", "expiresAt": 1}

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def run(self, fn: Callable[[], Any]) -> Any:
        """Run a plain function on the broker's loop and return its result."""

        async def _run() -> Any:
            return fn()

        return self.call(_run())

    def start(self) -> Harness:
        self.thread.start()
        self.call(self._start())
        return self

    async def _invoke_token(self, event: dict[str, Any], _request: web.Request) -> Any:
        self.token_events.append(event)
        if isinstance(self.token_result, Exception):
            raise self.token_result
        return self.token_result

    async def _start(self) -> None:
        authorizer = CustomAuthorizer(
            AUTHORIZER,
            self.authorizer,
            timeout_s=self._broker_kw.pop("authorizer_timeout_s", 5.0),
            min_ttl_s=self._limits.authorizer_min_ttl_s,
            max_ttl_s=self._limits.authorizer_max_ttl_s,
        )
        self.broker = IotBroker(
            authorizers=Authorizers([authorizer]),
            on_publish=lambda t, p, c: self.published.append((t, p, c)),
            limits=self._limits,
            **self._broker_kw,
        )
        await self.broker.start()
        app = create_app(
            broker=self.broker,
            web_root=self._web_root,
            function_urls=[FunctionUrlRoute("Token", "/", self._invoke_token, self._token_cors)],
            site_config={"authorizer": AUTHORIZER, "tokenUrl": "/api/token", "topicRoot": "chat"},
            limits=self._limits,
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

    def allow_all(self, *tokens: str) -> Harness:
        """Tokens whose principal (the token itself) may do anything (iot:* on *)."""
        for token in tokens:
            self.authorizer.tokens[token] = allow(token, policy=ALL)
        return self

    def publish(self, topic: str, payload: bytes, qos: int = 0, *, retain: bool = False) -> None:
        self.call(self.broker.publish(topic, payload, qos, retain=retain))

    def published_topics(self) -> list[str]:
        return [t for t, _, _ in self.published]

    def events(self, kind: str, client_id: str | None = None) -> list[dict[str, Any]]:
        """Lifecycle events of one kind (connected, disconnected, connect_failed, ...)."""
        found = []
        for topic, payload, _ in list(self.published):
            if not topic.startswith("$aws/events/"):
                continue
            event = json.loads(payload)
            if event["eventType"] == kind and client_id in (None, event["clientId"]):
                found.append(event)
        return found

    def wait_event(self, kind: str, client_id: str, count: int = 1) -> list[dict[str, Any]]:
        """Wait until ``count`` events of a kind exist for a client, and return them."""
        return wait_for(
            lambda: len(self.events(kind, client_id)) >= count and self.events(kind, client_id)
        )


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
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def _code(value: Any) -> int:
    return int(getattr(value, "value", value))


class Client:
    """A paho client (MQTT 3.1.1 or 5, TCP or WebSocket) recording what happens.

    ``messages`` holds paho MQTTMessages; ``connack`` is the CONNACK code as sent on
    the wire for the client's version (3.1.1 return codes are mapped back from
    paho's MQTT 5 reason codes).
    """

    def __init__(
        self,
        harness: Harness,
        client_id: str,
        token: str | None,
        *,
        version: int = V3,
        transport: str = "tcp",
        authorizer: str = AUTHORIZER,
        keepalive: int = 60,
        clean: bool = True,
        session_expiry: int | None = None,
        manual_ack: bool = False,
    ) -> None:
        self.version = version
        self.messages: list[paho.MQTTMessage] = []
        self.suback: list[int] = []
        self.subacks: dict[int, list[int]] = {}
        self.unsuback: list[list[int]] = []
        self.puback: dict[int, int] = {}
        self.connack: int | None = None
        self.session_present: bool | None = None
        self.connack_properties: Properties | None = None
        self.disconnect_code: int | None = None
        self.disconnected = threading.Event()
        self.connected = threading.Event()
        self.lock = threading.Condition()
        kwargs: dict[str, Any] = {}
        if version == V3:
            kwargs["clean_session"] = clean
        self.c = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=version,
            transport="websockets" if transport == "ws" else "tcp",
            manual_ack=manual_ack,
            reconnect_on_failure=False,
            **kwargs,
        )
        self.clean = clean
        self.session_expiry = session_expiry
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_subscribe = self._on_subscribe
        self.c.on_unsubscribe = lambda _c, _u, _m, codes, _p: self.unsuback.append(
            [_code(x) for x in codes]
        )
        self.c.on_publish = self._on_publish
        self.c.on_disconnect = self._on_disconnect
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

    # ---- callbacks ------------------------------------------------------------------

    def _on_connect(self, _c: Any, _u: Any, flags: Any, reason: Any, props: Any) -> None:
        value = _code(reason)
        if self.version == V3:  # paho 2 reports 3.1.1 return codes as MQTT 5 reasons
            value = {128: 3, 132: 1, 133: 2, 134: 4, 135: 5}.get(value, value)
        self.connack = value
        self.session_present = bool(flags.session_present)
        self.connack_properties = props
        self.connected.set()

    def _on_message(self, _c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        with self.lock:
            self.messages.append(msg)
            self.lock.notify_all()

    def _on_subscribe(self, _c: Any, _u: Any, mid: int, codes: list[Any], _p: Any) -> None:
        with self.lock:
            self.subacks[mid] = [_code(x) for x in codes]
            self.suback.extend(self.subacks[mid])
            self.lock.notify_all()

    def _suback(self, mid: int, timeout: float = 5.0) -> list[int]:
        with self.lock:
            assert self.lock.wait_for(lambda: mid in self.subacks, timeout), "no SUBACK"
            return self.subacks[mid]

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        with self.lock:
            self.puback[mid] = _code(reason)
            self.lock.notify_all()

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.disconnect_code = _code(reason)
        self.disconnected.set()

    # ---- actions --------------------------------------------------------------------

    def will(
        self, topic: str, payload: bytes, qos: int = 0, retain: bool = False, delay: int = 0
    ) -> Client:
        props = None
        if self.version == V5 and delay:
            props = Properties(PacketTypes.WILLMESSAGE)
            props.WillDelayInterval = delay
        self.c.will_set(topic, payload, qos, retain, props)
        return self

    def connect(self, wait: bool = True) -> Client:
        kwargs: dict[str, Any] = {}
        if self.version == V5:
            kwargs["clean_start"] = self.clean
            if self.session_expiry is not None:
                props = Properties(PacketTypes.CONNECT)
                props.SessionExpiryInterval = self.session_expiry
                kwargs["properties"] = props
        self.c.connect("127.0.0.1", self.host_port, keepalive=self.keepalive, **kwargs)
        self.c.loop_start()
        if wait:
            assert self.connected.wait(10), "no CONNACK"
        return self

    def subscribe(self, topic: str, qos: int = 1, **options: Any) -> int:
        if self.version == V5:
            _, mid = self.c.subscribe(topic, options=paho.SubscribeOptions(qos=qos, **options))
        else:
            _, mid = self.c.subscribe(topic, qos)
        return self._suback(mid)[0]

    def publish(
        self,
        topic: str,
        payload: bytes,
        qos: int = 1,
        *,
        retain: bool = False,
        properties: Properties | None = None,
    ) -> int:
        """Publish; returns the message id (see ``acked``)."""
        return self.c.publish(topic, payload, qos, retain, properties).mid

    def acked(self, mid: int, timeout: float = 5.0) -> int:
        """The PUBACK reason code for a QoS 1 publish (0 for 3.1.1)."""
        with self.lock:
            assert self.lock.wait_for(lambda: mid in self.puback, timeout), "no PUBACK"
            return self.puback[mid]

    def wait_messages(self, count: int, timeout: float = 5.0) -> list[paho.MQTTMessage]:
        with self.lock:
            assert self.lock.wait_for(lambda: len(self.messages) >= count, timeout), (
                f"{len(self.messages)} messages: {[m.topic for m in self.messages]}"
            )
            return list(self.messages)

    def received(self) -> list[tuple[str, bytes]]:
        return [(m.topic, m.payload) for m in self.messages]

    def sync(self) -> None:
        """A round trip through the broker: whatever it sent before has arrived.

        IoT Core refuses a filter on a reserved topic outside $aws/ in the SUBACK, with
        no other effect.
        """
        _, mid = self.c.subscribe("$sync/x", 0)
        self._suback(mid)

    def drop(self) -> None:
        """Lose the connection without DISCONNECT (the socket is shut down)."""
        sock = self.c.socket()
        assert isinstance(sock, socket.socket)
        sock.shutdown(socket.SHUT_RDWR)
        assert self.disconnected.wait(5)
        self.c.loop_stop()

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


class RawClient:
    """A socket speaking MQTT bytes directly, for what real clients refuse to send."""

    def __init__(self, harness: Harness, version: int = V3) -> None:
        self.version = version
        self.sock = socket.create_connection(("127.0.0.1", harness.mqtt_port), timeout=5)
        self.decoder = Decoder(side="client", version=version)
        self.pending: list[Any] = []

    def send(self, *packets: Any) -> None:
        self.sock.sendall(b"".join(encode(p, self.version) for p in packets))

    def connect(self, client_id: str, token: str, **fields: Any) -> Any:
        """Send CONNECT (custom auth in the user name and password); return the CONNACK."""
        self.send(
            Connect(
                self.version,
                client_id,
                username=f"u?x-amz-customauthorizer-name={AUTHORIZER}",
                password=token.encode(),
                **fields,
            )
        )
        return self.read()

    def read(self) -> Any:
        """The next packet, or None once the broker closed the connection."""
        while not self.pending:
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                return None
            self.pending.extend(self.decoder.feed(data))
        return self.pending.pop(0)

    def ping(self) -> list[Any]:
        """PINGREQ, then every packet read up to and including the PINGRESP."""
        self.send(PingReq())
        seen = []
        while True:
            packet = self.read()
            assert packet is not None, "closed before PINGRESP"
            seen.append(packet)
            if isinstance(packet, PingResp):
                return seen

    def close(self) -> None:
        self.sock.close()
