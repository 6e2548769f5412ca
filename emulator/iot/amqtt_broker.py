"""amqtt's Broker with IoT Core's rules hooked into its connection and message paths.

Overridden (amqtt 0.12.1 internals, pinned): the connection entry (custom auth
before any session is touched, duplicate client ids, limits), authentication and
topic filtering (IoT policies), subscription handling (limits, QoS 1 max,
lifecycle events), client publish delivery (policy refusal closes the connection and
never reaches the rules) and retained-message replay (Receive policy applies).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from amqtt.adapters import ReaderAdapter
from amqtt.broker import AMQTT_MAGIC_VALUE_RET_SUBSCRIBED, Broker
from amqtt.contexts import Action
from amqtt.errors import AMQTTError, MQTTError, NoDataError
from amqtt.mqtt.connack import IDENTIFIER_REJECTED, NOT_AUTHORIZED, ConnackPacket
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.session import Session

from emulator.iot import lifecycle
from emulator.iot.auth import AuthRefused
from emulator.iot.connection import Connection
from emulator.iot.framing import FrameError
from emulator.iot.limits import MAX_QOS, topic_problem
from emulator.iot.transport import TcpWriter, TransportInfo

if TYPE_CHECKING:
    from emulator.iot.broker import IotBroker

log = logging.getLogger(__name__)
CONNECTION_KEY = "emulator.iot.connection"
_TAKEOVER_TIMEOUT_S = 5.0


def connection_of(session: Session | None) -> Connection | None:
    """The IoT connection state attached to an amqtt session."""
    return session.attributes.get(CONNECTION_KEY) if session is not None else None


class AmqttBroker(Broker):
    """amqtt Broker subclass; all IoT decisions are delegated to the owning IotBroker."""

    def __init__(self, iot: IotBroker, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._iot = iot

    # ---- connections -------------------------------------------------------------

    async def stream_connected(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, listener_name: str
    ) -> None:
        """TCP entry point (amqtt's start_server callback)."""
        tcp_writer = TcpWriter(writer)
        peer = tcp_writer.get_peer_info() or ("", 0)
        info = TransportInfo(source_ip=peer[0], source_port=peer[1], protocol="tcp")
        conn = self._iot.new_connection(info, _StreamReader(reader), tcp_writer)
        await self.serve(conn, listener_name)

    async def serve(self, conn: Connection, listener_name: str) -> None:
        """Run one connection to its end, whatever happens, then clean up."""
        self._iot.track(conn)
        try:
            await self._serve(conn, listener_name)
        except FrameError as exc:
            log.info("closing %s: %s", conn.transport.source_ip, exc)
        except (AMQTTError, MQTTError, NoDataError, ConnectionError) as exc:
            log.debug("connection ended: %r", exc)
        except Exception:
            log.exception("unexpected error on an MQTT connection")
        finally:
            await self._iot.finish(conn)

    async def _serve(self, conn: Connection, listener_name: str) -> None:
        iot = self._iot
        handler, session = await BrokerProtocolHandler.init_from_connect(
            conn.guard, conn.writer, self.plugins_manager
        )
        client_id = session.client_id or ""
        conn.client_id = client_id
        if len(client_id.encode()) > iot.limits.max_client_id_bytes:
            log.info("refusing client id of %d bytes", len(client_id.encode()))
            await _connack(conn, IDENTIFIER_REJECTED)
            return
        try:
            assert conn.guard.connect is not None
            event = iot.authorizer.build_event(conn.transport, conn.guard.connect)
            conn.authorize(await iot.authorizer.authorize(event))
            if not conn.allowed("iot:Connect", conn.arns.client(client_id)):
                raise AuthRefused(f"iot:Connect denied for client id {client_id!r}")
        except AuthRefused as exc:
            log.info("connection refused (%s): %s", client_id, exc)
            await _connack(conn, NOT_AUTHORIZED)
            if lifecycle.has_lifecycle_events(client_id):
                await iot.publish_event(
                    *lifecycle.connect_failed(client_id, conn.transport.source_ip)
                )
            return
        await self._take_over(conn)
        session = await self._adopt_session(session)
        session.attributes[CONNECTION_KEY] = conn
        conn.handler = handler
        conn.version = iot.versions.next(client_id)
        conn.accepted = True
        iot.start_timers(conn, event)
        if lifecycle.has_lifecycle_events(client_id):
            await iot.publish_event(
                *lifecycle.connected(
                    client_id,
                    conn.session_id,
                    conn.principal,
                    conn.transport.source_ip,
                    conn.version,
                )
            )
        await self._handle_client_session(
            conn.guard, conn.writer, session, handler, self._servers[listener_name], listener_name
        )

    async def _take_over(self, conn: Connection) -> None:
        """AWS drops the older connection of a client id once the new one is authorized."""
        old = self._iot.live.get(conn.client_id)
        self._iot.live[conn.client_id] = conn
        if old is None or old is conn:
            return
        await old.close(lifecycle.DUPLICATE_CLIENTID)
        try:
            await asyncio.wait_for(old.done.wait(), _TAKEOVER_TIMEOUT_S)
        except TimeoutError:
            old.writer.abort()

    async def _adopt_session(self, session: Session) -> Session:
        """amqtt's clean/persistent session bookkeeping, run only after authorization."""
        client_id = session.client_id or ""
        if session.clean_session:
            await self._delete_session(client_id)
            session.parent = 0
            return session
        existing = self._sessions.get(client_id, (None, None))[0]
        if existing is None:
            session.parent = 0
            return session
        for name in ("will_flag", "will_message", "will_topic", "will_qos", "keep_alive"):
            setattr(existing, name, getattr(session, name))
        existing.username, existing.password = session.username, session.password
        existing.parent = 1
        return existing

    async def _authenticate(self, session: Session, _: Any) -> bool:
        """Authentication already ran (custom authorizer) before the session was adopted."""
        return connection_of(session) is not None

    # ---- authorization ------------------------------------------------------------

    async def _topic_filtering(self, session: Session, topic: str, action: Action) -> bool:
        conn = connection_of(session)
        if conn is None:
            return False
        if action == Action.RECEIVE:
            return conn.allowed("iot:Receive", conn.arns.topic(topic))
        if action == Action.SUBSCRIBE:
            return conn.allowed("iot:Subscribe", conn.arns.topicfilter(topic))
        return conn.allowed("iot:Publish", conn.arns.topic(topic))

    async def add_subscription(self, subscription: tuple[str, int], session: Session) -> int:
        topic_filter, qos = subscription
        conn = connection_of(session)
        if conn is None or topic_problem(topic_filter, self._iot.limits, allow_wildcards=True):
            return AMQTT_MAGIC_VALUE_RET_SUBSCRIBED
        if (
            topic_filter not in conn.subscriptions
            and len(conn.subscriptions) >= self._iot.limits.max_subscriptions
        ):
            return AMQTT_MAGIC_VALUE_RET_SUBSCRIBED
        granted = await super().add_subscription((topic_filter, min(qos, MAX_QOS)), session)
        if granted != AMQTT_MAGIC_VALUE_RET_SUBSCRIBED:
            conn.subscriptions.add(topic_filter)
        return granted

    async def _handle_subscription(
        self,
        client_session: Session,
        handler: BrokerProtocolHandler,
        subscribe_waiter: asyncio.Future[Any],
    ) -> None:
        subscriptions = subscribe_waiter.result()
        codes = [await self.add_subscription(s, client_session) for s in subscriptions.topics]
        await handler.mqtt_acknowledge_subscription(subscriptions.packet_id, codes)
        accepted = [
            (topic, code)
            for (topic, _), code in zip(subscriptions.topics, codes, strict=True)
            if code != AMQTT_MAGIC_VALUE_RET_SUBSCRIBED
        ]
        conn = connection_of(client_session)
        if accepted and conn is not None and lifecycle.has_lifecycle_events(conn.client_id):
            await self._iot.publish_event(
                *lifecycle.subscription(
                    "subscribed",
                    conn.client_id,
                    conn.session_id,
                    conn.principal,
                    [t for t, _ in accepted],
                )
            )
        for subscription in accepted:
            await self._publish_retained_messages_for_subscription(subscription, client_session)

    async def _handle_unsubscription(
        self,
        client_session: Session,
        handler: BrokerProtocolHandler,
        unsubscribe_waiter: asyncio.Future[Any],
    ) -> None:
        unsubscription = unsubscribe_waiter.result()
        conn = connection_of(client_session)
        for topic in unsubscription.topics:
            self._del_subscription(topic, client_session)
            if conn is not None:
                conn.subscriptions.discard(topic)
        await handler.mqtt_acknowledge_unsubscription(unsubscription.packet_id)
        if conn is not None and lifecycle.has_lifecycle_events(conn.client_id):
            await self._iot.publish_event(
                *lifecycle.subscription(
                    "unsubscribed",
                    conn.client_id,
                    conn.session_id,
                    conn.principal,
                    list(unsubscription.topics),
                )
            )

    async def _publish_retained_messages_for_subscription(
        self, subscription: tuple[str, int], session: Session
    ) -> None:
        """Replay retained messages, but only those the Receive policy allows."""
        topic_filter, qos = subscription
        handler = self._get_handler(session)
        if handler is None:
            return
        for topic, retained in list(self._retained_messages.items()):
            if self._matches(topic, topic_filter) and await self._topic_filtering(
                session, topic, Action.RECEIVE
            ):
                await handler.mqtt_publish(
                    topic, retained.data, min(qos, retained.qos or qos), retain=True
                )

    # ---- publishes ----------------------------------------------------------------

    async def _handle_message_delivery(
        self,
        client_session: Session,
        handler: BrokerProtocolHandler,
        wait_deliver: asyncio.Future[Any],
    ) -> bool:
        """A client PUBLISH: topic rules, iot:Publish, then subscribers and the rules hook."""
        message = wait_deliver.result()
        conn = connection_of(client_session)
        if message is None or conn is None:
            return True
        topic = message.topic
        problem = topic_problem(topic, self._iot.limits) or (
            "reserved topic" if topic.startswith("$") else None
        )
        if problem:
            log.info("%s: invalid publish topic %r (%s), closing", conn.client_id, topic, problem)
            await conn.close(lifecycle.CLIENT_ERROR)
            return True
        if not conn.allowed("iot:Publish", conn.arns.topic(topic)):
            log.info("%s: iot:Publish denied on %r, closing as AWS does", conn.client_id, topic)
            await conn.close(lifecycle.AUTH_ERROR)
            return True
        await Broker._broadcast_message(self, client_session, topic, message.data)
        if message.publish_packet is not None and message.publish_packet.retain_flag:
            await self.retain_message(client_session, topic, message.data, message.qos)
        self._iot.dispatch(
            topic, bytes(message.data), self._iot.client_context(conn, topic, message.qos or 0)
        )
        return True

    async def _broadcast_message(
        self,
        session: Session | None,
        topic: str | None,
        data: bytes | bytearray | None,
        force_qos: int | None = None,
    ) -> None:
        """Reached by amqtt only for will messages (and internal broadcasts, session None)."""
        conn = connection_of(session)
        if session is not None and (
            conn is None or topic is None or not conn.allowed("iot:Publish", conn.arns.topic(topic))
        ):
            return
        await super()._broadcast_message(session, topic, data, force_qos)
        if conn is not None and topic is not None and data is not None:
            self._iot.dispatch(
                topic, bytes(data), self._iot.client_context(conn, topic, force_qos or 0)
            )


class _StreamReader(ReaderAdapter):
    """Minimal ReaderAdapter over asyncio.StreamReader (exact reads, EOF as IncompleteReadError)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    async def read(self, n: int = -1) -> bytes:
        return await (self._reader.read() if n < 0 else self._reader.readexactly(n))

    def feed_eof(self) -> None:
        self._reader.feed_eof()


async def _connack(conn: Connection, code: int) -> None:
    """Answer a refused CONNECT and close."""
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ConnackPacket.build(0, code).to_stream(conn.writer)
    await conn.writer.close()
