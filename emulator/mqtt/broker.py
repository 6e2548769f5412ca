"""The broker: sessions, routing, retained messages, wills and the listeners.

Routing is synchronous: a publish is matched, checked and written to every
subscriber's transport before the next packet is read, so nothing queues inside
the broker except QoS 1 messages a client has not acknowledged yet.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

from emulator.mqtt import hooks as H
from emulator.mqtt import properties as P
from emulator.mqtt import reasons
from emulator.mqtt.connection import Connection
from emulator.mqtt.message import Message
from emulator.mqtt.packets import SubscriptionRequest
from emulator.mqtt.retained import RetainedStore
from emulator.mqtt.session import NEVER_EXPIRES, Session, Subscription
from emulator.mqtt.settings import Settings
from emulator.mqtt.topics import FilterSpec, SubscriptionIndex

log = logging.getLogger(__name__)

_STOP_TIMEOUT_S = 5.0


class Broker:
    """An MQTT 3.1.1 and 5 broker driven by ``Hooks``; serve it with emulator.mqtt.transport."""

    def __init__(self, hooks: H.Hooks | None = None, settings: Settings | None = None) -> None:
        self.hooks = hooks or H.Hooks()
        self.settings = settings or Settings()
        self.sessions: dict[str, Session] = {}
        self.clients: dict[str, Connection] = {}
        self.index: SubscriptionIndex[Subscription] = SubscriptionIndex(
            hash_matches_parent=self.settings.hash_matches_parent
        )
        self.retained = RetainedStore(hash_matches_parent=self.settings.hash_matches_parent)
        self._open: set[Connection] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._connack_props = self._build_connack_properties()
        self.stopping = False

    # ---- connections ----------------------------------------------------------------

    def open(self, connection: Connection) -> None:
        """Remember a new connection (stop() closes them all)."""
        self._open.add(connection)

    def forget(self, connection: Connection) -> None:
        """A connection closed."""
        self._open.discard(connection)

    def track(self, task: asyncio.Task[Any]) -> None:
        """Keep a reference to a background task until it ends."""
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("broker task failed", exc_info=task.exception())

    def connack_properties(self) -> P.Properties:
        """The MQTT 5 CONNACK properties every client gets (a fresh copy)."""
        return dict(self._connack_props)

    def _build_connack_properties(self) -> P.Properties:
        s = self.settings
        props: P.Properties = {
            P.MAXIMUM_QOS: 1,
            P.RETAIN_AVAILABLE: 1,
            P.WILDCARD_SUBSCRIPTION_AVAILABLE: 1,
            P.SUBSCRIPTION_IDENTIFIER_AVAILABLE: 0,
            P.SHARED_SUBSCRIPTION_AVAILABLE: int(s.shared_subscriptions),
        }
        if s.max_packet_size < 268_435_455:
            props[P.MAXIMUM_PACKET_SIZE] = s.max_packet_size
        if s.receive_maximum != 65_535:
            props[P.RECEIVE_MAXIMUM] = s.receive_maximum
        if s.topic_alias_maximum:
            props[P.TOPIC_ALIAS_MAXIMUM] = s.topic_alias_maximum
        return props

    def attach(self, conn: Connection, clean_start: bool, expiry: int) -> tuple[Session, bool]:
        """Bind an accepted connection to its session: takeover, clean start, resumption."""
        client_id = conn.client_id
        old = self.clients.get(client_id)
        if old is not None and old is not conn:
            old.close_with(reasons.SESSION_TAKEN_OVER, "session taken over", kind=H.TAKEN_OVER)
        session = self.sessions.get(client_id)
        if session is not None and (clean_start or session.version != conn.version):
            self._end_session(session)
            session = None
        present = session is not None
        if session is None:
            session = Session(client_id, conn.version)
            self.sessions[client_id] = session
        else:
            if session.expiry_timer is not None:
                session.expiry_timer.cancel()
                session.expiry_timer = None
            if session.will_timer is not None:  # resumed before the will delay ran out
                session.will_timer.cancel()
                session.will_timer = None
                session.will_conn = None
        session.expiry_interval = expiry
        session.conn = conn
        self.clients[client_id] = conn
        return session, present

    def detach(self, conn: Connection, reason: H.CloseReason) -> None:
        """An accepted connection ended: will, session expiry, the disconnect hook."""
        session = conn.session
        if self.clients.get(conn.client_id) is conn:
            del self.clients[conn.client_id]
        if session is None or session.conn is not conn:
            return
        session.detach()
        self.hooks.on_disconnected(conn, reason)
        will = conn.will
        if will is not None and self.hooks.should_send_will(conn, reason):
            delay = min(conn.will_delay, session.expiry_interval)
            if delay <= 0:
                self._publish_will(conn)
            else:
                loop = asyncio.get_running_loop()
                session.will_timer = loop.call_later(delay, self._publish_will, conn)
                session.will_conn = conn
        if session.expiry_interval == 0:
            self._end_session(session)
        elif session.expiry_interval != NEVER_EXPIRES:
            loop = asyncio.get_running_loop()
            session.expiry_timer = loop.call_later(
                session.expiry_interval, self._end_session, session, True
            )

    def _publish_will(self, conn: Connection) -> None:
        will = conn.will
        session = conn.session
        if session is not None and session.will_conn is conn:
            session.will_timer = None
            session.will_conn = None
        if will is None:
            return
        conn.will = None
        if conn.will_expiry is not None:
            will.expires_at = time.monotonic() + conn.will_expiry
        if not self.hooks.authorize_will(conn, will):
            log.info("%s: will on %s refused", conn.client_id, will.topic)
            return
        self.hooks.on_publish_accepted(conn, will)
        self.route(will)

    def _end_session(self, session: Session, expired: bool = False) -> None:
        """Discard a session: its subscriptions, its messages; a delayed will goes out now."""
        if self.sessions.get(session.client_id) is not session:
            return
        del self.sessions[session.client_id]
        will_conn = session.will_conn
        session.cancel_timers()
        for subscription in list(session.subscriptions.values()):
            self.index.remove(subscription.spec, session.client_id)
        session.subscriptions.clear()
        session.inflight.clear()
        session.pending.clear()
        session.stored.clear()
        if will_conn is not None:
            self._publish_will(will_conn)
        self.hooks.on_session_ended(session, expired)

    def end_session(self, client_id: str) -> bool:
        """Discard the session of a client that is not connected; False if there is none."""
        session = self.sessions.get(client_id)
        if session is None or session.conn is not None:
            return False
        self._end_session(session)
        return True

    def disconnect(
        self, client_id: str, reason_code: int, tag: Any = None, detail: str = ""
    ) -> bool:
        """Close a client's connection from the server side (MQTT 5 clients get
        DISCONNECT with ``reason_code``); ``tag`` reaches on_disconnected. False if
        no connection has that client id."""
        conn = self.clients.get(client_id)
        if conn is None:
            return False
        conn.close_with(reason_code, detail, kind=H.CLOSED_BY_SERVER, tag=tag)
        return True

    # ---- subscriptions -----------------------------------------------------------------

    def subscribe(
        self, session: Session, spec: FilterSpec, request: SubscriptionRequest, qos: int
    ) -> bool:
        """Store a granted subscription; True if it replaced one with the same filter."""
        subscription = Subscription(
            session, spec, qos, request.no_local, request.retain_as_published
        )
        existed = spec.raw in session.subscriptions
        session.subscriptions[spec.raw] = subscription
        self.index.add(spec, session.client_id, subscription)
        return existed

    def unsubscribe(self, session: Session, spec: FilterSpec) -> bool:
        """Remove a subscription; False if the session had none with this filter."""
        if session.subscriptions.pop(spec.raw, None) is None:
            return False
        self.index.remove(spec, session.client_id)
        return True

    def send_retained(
        self,
        conn: Connection,
        spec: FilterSpec,
        request: SubscriptionRequest,
        granted_qos: int,
        existed: bool,
    ) -> None:
        """Retained messages for a new subscription (Retain Handling 0, or 1 if new)."""
        if spec.share is not None or request.retain_handling == 2:
            return
        if request.retain_handling == 1 and existed:
            return
        session = conn.session
        if session is None:
            return
        for message in self.retained.matching(spec, wildcards=self.settings.retained_for_wildcards):
            if conn.closing or not self.hooks.can_receive(conn, message):
                continue
            qos = min(granted_qos, message.qos)
            if qos:
                session.deliver_qos1(message, True, self.settings.max_queued_per_session)
            else:
                conn.send_message(message, 0, True, None)

    # ---- routing -----------------------------------------------------------------------

    def publish(self, message: Message) -> None:
        """Publish on behalf of the broker's owner (no client, no publish hooks)."""
        self.route(message)

    def route(self, message: Message) -> None:
        """Store if retained, then deliver to every matching subscription."""
        if message.retain:
            self.retained.store(message)
        plain, shared = self.index.match(message.topic)
        if plain:
            if len(plain) == 1:
                origin = message.origin
                for subscription in plain[0].values():
                    if subscription.no_local and subscription.session.client_id == origin:
                        continue
                    retain = message.retain and subscription.retain_as_published
                    self._deliver(
                        subscription.session, message, min(message.qos, subscription.qos), retain
                    )
            else:
                self._deliver_merged(plain, message)
        for group in shared:
            self._deliver_shared(group, message)

    def _deliver_merged(self, maps: list[dict[str, Subscription]], message: Message) -> None:
        """A client with several matching filters gets one copy at the highest QoS."""
        best: dict[str, tuple[Session, int, bool]] = {}
        origin = message.origin
        for subscriptions in maps:
            for client_id, subscription in subscriptions.items():
                if subscription.no_local and client_id == origin:
                    continue
                qos = min(message.qos, subscription.qos)
                retain = message.retain and subscription.retain_as_published
                seen = best.get(client_id)
                if seen is None or qos > seen[1] or (retain and not seen[2]):
                    best[client_id] = (
                        subscription.session,
                        max(qos, seen[1]) if seen else qos,
                        retain or (seen[2] if seen else False),
                    )
        for session, qos, retain in best.values():
            self._deliver(session, message, qos, retain)

    def _deliver_shared(self, group: dict[str, Subscription], message: Message) -> None:
        """One member of a shared group: a random online one, else a persistent offline one."""
        members = list(group.values())
        online = [s for s in members if s.session.conn is not None]
        pool = online or [s for s in members if s.session.persistent]
        if not pool:
            return
        subscription = random.choice(pool)
        self._deliver(subscription.session, message, min(message.qos, subscription.qos), False)

    def _deliver(self, session: Session, message: Message, qos: int, retain: bool) -> None:
        conn = session.conn
        if message.expires_at is not None and message.expired(time.monotonic()):
            return
        if conn is None:
            if qos and session.persistent and self.hooks.admit_queued(session, message):
                session.deliver_qos1(message, retain, self.settings.max_queued_per_session)
            return
        if conn.closing or not self.hooks.can_receive(conn, message):
            return
        if qos:
            session.deliver_qos1(message, retain, self.settings.max_queued_per_session)
        else:
            conn.send_message(message, 0, retain, None)

    # ---- stopping ----------------------------------------------------------------------

    async def close_all(self, reason_code: int = reasons.SERVER_SHUTTING_DOWN) -> None:
        """Close every connection (server shutdown) and forget every session."""
        self.stopping = True
        for conn in list(self._open):
            conn.close_with(reason_code, "server shutting down", kind=H.SERVER_SHUTDOWN)
        for session in list(self.sessions.values()):
            session.cancel_timers()
        self.sessions.clear()
        if self._tasks:
            _, late = await asyncio.wait(list(self._tasks), timeout=_STOP_TIMEOUT_S)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
