"""How the embedding service steers the broker: who may connect, publish, receive.

The broker calls ``Hooks`` at each decision point and reports what happened; the
default implementation allows everything and behaves as the MQTT specs say. A
service (for example an AWS IoT Core emulation) subclasses it. Every method but
``authenticate`` runs synchronously on the event loop, so keep them quick.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emulator.mqtt import properties as P
from emulator.mqtt.packets import Publish, Subscribe, SubscriptionRequest, Will

if TYPE_CHECKING:
    from emulator.mqtt.connection import Connection
    from emulator.mqtt.message import Message
    from emulator.mqtt.session import Session
    from emulator.mqtt.topics import FilterSpec

# Why a connection closed (CloseReason.kind).
CLIENT_DISCONNECT = "client_disconnect"  # DISCONNECT with reason 0x00: no will
CLIENT_DISCONNECT_WITH_WILL = "client_disconnect_with_will"  # DISCONNECT with another reason
TRANSPORT_CLOSED = "transport_closed"  # the peer closed the WebSocket with a Close frame
CONNECTION_LOST = "connection_lost"  # end of stream or error without DISCONNECT
PROTOCOL_ERROR = "protocol_error"  # malformed or forbidden packet
KEEP_ALIVE_TIMEOUT = "keep_alive_timeout"
CONNECT_TIMEOUT = "connect_timeout"
TAKEN_OVER = "taken_over"  # another connection with the same client id
SERVER_SHUTDOWN = "server_shutdown"
REFUSED = "refused"  # a hook refused a packet and asked for the connection to close
CLOSED_BY_SERVER = "closed_by_server"  # Broker.disconnect(): the owner closed it
SLOW_CONSUMER = "slow_consumer"  # the client stopped reading


@dataclass(frozen=True, slots=True)
class Peer:
    """Where a connection comes from; the http fields only for WebSockets.

    ``http_headers`` are the upgrade request's headers with names as sent;
    ``http_query`` is its raw query string without '?' (None when there was none).
    """

    host: str
    port: int
    transport: str  # "tcp" or "ws"
    http_headers: tuple[tuple[str, str], ...] = ()
    http_query: str | None = None


@dataclass(slots=True)
class ConnectRequest:
    """A CONNECT as the broker understood it (client id assigned if it was empty)."""

    peer: Peer
    version: int
    client_id: str
    client_id_assigned: bool
    clean_start: bool
    keep_alive: int
    username: str | None
    password: bytes | None
    will: Will | None
    properties: P.Properties = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Accept:
    """Let the client in; ``state`` is kept on the connection for the hooks."""

    state: Any = None


@dataclass(frozen=True, slots=True)
class Refuse:
    """Refuse the CONNECT with an MQTT 5 reason code (mapped for 3.1.1 clients)."""

    reason_code: int
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused PUBLISH or SUBSCRIBE.

    ``disconnect`` True closes the connection (MQTT 5 clients get DISCONNECT with
    ``reason_code``); otherwise an MQTT 5 QoS 1 PUBLISH gets a PUBACK with
    ``reason_code`` (3.1.1 cannot say no: a plain PUBACK), a QoS 0 one is dropped,
    and every filter of a SUBSCRIBE gets ``reason_code``. ``tag`` reaches
    on_disconnected in CloseReason.tag.
    """

    reason_code: int
    disconnect: bool = False
    tag: Any = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class CloseReason:
    """Why a connection ended: ``kind`` (constants above), the MQTT 5 DISCONNECT reason
    code sent to the client when the broker closed it, and the closer's ``tag``."""

    kind: str
    reason_code: int = 0
    tag: Any = None
    detail: str = ""


class Hooks:
    """Decision points and events; the defaults are a plain, open MQTT broker."""

    async def authenticate(self, request: ConnectRequest) -> Accept | Refuse:
        """Decide on a CONNECT (the only asynchronous hook)."""
        return Accept()

    def check_publish(
        self, client: Connection, publish: Publish, message: Message
    ) -> Refusal | None:
        """A client's PUBLISH (topic alias already resolved); None accepts it."""
        return None

    def check_subscribe(self, client: Connection, packet: Subscribe) -> Refusal | None:
        """A whole SUBSCRIBE packet (for limits on it); None lets each filter be judged."""
        return None

    def authorize_subscription(
        self, client: Connection, spec: FilterSpec, request: SubscriptionRequest
    ) -> int | None:
        """One valid filter: None grants it, a failure reason code refuses it."""
        return None

    def can_receive(self, client: Connection, message: Message) -> bool:
        """Checked for every message just before it is sent to a client."""
        return True

    def admit_queued(self, session: Session, message: Message) -> bool:
        """Whether a QoS 1 message may be stored for an offline session."""
        return True

    def authorize_will(self, client: Connection, message: Message) -> bool:
        """Checked when a will is about to be published."""
        return True

    def should_send_will(self, client: Connection, reason: CloseReason) -> bool:
        """MQTT: the will is published unless the client sent DISCONNECT 0x00."""
        return reason.kind != CLIENT_DISCONNECT

    def on_connected(self, client: Connection, session_present: bool) -> None:
        """CONNACK (success) was sent."""

    def on_disconnected(self, client: Connection, reason: CloseReason) -> None:
        """An accepted connection ended."""

    def on_publish_accepted(self, client: Connection, message: Message) -> None:
        """A client's PUBLISH, or its will, was accepted (it is routed right after)."""

    def on_subscribed(self, client: Connection, topic_filters: list[str]) -> None:
        """Filters granted by a SUBACK (in request order)."""

    def on_unsubscribed(self, client: Connection, topic_filters: list[str]) -> None:
        """Filters named by an UNSUBSCRIBE that was acknowledged."""

    def on_session_ended(self, session: Session, expired: bool) -> None:
        """A session was discarded: its expiry interval ran out (``expired``), or a clean
        start, the end of its connection or Broker.end_session discarded it."""
