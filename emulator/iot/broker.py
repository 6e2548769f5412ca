"""IotBroker: the local AWS IoT Core message broker (public interface of emulator.iot)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from emulator.iot import lifecycle
from emulator.iot.amqtt_broker import AmqttBroker
from emulator.iot.auth import AuthorizerInvoke, AuthRefused, CustomAuthorizer
from emulator.iot.connection import Connection
from emulator.iot.context import MessageContext
from emulator.iot.framing import FrameGuard
from emulator.iot.limits import Limits, topic_problem
from emulator.iot.policy import IotArns
from emulator.iot.transport import TcpWriter, TransportInfo, WsReader, WsWriter

log = logging.getLogger(__name__)

PublishHook = Callable[[str, bytes, MessageContext], Awaitable[None] | None]
WS_LISTENER = "ws"
_STOP_TIMEOUT_S = 5.0


class IotBroker:
    """MQTT 3.1.1 broker behaving like AWS IoT Core towards clients and the rules engine.

    on_publish(topic, payload, ctx) is called once per accepted publish: client
    publishes that passed iot:Publish, will messages, and everything sent through
    publish() (data plane, republish actions, lifecycle events). If it returns an
    awaitable, that runs as a task the broker tracks and awaits on stop().
    """

    def __init__(
        self,
        *,
        invoke_authorizer: AuthorizerInvoke,
        authorizer_name: str,
        on_publish: PublishHook | None = None,
        host: str = "127.0.0.1",
        mqtt_port: int | None = 0,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        authorizer_timeout_s: float = 5.0,
        token_key_name: str = "token",  # noqa: S107 (a query parameter name)
        password_as_token: bool = True,
        default_authorizer: bool = False,
        limits: Limits | None = None,
    ) -> None:
        self.authorizer = CustomAuthorizer(
            authorizer_name,
            invoke_authorizer,
            timeout_s=authorizer_timeout_s,
            token_key_name=token_key_name,
            password_as_token=password_as_token,
            is_default=default_authorizer,
        )
        self.on_publish = on_publish
        self.host = host
        self.limits = limits or Limits()
        self.arns = IotArns(region, account_id)
        self.versions = lifecycle.VersionCounter()
        self.live: dict[str, Connection] = {}
        self._requested_port = mqtt_port
        self._bound_port: int | None = None
        self._amqtt: AmqttBroker | None = None
        self._connections: set[Connection] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    # ---- lifecycle ----------------------------------------------------------------

    @property
    def mqtt_port(self) -> int | None:
        """The TCP port actually bound (None before start or without TCP)."""
        return self._bound_port

    async def start(self) -> None:
        """Start the TCP listener (if any) and make the WebSocket listener available."""
        listeners: dict[str, Any] = {WS_LISTENER: {"type": "external", "bind": "external"}}
        if self._requested_port is None:
            listeners["default"] = {"type": "external", "bind": "external"}
        else:
            listeners["default"] = {"type": "tcp", "bind": f"{self.host}:{self._requested_port}"}
        broker = AmqttBroker(
            self, {"listeners": listeners, "plugins": {}, "timeout_disconnect_delay": 0}
        )
        await broker.start()
        self._amqtt = broker
        server = broker._servers.get("default")
        sockets = getattr(getattr(server, "instance", None), "sockets", None)
        if self._requested_port is not None and sockets:
            self._bound_port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close every connection (SERVER_INITIATED_DISCONNECT), the listener and all tasks."""
        broker, self._amqtt = self._amqtt, None
        if broker is None:
            return
        self._stopping_broker = broker
        conns = list(self._connections)
        await asyncio.gather(
            *(c.close(lifecycle.SERVER_INITIATED_DISCONNECT) for c in conns), return_exceptions=True
        )
        pending = [asyncio.ensure_future(c.done.wait()) for c in conns]
        if pending:
            _, late = await asyncio.wait(pending, timeout=_STOP_TIMEOUT_S)
            for task in late:
                task.cancel()
        for conn in list(self._connections):
            conn.writer.abort()
        await broker.shutdown()
        if self._tasks:
            _, late = await asyncio.wait(list(self._tasks), timeout=_STOP_TIMEOUT_S)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._bound_port = None

    # ---- transports -----------------------------------------------------------------

    async def handle_websocket(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        """Serve MQTT on a prepared aiohttp WebSocket until it closes (the /mqtt route)."""
        broker = self._amqtt
        if broker is None:
            await ws.close(code=1013)
            return
        peer = request.transport.get_extra_info("peername") if request.transport else None
        ip, port = (peer[0], peer[1]) if peer else (request.remote or "", 0)
        info = TransportInfo(
            source_ip=ip,
            source_port=port,
            protocol="ws",
            http_headers={k.lower(): v for k, v in request.headers.items()},
            http_query=request.query_string,
        )
        reader = WsReader(ws)
        conn = self.new_connection(info, reader, WsWriter(ws, (ip, port), request.transport))
        conn.ws_reader = reader
        await broker.serve(conn, WS_LISTENER)

    def new_connection(
        self, info: TransportInfo, source: Any, writer: TcpWriter | WsWriter
    ) -> Connection:
        """Connection state for a freshly accepted transport."""
        return Connection(info, FrameGuard(source, self.limits), writer, self.arns)

    def track(self, conn: Connection) -> None:
        """Remember a running connection (stop() closes them)."""
        self._connections.add(conn)

    async def finish(self, conn: Connection) -> None:
        """Last step of every connection: timers, registry, socket, disconnect event."""
        conn.cancel_timers()
        if self.live.get(conn.client_id) is conn:
            del self.live[conn.client_id]
        await conn.writer.close()
        try:
            if conn.accepted and lifecycle.has_lifecycle_events(conn.client_id):
                await self.publish_event(
                    *lifecycle.disconnected(
                        conn.client_id,
                        conn.session_id,
                        conn.principal,
                        conn.transport.source_ip,
                        conn.version,
                        conn.final_reason(),
                    )
                )
        finally:
            conn.done.set()
            self._connections.discard(conn)

    def start_timers(self, conn: Connection, event: dict[str, Any]) -> None:
        """disconnectAfterInSeconds and refreshAfterInSeconds of the authorizer's answer."""
        assert conn.auth is not None
        loop = asyncio.get_running_loop()
        conn.timers.append(
            loop.call_later(
                conn.auth.disconnect_after_s,
                lambda: self._spawn(conn.close(lifecycle.SERVER_INITIATED_DISCONNECT)),
            )
        )
        if conn.auth.refresh_after_s:
            conn.timers.append(asyncio.ensure_future(self._refresh(conn, event)))

    async def _refresh(self, conn: Connection, event: dict[str, Any]) -> None:
        while conn.auth is not None and conn.auth.refresh_after_s:
            await asyncio.sleep(conn.auth.refresh_after_s)
            try:
                conn.authorize(await self.authorizer.authorize(event))
            except AuthRefused as exc:
                log.info("%s: refresh refused (%s), closing", conn.client_id, exc)
                await conn.close(lifecycle.AUTH_ERROR)
                return

    # ---- publishing -------------------------------------------------------------------

    async def publish(
        self,
        topic: str,
        payload: bytes,
        qos: int = 0,
        *,
        retain: bool = False,
        context: MessageContext | None = None,
    ) -> None:
        """Internal publish (data plane, rules, lifecycle): subscribers, then on_publish.

        '$aws/...' topics are allowed here; subscribers still need iot:Receive.
        Raises ValueError for an invalid topic or payload, RuntimeError when stopped.
        """
        broker = self._amqtt
        if broker is None:
            raise RuntimeError("broker is not running")
        problem = topic_problem(topic, self.limits)
        if problem:
            raise ValueError(problem)
        if len(payload) > self.limits.max_payload_bytes:
            raise ValueError(f"payload larger than {self.limits.max_payload_bytes} bytes")
        await broker.internal_message_broadcast(topic, payload)
        if retain:
            await broker.retain_message(None, topic, payload, qos)
        self.dispatch(topic, payload, context or MessageContext(topic=topic, qos=qos))

    async def publish_event(self, topic: str, payload: bytes) -> None:
        """Publish a lifecycle event (skipped silently once the broker is stopping)."""
        broker = self._amqtt or getattr(self, "_stopping_broker", None)
        if broker is None:
            return
        await broker.internal_message_broadcast(topic, payload)
        self.dispatch(topic, payload, MessageContext(topic=topic, qos=1))

    def client_context(self, conn: Connection, topic: str, qos: int) -> MessageContext:
        """MessageContext of a publish made by a client."""
        return MessageContext(
            topic=topic,
            client_id=conn.client_id,
            principal=conn.principal,
            source_ip=conn.transport.source_ip,
            qos=qos,
        )

    def dispatch(self, topic: str, payload: bytes, ctx: MessageContext) -> None:
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
            self._spawn(result)

    def _spawn(self, awaitable: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    def connected_client_ids(self) -> list[str]:
        """Client ids with a live, authorized connection."""
        return sorted(self.live)

    async def __aenter__(self) -> IotBroker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            await self.stop()
