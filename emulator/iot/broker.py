"""IotBroker: the local AWS IoT Core message broker (public interface of emulator.iot).

The MQTT protocol is emulator.mqtt's; this class configures it the way AWS IoT Core
behaves ("MQTT", https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html, and
"AWS IoT Core endpoints and quotas", https://docs.aws.amazon.com/general/latest/gr/
iot-core.html#message-broker-limits) and plugs in IotHooks for everything AWS decides.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from emulator.iot import lifecycle
from emulator.iot.auth import Authorizers
from emulator.iot.context import PublishMetadata
from emulator.iot.hooks import Closing, IotHooks
from emulator.iot.limits import MAX_QOS, Limits, topic_problem
from emulator.iot.policy import IotArns
from emulator.mqtt import Broker, Message, Peer, Settings, TcpListener, reasons, serve_websocket

log = logging.getLogger(__name__)

PublishHook = Callable[[str, bytes, PublishMetadata], Awaitable[None] | None]
_STOP_TIMEOUT_S = 5.0


def broker_settings(limits: Limits) -> Settings:
    """The MQTT core configured as AWS IoT Core documents its broker."""
    return Settings(
        max_packet_size=limits.max_packet_bytes,
        receive_maximum=limits.max_inflight,
        max_inflight_out=limits.max_inflight,
        topic_alias_maximum=limits.topic_alias_maximum,
        # Keep-alive 30..1200 s; 0 means the default of 1200 s; disconnect after 1.5x.
        keep_alive_min=limits.min_keepalive_s,
        keep_alive_max=limits.max_keepalive_s,
        keep_alive_default=limits.max_keepalive_s,
        connect_timeout_s=limits.connect_timeout_s,
        session_expiry_v3_s=limits.session_expiry_s,
        session_expiry_max_s=limits.session_expiry_s,
        message_expiry_min_s=limits.message_expiry_min_s,
        message_expiry_max_s=limits.message_expiry_max_s,
        stored_delivery_rate=limits.stored_delivery_rate,
        inflight_ttl_s=limits.qos1_retry_s,
        max_queued_per_session=limits.max_queued_per_session,
        # "sensor/#" does not match "sensor"; retained messages only for exact filters;
        # QoS 2 requests get no PUBACK or SUBACK (AWS IoT differences from MQTT).
        hash_matches_parent=False,
        retained_for_wildcards=False,
        qos2_requests="ignore",
        max_write_buffer=8 * 1024 * 1024,
    )


class IotBroker:
    """MQTT 3.1.1 and 5 over TCP and WebSocket, behaving like AWS IoT Core.

    on_publish(topic, payload, ctx) is called once per accepted publish: client
    publishes that passed the policy, wills, and everything sent through publish()
    (data plane, republish actions) and lifecycle events. If it returns an
    awaitable, that runs as a task the broker tracks and awaits on stop().
    """

    def __init__(
        self,
        *,
        authorizers: Authorizers,
        on_publish: PublishHook | None = None,
        host: str = "127.0.0.1",
        mqtt_port: int | None = 0,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        limits: Limits | None = None,
    ) -> None:
        self.limits = limits or Limits()
        self.authorizers = authorizers
        self.on_publish = on_publish
        self.host = host
        self.arns = IotArns(region, account_id)
        self.hooks = IotHooks(
            authorizers=authorizers,
            limits=self.limits,
            arns=self.arns,
            emit=self.publish_event,
            dispatch=self.dispatch,
        )
        self._requested_port = mqtt_port
        self._bound_port: int | None = None
        self._core: Broker | None = None
        self._listener: TcpListener | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # ---- lifecycle ----------------------------------------------------------------

    @property
    def mqtt_port(self) -> int | None:
        """The TCP port actually bound (None before start or without TCP)."""
        return self._bound_port

    async def start(self) -> None:
        """Start the TCP listener (unless mqtt_port is None) and accept WebSockets."""
        self._core = Broker(self.hooks, broker_settings(self.limits))
        if self._requested_port is not None:
            self._listener = TcpListener(self._core)
            self._bound_port = await self._listener.start(self.host, self._requested_port)

    async def stop(self) -> None:
        """Close every connection (SERVER_INITIATED_DISCONNECT), the listener and all tasks."""
        core = self._core
        if core is None:
            return
        if self._listener is not None:
            self._listener.close()
        await core.close_all()
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None
        self._core = None
        if self._tasks:
            _, late = await asyncio.wait(list(self._tasks), timeout=_STOP_TIMEOUT_S)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._bound_port = None

    async def __aenter__(self) -> IotBroker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            await self.stop()

    # ---- transports -----------------------------------------------------------------

    async def handle_websocket(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        """Serve MQTT on a prepared aiohttp WebSocket until it closes (the /mqtt route)."""
        core = self._core
        if core is None or core.stopping:
            await ws.close(code=1013)
            return
        transport = request.transport
        peer = transport.get_extra_info("peername") if transport else None
        host, port = (peer[0], peer[1]) if peer else (request.remote or "", 0)
        _, has_query, query = request.raw_path.partition("?")
        info = Peer(
            host,
            port,
            "ws",
            tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers),
            query if has_query else None,
        )
        await serve_websocket(core, ws, info, transport)

    # ---- publishing -------------------------------------------------------------------

    async def publish(
        self,
        topic: str,
        payload: bytes,
        qos: int = 0,
        *,
        retain: bool = False,
        context: PublishMetadata | None = None,
    ) -> None:
        """Publish for the data plane or a rule action: subscribers, then on_publish.

        '$aws/...' topics are allowed (subscribers still need iot:Receive), but not
        retained. Raises ValueError for an invalid topic or payload, RuntimeError when
        stopped.
        """
        core = self._core
        if core is None or core.stopping:
            raise RuntimeError("broker is not running")
        problem = topic_problem(topic, self.limits)
        if problem:
            raise ValueError(problem)
        if retain and topic.startswith("$"):
            raise ValueError("a reserved topic cannot hold a retained message")
        if len(payload) > self.limits.max_payload_bytes:
            raise ValueError(f"payload larger than {self.limits.max_payload_bytes} bytes")
        self.dispatch(topic, payload, context or PublishMetadata(topic=topic, qos=qos))
        core.publish(Message(topic, bytes(payload), min(qos, MAX_QOS), retain))

    def publish_event(self, topic: str, payload: bytes) -> None:
        """Publish a lifecycle event to subscribers and the rules."""
        core = self._core
        if core is None:
            return
        self.dispatch(topic, payload, PublishMetadata(topic=topic, qos=1))
        core.publish(Message(topic, payload, 1))

    def dispatch(self, topic: str, payload: bytes, ctx: PublishMetadata) -> None:
        """Hand an accepted message to on_publish; never lets a hook error reach MQTT."""
        hook = self.on_publish
        if hook is None:
            return
        try:
            result = hook(topic, payload, ctx)
        except Exception:
            log.exception("on_publish hook failed for %s", topic)
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("on_publish task failed", exc_info=task.exception())

    # ---- connections ------------------------------------------------------------------

    def has_session(self, client_id: str) -> bool:
        """Whether the broker holds a session for ``client_id`` (connected or persistent)."""
        core = self._core
        return core is not None and client_id in core.sessions

    def disconnect_client(
        self,
        client_id: str,
        *,
        clean_session: bool = False,
        prevent_will: bool = False,
        reason: str = lifecycle.API_INITIATED_DISCONNECT,
        reason_code: int = reasons.ADMINISTRATIVE_ACTION,
    ) -> bool:
        """Close a client's connection from IoT Core's side, as the DeleteConnection API does.

        The client gets DISCONNECT with ``reason_code`` (MQTT 5; default Administrative
        action), the lifecycle event says ``reason`` (default API_INITIATED_DISCONNECT),
        the will is sent unless ``prevent_will``, and ``clean_session`` also discards a
        persistent session. False when the client is neither connected nor has a
        session ("Managing MQTT connections",
        https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html#mqtt-client-disconnect).
        """
        core = self._core
        if core is None:
            return False
        tag = Closing(reason, send_will=not prevent_will)
        found = core.disconnect(client_id, reason_code, tag, reason.lower())
        if clean_session:
            found = core.end_session(client_id) or found
        return found or self.has_session(client_id)
