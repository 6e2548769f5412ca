"""A client's session: its subscriptions and QoS 1 messages, across connections.

Delivery rules (MQTT 5.0 sections 4.3, 4.4, 4.9): at most ``window`` QoS 1 messages
are unacknowledged at a time (the client's Receive Maximum and the broker's own
cap); the rest wait in order. While the client is offline, a persistent session
stores QoS 1 messages; on resumption unacknowledged ones are sent again with DUP
set and the same packet identifier, then stored ones follow (optionally paced).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from emulator.mqtt.message import Message

if TYPE_CHECKING:
    from emulator.mqtt.connection import Connection
    from emulator.mqtt.topics import FilterSpec

NEVER_EXPIRES = 0xFFFFFFFF


@dataclass(slots=True)
class Subscription:
    """One filter of a session, with its options (the granted QoS among them)."""

    session: Session
    spec: FilterSpec
    qos: int
    no_local: bool = False
    retain_as_published: bool = False


@dataclass(slots=True)
class Delivery:
    """A QoS 1 message on its way to one session."""

    message: Message
    retain: bool
    sent_at: float = 0.0


@dataclass(eq=False)
class Session:
    """State the broker keeps for one client id."""

    client_id: str
    version: int
    expiry_interval: int = 0
    session_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    inflight: dict[int, Delivery] = field(default_factory=dict)
    pending: deque[Delivery] = field(default_factory=deque)
    stored: deque[Delivery] = field(default_factory=deque)
    conn: Connection | None = None
    expiry_timer: asyncio.TimerHandle | None = None
    will_timer: asyncio.TimerHandle | None = None
    will_conn: Connection | None = None  # whose delayed will will_timer publishes
    _next_packet_id: int = 1
    _release_timer: asyncio.TimerHandle | None = None

    @property
    def persistent(self) -> bool:
        """Whether the session outlives its connection."""
        return self.expiry_interval > 0

    def queued(self) -> int:
        """Messages waiting (not yet sent) for this session."""
        return len(self.pending) + len(self.stored)

    def next_packet_id(self) -> int:
        """A packet identifier not used by any unacknowledged message."""
        packet_id = self._next_packet_id
        inflight = self.inflight
        while packet_id in inflight:
            packet_id = packet_id % 65535 + 1
        self._next_packet_id = packet_id % 65535 + 1
        return packet_id

    # ---- delivery -------------------------------------------------------------------

    def deliver_qos1(self, message: Message, retain: bool, limit: int) -> bool:
        """Send now if the window allows, else keep in order; False if the queue is full."""
        conn = self.conn
        if conn is None:
            if self.queued() >= limit:
                return False
            self.stored.append(Delivery(message, retain))
            return True
        if self.pending or len(self.inflight) >= conn.send_window:
            if self.queued() >= limit:
                return False
            self.pending.append(Delivery(message, retain))
            self.pump()
            return True
        self._send(conn, Delivery(message, retain))
        return True

    def acknowledged(self, packet_id: int) -> None:
        """A PUBACK arrived: free the slot and send what waits."""
        if self.inflight.pop(packet_id, None) is not None and (self.pending or self.stored):
            self.pump()

    def pump(self) -> None:
        """Send waiting messages while the window has room."""
        conn = self.conn
        if conn is None:
            return
        broker = conn.broker
        now = time.monotonic()
        self._expire_inflight(now, broker.settings.inflight_ttl_s)
        pending = self.pending
        while pending and len(self.inflight) < conn.send_window and not conn.closing:
            delivery = pending.popleft()
            message = delivery.message
            if message.expired(now) or not broker.hooks.can_receive(conn, message):
                continue
            self._send(conn, delivery)

    def _send(self, conn: Connection, delivery: Delivery) -> None:
        packet_id = self.next_packet_id()
        delivery.sent_at = time.monotonic()
        self.inflight[packet_id] = delivery
        conn.send_message(delivery.message, 1, delivery.retain, packet_id)

    def _expire_inflight(self, now: float, ttl: float | None) -> None:
        """Drop messages unacknowledged for longer than the broker retries them."""
        if ttl is None or not self.inflight:
            return
        for packet_id, delivery in list(self.inflight.items()):
            if now - delivery.sent_at < ttl:
                break
            del self.inflight[packet_id]

    # ---- resumption -----------------------------------------------------------------

    def resume(self, conn: Connection, rate: float | None) -> None:
        """A new connection took this session: resend unacknowledged, then stored, messages."""
        now = time.monotonic()
        self._expire_inflight(now, conn.broker.settings.inflight_ttl_s)
        for packet_id, delivery in list(self.inflight.items()):
            if delivery.message.expired(now):
                del self.inflight[packet_id]
                continue
            conn.send_message(delivery.message, 1, delivery.retain, packet_id, dup=True)
        if rate is None:
            self.pending.extend(self.stored)
            self.stored.clear()
            self.pump()
        else:
            self._release_stored(1.0 / rate)

    def _release_stored(self, interval: float) -> None:
        self._release_timer = None
        conn = self.conn
        if conn is None or not self.stored:
            return
        self.pending.append(self.stored.popleft())
        self.pump()
        if self.stored:
            loop = asyncio.get_running_loop()
            self._release_timer = loop.call_later(interval, self._release_stored, interval)

    def detach(self) -> None:
        """The connection is gone: stop releasing and keep what was pending as stored."""
        self.conn = None
        if self._release_timer is not None:
            self._release_timer.cancel()
            self._release_timer = None
        if self.pending:
            self.stored.extendleft(reversed(self.pending))
            self.pending.clear()

    def cancel_timers(self) -> None:
        """Stop every timer of this session (it is ending)."""
        for timer in (self.expiry_timer, self.will_timer, self._release_timer):
            if timer is not None:
                timer.cancel()
        self.expiry_timer = self.will_timer = self._release_timer = None
        self.will_conn = None
