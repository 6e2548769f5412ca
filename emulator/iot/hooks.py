"""AWS IoT Core's decisions on top of the MQTT core: custom auth, policies, limits, events.

Each answer follows a page of the AWS IoT developer guide:
- "MQTT", https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html: retained
  messages (#mqtt-retain), Last Will (#mqtt-lwt), MQTT 5 reason codes
  (#mqtt5-reason-codes) and "AWS IoT differences from MQTT specifications"
  (#mqtt-differences);
- "Lifecycle events", https://docs.aws.amazon.com/iot/latest/developerguide/
  life-cycle-events.html: events, disconnect reasons and when a will is sent;
- "AWS IoT Core policy actions", https://docs.aws.amazon.com/iot/latest/developerguide/
  iot-policy-actions.html: iot:Connect, Publish, RetainPublish, Subscribe, Receive;
- "AWS IoT Core endpoints and quotas", https://docs.aws.amazon.com/general/latest/gr/
  iot-core.html#message-broker-limits: the limits, and what a breach gets.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from emulator.iot import lifecycle
from emulator.iot.auth import Authorizers, AuthRefused
from emulator.iot.client import IotClient
from emulator.iot.context import PublishMetadata
from emulator.iot.limits import Limits, RateLimiter, topic_problem
from emulator.iot.policy import IotArns
from emulator.mqtt import (
    Accept,
    CloseReason,
    Connection,
    ConnectRequest,
    FilterSpec,
    Hooks,
    Message,
    Refusal,
    Refuse,
    Session,
    reasons,
)
from emulator.mqtt import hooks as core
from emulator.mqtt.packets import MQTT_5, Publish, Subscribe, SubscriptionRequest
from emulator.mqtt.topics import parse_filter

log = logging.getLogger(__name__)

EventSink = Callable[[str, bytes], None]
Dispatch = Callable[[str, bytes, PublishMetadata], None]

# How the core's reasons for a closed connection read as AWS disconnectReason values.
_DISCONNECT_REASONS = {
    core.CLIENT_DISCONNECT: lifecycle.CLIENT_INITIATED_DISCONNECT,
    core.CLIENT_DISCONNECT_WITH_WILL: lifecycle.CLIENT_INITIATED_DISCONNECT,
    core.TRANSPORT_CLOSED: lifecycle.CLIENT_INITIATED_DISCONNECT,  # WebSocket Close frame
    core.CONNECTION_LOST: lifecycle.CONNECTION_LOST,
    core.PROTOCOL_ERROR: lifecycle.CLIENT_ERROR,
    core.KEEP_ALIVE_TIMEOUT: lifecycle.MQTT_KEEP_ALIVE_TIMEOUT,
    core.TAKEN_OVER: lifecycle.DUPLICATE_CLIENTID,
    core.SERVER_SHUTDOWN: lifecycle.SERVER_INITIATED_DISCONNECT,
    core.SLOW_CONSUMER: lifecycle.CLIENT_ERROR,
}
_AWS_RESERVED_PREFIX = "$aws/"


@dataclass(frozen=True, slots=True)
class Closing:
    """Why IoT Core closed a connection (a CloseReason tag): the disconnectReason, and
    whether the will may go out (DeleteConnection's preventWillMessage)."""

    reason: str
    send_will: bool = True


def disconnect_reason(reason: CloseReason) -> str:
    """The AWS disconnectReason for a closed connection."""
    tag = reason.tag
    if isinstance(tag, Closing):
        return tag.reason
    return _DISCONNECT_REASONS.get(reason.kind, lifecycle.CLIENT_ERROR)


def _client(conn: Connection) -> IotClient:
    state = conn.state
    assert isinstance(state, IotClient)
    return state


class IotHooks(Hooks):
    """The IoT Core side of every MQTT decision."""

    def __init__(
        self,
        *,
        authorizers: Authorizers,
        limits: Limits,
        arns: IotArns,
        emit: EventSink,
        dispatch: Dispatch,
    ) -> None:
        self.authorizers = authorizers
        self.limits = limits
        self.arns = arns
        self.emit = emit
        self.dispatch = dispatch
        self.versions = lifecycle.VersionCounter(limits.version_reset_s)
        self.queued = RateLimiter(limits.queued_per_second)

    # ---- CONNECT --------------------------------------------------------------------

    async def authenticate(self, request: ConnectRequest) -> Accept | Refuse:
        """Custom auth, then iot:Connect, then the will (publish, and retain if set)."""
        client_id = request.client_id
        limits = self.limits
        if len(client_id.encode()) > limits.max_client_id_bytes or client_id.startswith("$"):
            return Refuse(reasons.CLIENT_IDENTIFIER_NOT_VALID, "client id too long or reserved")
        try:
            authorizer = self.authorizers.select(request)
            event = authorizer.build_event(request)
            result = await authorizer.authorize(event)
        except AuthRefused as exc:
            return self._connect_failed(request, None, str(exc))
        client = IotClient(
            client_id,
            request.peer.host,
            result,
            self.arns,
            event,
            RateLimiter(limits.publish_rate),
            RateLimiter(limits.publish_rate),
            authorizer,
        )
        if not client.allowed("iot:Connect", self.arns.client(client_id)):
            return self._connect_failed(request, client.principal, "iot:Connect denied")
        will = request.will
        if will is not None:
            if will.topic.startswith("$") or topic_problem(will.topic, limits):
                return Refuse(reasons.TOPIC_NAME_INVALID, f"will topic {will.topic!r} not allowed")
            if len(will.payload) > limits.max_payload_bytes:
                return Refuse(reasons.PACKET_TOO_LARGE, "will payload over the limit")
            if not client.may_publish(will.topic, will.retain):
                return self._connect_failed(request, client.principal, "will not authorized")
        return Accept(client)

    def _connect_failed(self, request: ConnectRequest, principal: str | None, why: str) -> Refuse:
        """Refuse as not authorized, with the connect_failed lifecycle event."""
        log.info("connection refused (%s): %s", request.client_id, why)
        if lifecycle.has_lifecycle_events(request.client_id):
            self.emit(
                *lifecycle.connect_failed(
                    request.client_id, str(uuid.uuid4()), request.peer.host, principal
                )
            )
        return Refuse(reasons.NOT_AUTHORIZED, why)

    def on_connected(self, client: Connection, session_present: bool) -> None:
        """Lifecycle event, then the authorizer's and the WebSocket's deadlines."""
        state = _client(client)
        state.version = self.versions.connected(client.client_id, session_present=session_present)
        loop = asyncio.get_running_loop()
        state.timers.append(
            loop.call_later(
                state.auth.disconnect_after_s,
                self._expire,
                client,
                lifecycle.CUSTOMAUTH_TTL_EXPIRATION,
            )
        )
        if client.peer.transport == "ws":
            state.timers.append(
                loop.call_later(
                    self.limits.websocket_ttl_s,
                    self._expire,
                    client,
                    lifecycle.WEBSOCKET_TTL_EXPIRATION,
                )
            )
        if state.auth.refresh_after_s:
            task = loop.create_task(self._refresh(client, state))
            state.timers.append(task)
        if lifecycle.has_lifecycle_events(client.client_id):
            session = client.session
            assert session is not None
            self.emit(
                *lifecycle.connected(
                    client.client_id,
                    session.session_id,
                    state.principal,
                    state.source_ip,
                    state.version,
                )
            )

    def _expire(self, client: Connection, reason: str) -> None:
        client.close_with(reasons.MAXIMUM_CONNECT_TIME, reason.lower(), tag=Closing(reason))

    async def _refresh(self, client: Connection, state: IotClient) -> None:
        """Invoke the authorizer again every refreshAfterInSeconds; a refusal disconnects."""
        while state.auth.refresh_after_s and not client.closing:
            await asyncio.sleep(state.auth.refresh_after_s)
            try:
                state.refresh(await state.authorizer.authorize(state.event))
            except AuthRefused as exc:
                log.info("%s: policy refresh refused (%s)", client.client_id, exc)
                client.close_with(
                    reasons.NOT_AUTHORIZED, str(exc), tag=Closing(lifecycle.AUTH_ERROR)
                )
                return
            if not state.allowed("iot:Connect", self.arns.client(client.client_id)):
                client.close_with(
                    reasons.NOT_AUTHORIZED, "iot:Connect denied", tag=Closing(lifecycle.AUTH_ERROR)
                )
                return

    def on_disconnected(self, client: Connection, reason: CloseReason) -> None:
        """The disconnected lifecycle event."""
        state = _client(client)
        state.cancel_timers()
        session = client.session
        persistent = session is not None and session.persistent
        self.versions.disconnected(client.client_id, persistent=persistent)
        if lifecycle.has_lifecycle_events(client.client_id) and session is not None:
            self.emit(
                *lifecycle.disconnected(
                    client.client_id,
                    session.session_id,
                    state.principal,
                    state.version,
                    disconnect_reason(reason),
                )
            )

    def should_send_will(self, client: Connection, reason: CloseReason) -> bool:
        """The will goes out for every disconnect reason but a client-initiated one."""
        if isinstance(reason.tag, Closing) and not reason.tag.send_will:
            return False
        return disconnect_reason(reason) not in lifecycle.NO_WILL

    def authorize_will(self, client: Connection, message: Message) -> bool:
        """The (possibly refreshed) policy must still allow the will."""
        return _client(client).may_publish(message.topic, message.retain)

    def on_session_ended(self, session: Session, expired: bool) -> None:
        """An expired persistent session restarts the client's versionNumber."""
        if expired:
            self.versions.session_expired(session.client_id)

    # ---- PUBLISH --------------------------------------------------------------------

    def check_publish(
        self, client: Connection, publish: Publish, message: Message
    ) -> Refusal | None:
        """Throttle, topic rules, payload size, then iot:Publish (+ iot:RetainPublish).

        A refused MQTT 3.1.1 publish closes the connection (AWS_ERROR or CLIENT_ERROR); an
        MQTT 5 one gets a PUBACK reason code (QoS 1) or is dropped (QoS 0). Publishes
        over the per-connection rate are discarded.
        """
        state = _client(client)
        v5 = client.version == MQTT_5
        if not state.inbound.allow():
            return Refusal(reasons.QUOTA_EXCEEDED, detail="publish rate exceeded")
        topic = message.topic
        problem = "reserved topic" if topic.startswith("$") else topic_problem(topic, self.limits)
        if problem:
            log.info("%s: publish to %r refused (%s)", client.client_id, topic, problem)
            return Refusal(
                reasons.TOPIC_NAME_INVALID,
                disconnect=not v5,
                tag=Closing(lifecycle.CLIENT_ERROR),
                detail=problem,
            )
        if len(message.payload) > self.limits.max_payload_bytes:
            return Refusal(
                reasons.PACKET_TOO_LARGE,
                disconnect=True,
                tag=Closing(lifecycle.CLIENT_ERROR),
                detail="payload over the limit",
            )
        if not state.may_publish(topic, message.retain):
            what = "iot:RetainPublish" if message.retain else "iot:Publish"
            log.info("%s: %s denied on %r", client.client_id, what, topic)
            return Refusal(
                reasons.NOT_AUTHORIZED,
                disconnect=not v5,
                tag=Closing(lifecycle.AUTH_ERROR),
                detail=f"{what} denied",
            )
        return None

    def on_publish_accepted(self, client: Connection, message: Message) -> None:
        """Client publishes and wills reach the rules engine."""
        state = _client(client)
        self.dispatch(
            message.topic,
            message.payload,
            PublishMetadata(
                topic=message.topic,
                client_id=client.client_id,
                principal=state.principal,
                source_ip=state.source_ip,
                qos=message.qos,
            ),
        )

    def can_receive(self, client: Connection, message: Message) -> bool:
        """iot:Receive, checked for every delivery, and the outbound publish rate."""
        state = _client(client)
        return (
            state.allowed("iot:Receive", self.arns.topic(message.topic)) and state.outbound.allow()
        )

    def admit_queued(self, session: Session, message: Message) -> bool:
        """Queued messages per second per account."""
        return self.queued.allow()

    # ---- SUBSCRIBE ------------------------------------------------------------------

    def check_subscribe(self, client: Connection, packet: Subscribe) -> Refusal | None:
        """Filters per SUBSCRIBE and subscriptions per connection: over either, AWS closes."""
        limits = self.limits
        if len(packet.requests) > limits.max_filters_per_subscribe:
            return Refusal(
                reasons.QUOTA_EXCEEDED,
                disconnect=True,
                tag=Closing(lifecycle.CLIENT_ERROR),
                detail=f"more than {limits.max_filters_per_subscribe} filters in one SUBSCRIBE",
            )
        session = client.session
        assert session is not None
        filters = set(session.subscriptions)
        filters.update(
            r.topic_filter for r in packet.requests if self._valid_filter(r.topic_filter)
        )
        if len(filters) > limits.max_subscriptions:
            return Refusal(
                reasons.QUOTA_EXCEEDED,
                disconnect=True,
                tag=Closing(lifecycle.CLIENT_ERROR),
                detail=f"more than {limits.max_subscriptions} subscriptions",
            )
        return None

    def authorize_subscription(
        self, client: Connection, spec: FilterSpec, request: SubscriptionRequest
    ) -> int | None:
        """AWS's filter limits, reserved topics, then iot:Subscribe on the filter."""
        if not self._valid_spec(spec):
            return reasons.TOPIC_FILTER_INVALID
        if not _client(client).allowed("iot:Subscribe", self.arns.topicfilter(spec.raw)):
            return reasons.NOT_AUTHORIZED
        return None

    def _valid_filter(self, raw: str) -> bool:
        try:
            return self._valid_spec(parse_filter(raw))
        except ValueError:
            return False

    def _valid_spec(self, spec: FilterSpec) -> bool:
        """Within AWS's topic limits (a shared filter's $share/<name>/ not counted), and
        not a reserved topic other than $aws/..."""
        topic_filter = spec.topic_filter
        return not (
            topic_problem(topic_filter, self.limits, allow_wildcards=True)
            or (spec.share is not None and len(spec.share) > self.limits.max_share_name_chars)
            or (topic_filter.startswith("$") and not topic_filter.startswith(_AWS_RESERVED_PREFIX))
        )

    def on_subscribed(self, client: Connection, topic_filters: list[str]) -> None:
        self._subscription_event("subscribed", client, topic_filters)

    def on_unsubscribed(self, client: Connection, topic_filters: list[str]) -> None:
        self._subscription_event("unsubscribed", client, topic_filters)

    def _subscription_event(self, kind: str, client: Connection, topics: list[str]) -> None:
        session = client.session
        if session is None or not lifecycle.has_lifecycle_events(client.client_id):
            return
        self.emit(
            *lifecycle.subscription(
                kind, client.client_id, session.session_id, _client(client).principal, topics
            )
        )
