"""One network connection: the MQTT protocol state machine from CONNECT to close.

Bytes come in through ``data_received`` (from TCP or WebSocket), packets are
handled synchronously except the CONNECT decision, which awaits the hooks; packets
that arrive meanwhile wait their turn. Everything the connection writes goes
through its ``Transport``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any, Protocol

from emulator.mqtt import hooks as H
from emulator.mqtt import properties as P
from emulator.mqtt import reasons
from emulator.mqtt.codec import (
    Decoder,
    MqttError,
    UnsupportedProtocolVersion,
    encode,
    packet_id_bytes,
)
from emulator.mqtt.message import Message, forwarded_properties
from emulator.mqtt.packets import (
    MQTT_5,
    PUBACK,
    Ack,
    Auth,
    Connack,
    Connect,
    Disconnect,
    Packet,
    PingReq,
    PingResp,
    Publish,
    Suback,
    Subscribe,
    SubscriptionRequest,
    Unsuback,
    Unsubscribe,
)
from emulator.mqtt.session import Session
from emulator.mqtt.topics import FilterSpec, parse_filter, topic_name_problem

if TYPE_CHECKING:
    from emulator.mqtt.broker import Broker

log = logging.getLogger(__name__)

_PINGRESP = encode(PingResp(), 4)
_V3_REFUSED_VERSION = b"\x20\x02\x00\x01"  # CONNACK, 3.1.1 return code 1
_CLOSE_GRACE_S = 2.0


class Transport(Protocol):
    """What a connection needs from TCP or WebSocket."""

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...

    def buffered(self) -> int: ...


class Connection:
    """A client connection; ``state`` is whatever the hooks' Accept carried."""

    def __init__(self, broker: Broker, transport: Transport, peer: H.Peer) -> None:
        self.broker = broker
        self.transport = transport
        self.peer = peer
        settings = broker.settings
        self.decoder = Decoder(side="server", max_packet_size=settings.max_packet_size)
        self.version = 0
        self.client_id = ""
        self.connect: Connect | None = None
        self.state: Any = None
        self.session: Session | None = None
        self.accepted = False
        self.closing = False
        self.close_reason: H.CloseReason | None = None
        self.keep_alive = 0
        self.send_window = settings.max_inflight_out
        self.max_outgoing_packet: int | None = None
        self.will: Message | None = None
        self.will_delay = 0
        self.will_expiry: int | None = None
        self.last_received = time.monotonic()
        self._v5 = False
        self._aliases: dict[int, str] = {}
        self._waiting: list[Packet] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._abort_timer: asyncio.TimerHandle | None = None
        self._auth_task: asyncio.Task[None] | None = None
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._timer = loop.call_later(settings.connect_timeout_s, self._connect_timed_out)

    def __repr__(self) -> str:
        return f"<Connection {self.client_id or '?'} from {self.peer.host}:{self.peer.port}>"

    # ---- input ----------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        """Bytes from the peer."""
        if self.closing:
            return
        self.last_received = time.monotonic()
        try:
            packets = self.decoder.feed(data)
        except UnsupportedProtocolVersion as exc:
            self._refuse_version(exc)
            return
        except MqttError as exc:
            self._protocol_error(exc)
            return
        for packet in packets:
            if self._waiting is not None:
                self._waiting.append(packet)
            else:
                self._handle(packet)
            if self.closing:
                return
        if self.decoder.error is not None and self._waiting is None:
            self._protocol_error(self.decoder.error)

    def transport_lost(
        self, *, closed_by_peer: bool = False, error: Exception | None = None
    ) -> None:
        """The transport is gone (end of stream, reset, or a WebSocket Close frame)."""
        if self.closing:
            self._cancel_abort()
            return
        kind = H.TRANSPORT_CLOSED if closed_by_peer else H.CONNECTION_LOST
        self._close(H.CloseReason(kind, detail=repr(error) if error else ""), notify=False)

    def _handle(self, packet: Packet) -> None:
        if not self.accepted:
            if isinstance(packet, Connect):
                self._on_connect(packet)
            return
        if isinstance(packet, Publish):
            self._on_publish(packet)
        elif isinstance(packet, Ack):
            if packet.kind == PUBACK:
                session = self.session
                if session is not None:
                    session.acknowledged(packet.packet_id)
            else:  # PUBREC, PUBREL, PUBCOMP: this broker has no QoS 2
                self._protocol_error(MqttError("QoS 2 acknowledgements are not supported"))
        elif isinstance(packet, PingReq):
            self.transport.write(_PINGRESP)
        elif isinstance(packet, Subscribe):
            self._on_subscribe(packet)
        elif isinstance(packet, Unsubscribe):
            self._on_unsubscribe(packet)
        elif isinstance(packet, Disconnect):
            self._on_disconnect(packet)
        elif isinstance(packet, Auth):
            self._protocol_error(MqttError("AUTH is not supported"))

    # ---- CONNECT --------------------------------------------------------------------

    def _on_connect(self, packet: Connect) -> None:
        self._cancel_timer()
        settings = self.broker.settings
        self.version = packet.version
        self._v5 = packet.version == MQTT_5
        self.connect = packet
        props = packet.properties
        client_id = packet.client_id
        assigned = False
        if not client_id:
            if not packet.clean_start and not self._v5:
                self._refuse(reasons.CLIENT_IDENTIFIER_NOT_VALID, "empty client id, clean 0")
                return
            client_id = settings.assigned_client_id_prefix + uuid.uuid4().hex
            assigned = True
        self.client_id = client_id
        if P.AUTHENTICATION_METHOD in props:
            self._refuse(reasons.BAD_AUTHENTICATION_METHOD, "extended authentication")
            return
        if packet.will is not None:
            code = self._will_problem(packet)
            if code:
                self._refuse(code, "will not accepted")
                return
        request = H.ConnectRequest(
            peer=self.peer,
            version=packet.version,
            client_id=client_id,
            client_id_assigned=assigned,
            clean_start=packet.clean_start,
            keep_alive=packet.keep_alive,
            username=packet.username,
            password=packet.password,
            will=packet.will,
            properties=props,
        )
        self._waiting = []
        self._auth_task = self._loop.create_task(self._authenticate(request))
        self.broker.track(self._auth_task)

    def _will_problem(self, packet: Connect) -> int:
        will = packet.will
        assert will is not None
        if topic_name_problem(will.topic):
            return reasons.TOPIC_NAME_INVALID
        if will.qos > 1:
            return reasons.QOS_NOT_SUPPORTED
        return 0

    async def _authenticate(self, request: H.ConnectRequest) -> None:
        try:
            decision = await self.broker.hooks.authenticate(request)
        except Exception:
            log.exception("authenticate hook failed for %s", request.client_id)
            decision = H.Refuse(reasons.SERVER_UNAVAILABLE, "authentication failed")
        if self.closing:
            return
        if isinstance(decision, H.Refuse):
            self._refuse(decision.reason_code, decision.detail)
            return
        self.state = decision.state
        self._accept(request)
        waiting, self._waiting = self._waiting or [], None
        for packet in waiting:
            if self.closing:
                return
            self._handle(packet)
        if self.decoder.error is not None and not self.closing:
            self._protocol_error(self.decoder.error)

    def _accept(self, request: H.ConnectRequest) -> None:
        broker = self.broker
        settings = broker.settings
        packet = self.connect
        assert packet is not None
        props = packet.properties
        self.keep_alive = settings.keep_alive(packet.keep_alive)
        if self._v5:
            receive_max = props.get(P.RECEIVE_MAXIMUM, 65_535)
            self.send_window = min(int(receive_max), settings.max_inflight_out)  # type: ignore[call-overload]
            max_packet = props.get(P.MAXIMUM_PACKET_SIZE)
            self.max_outgoing_packet = int(max_packet) if max_packet else None  # type: ignore[call-overload]
            requested_expiry = int(props.get(P.SESSION_EXPIRY_INTERVAL, 0))  # type: ignore[call-overload]
        else:
            requested_expiry = 0 if packet.clean_start else settings.session_expiry_v3_s
        expiry = settings.session_expiry(requested_expiry)
        if packet.will is not None:
            self.will = self._will_message(packet)
            self.will_delay = int(packet.will.properties.get(P.WILL_DELAY_INTERVAL, 0))  # type: ignore[call-overload]
        session, present = broker.attach(self, packet.clean_start, expiry)
        self.session = session
        self.accepted = True
        connack_props: P.Properties = {}
        if self._v5:
            connack_props = broker.connack_properties()
            if expiry != requested_expiry:
                connack_props[P.SESSION_EXPIRY_INTERVAL] = expiry
            if request.client_id_assigned:
                connack_props[P.ASSIGNED_CLIENT_IDENTIFIER] = self.client_id
            if self.keep_alive != packet.keep_alive:
                connack_props[P.SERVER_KEEP_ALIVE] = self.keep_alive
        self.transport.write(encode(Connack(present, 0, connack_props), self.version))
        broker.hooks.on_connected(self, present)
        self._arm_keep_alive()
        if not self.closing:
            session.resume(self, settings.stored_delivery_rate)

    def _will_message(self, packet: Connect) -> Message:
        will = packet.will
        assert will is not None
        self.will_expiry = self.broker.settings.message_expiry(
            will.properties.get(P.MESSAGE_EXPIRY_INTERVAL)  # type: ignore[arg-type]
        )
        return Message(
            will.topic,
            will.payload,
            will.qos,
            will.retain,
            forwarded_properties(will.properties),
            origin=self.client_id,
        )

    def _refuse(self, code: int, detail: str) -> None:
        log.info("refusing %s: %s (0x%02x)", self.client_id or self.peer.host, detail, code)
        self.transport.write(encode(Connack(False, code), self.version or 4))
        self._close(H.CloseReason(H.REFUSED, code, detail=detail), notify=False)

    def _refuse_version(self, exc: MqttError) -> None:
        log.info("refusing %s:%d: %s", self.peer.host, self.peer.port, exc)
        self.transport.write(_V3_REFUSED_VERSION)
        self._close(H.CloseReason(H.PROTOCOL_ERROR, exc.reason_code, detail=str(exc)), notify=False)

    # ---- PUBLISH --------------------------------------------------------------------

    def _on_publish(self, packet: Publish) -> None:
        broker = self.broker
        topic = packet.topic
        props = packet.properties
        if self._v5 and props:
            alias = props.get(P.TOPIC_ALIAS)
            if alias is not None:
                if alias > broker.settings.topic_alias_maximum:  # type: ignore[operator]
                    self.close_with(reasons.TOPIC_ALIAS_INVALID, "topic alias out of range")
                    return
                if topic:
                    self._aliases[alias] = topic  # type: ignore[index]
                else:
                    topic = self._aliases.get(alias, "")  # type: ignore[call-overload]
                    if not topic:
                        self._protocol_error(MqttError("unknown topic alias"))
                        return
                    packet.topic = topic
            if P.SUBSCRIPTION_IDENTIFIER in props:
                self._protocol_error(MqttError("a client may not send Subscription Identifiers"))
                return
        problem = topic_name_problem(topic)
        if problem:
            self.close_with(reasons.TOPIC_NAME_INVALID, problem, kind=H.PROTOCOL_ERROR)
            return
        if packet.qos > 1:
            if self._v5:
                self.close_with(reasons.QOS_NOT_SUPPORTED, "QoS 2 publish", kind=H.PROTOCOL_ERROR)
            elif broker.settings.qos2_requests == "disconnect":
                self._protocol_error(MqttError("QoS 2 publish is not supported"))
            return  # "ignore": no acknowledgement, nothing delivered
        expires_at = None
        if props:
            expiry = broker.settings.message_expiry(
                props.get(P.MESSAGE_EXPIRY_INTERVAL)  # type: ignore[arg-type]
            )
            if expiry is not None:
                expires_at = time.monotonic() + expiry
        message = Message(
            topic,
            packet.payload,
            packet.qos,
            packet.retain,
            forwarded_properties(props),
            expires_at,
            self.client_id,
        )
        refusal = broker.hooks.check_publish(self, packet, message)
        if refusal is not None:
            if refusal.disconnect:
                self.close_with(refusal.reason_code, refusal.detail, tag=refusal.tag)
            elif packet.qos:
                self._puback(packet.packet_id, refusal.reason_code)  # type: ignore[arg-type]
            return
        broker.hooks.on_publish_accepted(self, message)
        broker.route(message)
        if packet.qos:
            self._puback(packet.packet_id, 0)  # type: ignore[arg-type]

    def _puback(self, packet_id: int, code: int) -> None:
        if self._v5 and code:
            self.transport.write(encode(Ack(PUBACK, packet_id, code), MQTT_5))
        else:
            self.transport.write(b"\x40\x02" + packet_id_bytes(packet_id))

    def send_message(
        self, message: Message, qos: int, retain: bool, packet_id: int | None, dup: bool = False
    ) -> None:
        """Write one PUBLISH of ``message`` (receive checks are the caller's)."""
        head, tail = message.wire(self._v5, qos, retain)
        limit = self.max_outgoing_packet
        if limit is not None and len(head) + len(tail) + 2 > limit:
            return  # MQTT 5: never send a packet over the client's Maximum Packet Size
        if dup:
            head = bytes((head[0] | 0x08,)) + head[1:]
        transport = self.transport
        if packet_id is None:
            transport.write(head + tail)
        else:
            transport.write(head + packet_id_bytes(packet_id) + tail)
        if transport.buffered() > self.broker.settings.max_write_buffer and not self.closing:
            # Not now: this runs while the broker routes a message to many sessions.
            self._loop.call_soon(self._slow_consumer)

    def _slow_consumer(self) -> None:
        self.close_with(reasons.QUOTA_EXCEEDED, "client is not reading", kind=H.SLOW_CONSUMER)

    # ---- SUBSCRIBE / UNSUBSCRIBE --------------------------------------------------------

    def _on_subscribe(self, packet: Subscribe) -> None:
        broker = self.broker
        hooks = broker.hooks
        settings = broker.settings
        if P.SUBSCRIPTION_IDENTIFIER in packet.properties:
            self.close_with(
                reasons.SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED,
                "subscription identifiers are not supported",
                kind=H.PROTOCOL_ERROR,
            )
            return
        if settings.qos2_requests == "ignore" and any(r.qos > 1 for r in packet.requests):
            log.info("%s: SUBSCRIBE with QoS 2 ignored", self.client_id)
            return
        refusal = hooks.check_subscribe(self, packet)
        if refusal is not None and refusal.disconnect:
            self.close_with(refusal.reason_code, refusal.detail, tag=refusal.tag)
            return
        session = self.session
        assert session is not None
        codes: list[int] = []
        granted: list[tuple[FilterSpec, SubscriptionRequest, int, bool]] = []
        for request in packet.requests:
            judged = self._judge(request, refusal)
            if judged is None:
                return  # the connection was closed
            code, spec = judged
            if spec is not None:
                existed = broker.subscribe(session, spec, request, code)
                granted.append((spec, request, code, existed))
            codes.append(code if self._v5 or not reasons.is_failure(code) else 0x80)
        self.transport.write(encode(Suback(packet.packet_id, codes), self.version))
        if granted:
            hooks.on_subscribed(self, [spec.raw for spec, _, _, _ in granted])
        for spec, request, code, existed in granted:
            broker.send_retained(self, spec, request, code, existed)

    def _judge(
        self, request: SubscriptionRequest, refusal: H.Refusal | None
    ) -> tuple[int, FilterSpec | None] | None:
        """(granted QoS and the parsed filter) or (failure code, None); None if closed."""
        try:
            spec = parse_filter(request.topic_filter)
        except ValueError:
            return reasons.TOPIC_FILTER_INVALID, None
        if spec.share is not None:
            if not self.broker.settings.shared_subscriptions:
                return reasons.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED, None
            if request.no_local:
                self._protocol_error(MqttError("No Local on a shared subscription"))
                return None
        if refusal is not None:
            return refusal.reason_code, None
        code = self.broker.hooks.authorize_subscription(self, spec, request)
        if code is not None:
            return code, None
        return min(request.qos, 1), spec

    def _on_unsubscribe(self, packet: Unsubscribe) -> None:
        session = self.session
        assert session is not None
        codes = []
        for raw in packet.topic_filters:
            try:
                spec = parse_filter(raw)
            except ValueError:
                codes.append(reasons.TOPIC_FILTER_INVALID)
                continue
            found = self.broker.unsubscribe(session, spec)
            codes.append(reasons.SUCCESS if found else reasons.NO_SUBSCRIPTION_EXISTED)
        self.transport.write(
            encode(Unsuback(packet.packet_id, codes if self._v5 else []), self.version)
        )
        self.broker.hooks.on_unsubscribed(self, list(packet.topic_filters))

    # ---- DISCONNECT and closing -----------------------------------------------------------

    def _on_disconnect(self, packet: Disconnect) -> None:
        session = self.session
        new_expiry = packet.properties.get(P.SESSION_EXPIRY_INTERVAL)
        if new_expiry is not None and session is not None:
            if session.expiry_interval == 0 and new_expiry:
                self._protocol_error(MqttError("Session Expiry Interval set after 0"))
                return
            session.expiry_interval = self.broker.settings.session_expiry(int(new_expiry))  # type: ignore[call-overload]
        kind = H.CLIENT_DISCONNECT if packet.reason_code == 0 else H.CLIENT_DISCONNECT_WITH_WILL
        self._close(H.CloseReason(kind, packet.reason_code), notify=False)

    def close_with(
        self, reason_code: int, detail: str = "", *, kind: str = H.REFUSED, tag: Any = None
    ) -> None:
        """Close from the broker's side; an MQTT 5 client is told why with DISCONNECT."""
        self._close(H.CloseReason(kind, reason_code, tag, detail), notify=True)

    def _protocol_error(self, exc: MqttError) -> None:
        log.info("%r: %s", self, exc)
        self._close(H.CloseReason(H.PROTOCOL_ERROR, exc.reason_code, detail=str(exc)), notify=True)

    def _close(self, reason: H.CloseReason, *, notify: bool) -> None:
        if self.closing:
            return
        self.closing = True
        self.close_reason = reason
        self._cancel_timer()
        if self._auth_task is not None and not self._auth_task.done():
            self._auth_task.cancel()
        if notify and self._v5 and self.accepted and reason.reason_code >= 0x80:
            self.transport.write(encode(Disconnect(reason.reason_code), MQTT_5))
        if self.accepted:
            self.broker.detach(self, reason)
        self.broker.forget(self)
        self.transport.close()
        self._abort_timer = self._loop.call_later(_CLOSE_GRACE_S, self.transport.abort)

    def _cancel_abort(self) -> None:
        if self._abort_timer is not None:
            self._abort_timer.cancel()
            self._abort_timer = None

    # ---- timers ---------------------------------------------------------------------

    def _connect_timed_out(self) -> None:
        self._timer = None
        self._close(H.CloseReason(H.CONNECT_TIMEOUT, detail="no CONNECT in time"), notify=False)

    def _arm_keep_alive(self) -> None:
        if self.keep_alive and not self.closing:
            grace = self.keep_alive * self.broker.settings.keep_alive_grace
            self._timer = self._loop.call_at(self.last_received + grace, self._check_keep_alive)

    def _check_keep_alive(self) -> None:
        self._timer = None
        grace = self.keep_alive * self.broker.settings.keep_alive_grace
        if time.monotonic() - self.last_received >= grace:
            self._close(
                H.CloseReason(H.KEEP_ALIVE_TIMEOUT, reasons.KEEP_ALIVE_TIMEOUT), notify=True
            )
            return
        self._timer = self._loop.call_at(self.last_received + grace, self._check_keep_alive)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
