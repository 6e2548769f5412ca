"""This design: browsers on AWS IoT Core, topic rules, four small functions, DynamoDB.

Every publish goes through the template's own rules (stack.run_rules), so rule counts,
republishes, function invocations and DynamoDB puts are the rules' real behaviour on
real payloads. What the functions do per command follows lambdas/chatlib/commands.py
and lambdas/presence.py. Metering: AWS IoT Core additional metering details
(https://aws.amazon.com/iot-core/pricing/additional-details/).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cost import assumptions, metering, payloads
from cost.bill import Usage
from cost.designs import common
from cost.stack import TOPIC_ROOT, Stack, load_stack
from cost.workload import DAYS_PER_MONTH, Workload
from emulator.iot import lifecycle

NAME = "iot"
TITLE = "This design: IoT Core"
DESCRIPTION = "browsers on AWS IoT Core (MQTT over WebSockets), topic rules, Lambda, DynamoDB"

OUT = f"{TOPIC_ROOT}/out"
STREAM = f"{TOPIC_ROOT}/stream"
ROOM_TOPIC = f"{TOPIC_ROOT}/pub/{payloads.ROOM}"
INBOX = f"{TOPIC_ROOT}/in/{payloads.CLIENT_ID}"
KINESIS_ON_DEMAND_SHARDS = 4  # an on-demand stream starts with 4 MB/s of write capacity


def _generic(topic: str) -> str:
    """A topic with the sample room and client id written as placeholders."""
    return topic.replace(payloads.CLIENT_ID, "<clientId>").replace(
        f"/pub/{payloads.ROOM}", "/pub/<room>"
    )


def connect_interval_s(stack: Stack) -> float:
    """How long one connection lasts: until the client renews its token."""
    return stack.token_lifetime_s() * assumptions.TOKEN_RENEW_FRACTION


@dataclass
class Counts:
    """Requests per month that AWS IoT Core and Lambda quotas count (docs/capacity.md)."""

    inbound_publishes: float = 0.0  # client and data-plane publishes
    outbound_publishes: float = 0.0  # deliveries to subscribers and rule matches
    rule_evaluations: float = 0.0
    lambda_seconds: float = 0.0  # invocations x duration, summed over functions


class _Model:
    """Adds the usage of ``count`` occurrences of each event to one Usage."""

    def __init__(self, w: Workload, stack: Stack, usage: Usage) -> None:
        self.w, self.stack, self.usage = w, stack, usage
        self.counts = Counts()
        self.p = payloads.payloads(w.message_bytes, round(w.room_size))
        self.chat_mb = stack.memory_mb("ChatFunction")
        self.presence_mb = stack.memory_mb("PresenceFunction")

    def _subscribers(self, topic: str) -> float:
        if topic.startswith(f"{TOPIC_ROOT}/pub/"):
            return self.w.room_size
        if topic.startswith(f"{TOPIC_ROOT}/in/"):
            return 1
        return 0

    def function(self, label: str, count: float, duration_ms: float, memory_mb: int) -> None:
        common.add_function(self.usage, label, count, duration_ms, memory_mb)
        self.counts.lambda_seconds += count * duration_ms / 1000

    def device_publish(self, label: str, topic: str, payload: bytes, count: float) -> None:
        """A client's MQTT PUBLISH: metered on payload + topic, then brokered."""
        self.counts.inbound_publishes += count
        self.usage.add(
            "iot_messaging",
            f"{label}: publish",
            count * metering.iot_messages(len(payload) + len(topic)),
        )
        self._broker(label, topic, payload, count, client_id=payloads.CLIENT_ID)

    def http_publish(self, label: str, topic: str, payload: bytes, count: float) -> None:
        """A function's data-plane Publish (HTTP): metered on the body, then brokered."""
        self.counts.inbound_publishes += count
        self.usage.add(
            "iot_messaging", f"{label}: publish (HTTP)", count * metering.iot_messages(len(payload))
        )
        self._broker(label, topic, payload, count, client_id=None)

    def _broker(
        self, label: str, topic: str, payload: bytes, count: float, client_id: str | None
    ) -> None:
        subscribers = self._subscribers(topic)
        self.counts.outbound_publishes += count * subscribers
        if subscribers:
            each = metering.iot_messages(len(payload) + len(topic))
            self.usage.add("iot_messaging", f"{label}: deliveries", count * subscribers * each)
            # The web client subscribes with QoS 1 (web/js/connection.js) and the rules
            # and functions publish with QoS 1: each delivery comes back as a PUBACK,
            # which AWS meters as one 5 KB message (MQTT 3.1.1). --subscribe-qos 0 shows
            # what subscribing with QoS 0 would save.
            if self.w.subscribe_qos == 1:
                self.usage.add(
                    "iot_messaging", f"{label}: PUBACKs from clients", count * subscribers
                )
        self._rules(label, topic, payload, count, client_id)

    def aws_event(self, label: str, topic: str, payload: bytes, count: float) -> None:
        """An event AWS IoT publishes itself (lifecycle): assumed not metered as a
        message, but the rules it triggers are."""
        self._rules(label, topic, payload, count, client_id=None)

    def _rules(
        self, label: str, topic: str, payload: bytes, count: float, client_id: str | None
    ) -> None:
        run = self.stack.run_rules(topic, payload, client_id)
        on = f"{label}: rules on {_generic(topic)}"
        self.counts.rule_evaluations += count * run.triggered
        self.counts.outbound_publishes += count * run.triggered  # rule subscriptions count too
        units = metering.iot_messages(len(payload))
        on = f"{label}: rules on {_generic(topic)}"
        self.usage.add("iot_rules_triggered", on, count * run.triggered * units)
        self.usage.add("iot_actions_executed", on, count * run.actions_billed * units)
        for next_topic, output in run.republished:
            self._broker(label, next_topic, output, count, client_id=None)
        for item in run.items_put:
            size = metering.dynamodb_item_bytes(item)
            self.usage.add(
                "dynamodb_write_units",
                f"{label}: store rule PutItem",
                count * metering.dynamodb_write_units(size),
            )
        for record in run.records_put:
            billed = metering.kinesis_billed_bytes(len(record)) / metering.GB
            self.usage.add("kinesis_data_in", label, count * billed)
            self.usage.add(
                "kinesis_data_out", f"{label}: read by the chat function", count * billed
            )
        for function, event in run.invoked:
            self._invoke(label, function, json.loads(event), count)

    def _invoke(self, label: str, function: str, event: dict, count: float) -> None:
        kind = event.get("type") or event.get("eventType")
        handler = {
            ("ChatFunction", "join"): self._join,
            ("ChatFunction", "history"): self._history,
            ("PresenceFunction", "connected"): self._connected,
            ("PresenceFunction", "disconnected"): self._disconnected,
        }.get((function, kind))
        if handler is None:
            raise NotImplementedError(f"no cost model for {function} on a {kind!r} event")
        handler(count)

    # -- what the functions do (lambdas/chatlib/commands.py, lambdas/presence.py) --------

    def _roster(self, label: str, count: float) -> None:
        common.roster_query(self.usage, label, count, self.p)
        self.http_publish(f"{label}: roster", ROOM_TOPIC, self.p.roster, count)

    def _join(self, count: float) -> None:
        label = "join"
        self.function("chat function: join", count, assumptions.JOIN_MS, self.chat_mb)
        common.connection_write(self.usage, label, count, self.p, index=True)
        common.page_query(self.usage, "join: backlog", count, self.p.backlog_read)
        self.http_publish("join: backlog", INBOX, self.p.backlog_reply, count)
        self._roster(label, count)

    def _history(self, count: float) -> None:
        self.function("chat function: history", count, assumptions.HISTORY_MS, self.chat_mb)
        common.page_query(self.usage, "history", count, self.p.history_read)
        self.http_publish("history: page", INBOX, self.p.history_reply, count)

    def _connected(self, count: float) -> None:
        self.function(
            "presence function: connected", count, assumptions.PRESENCE_CONNECT_MS, self.presence_mb
        )
        common.connection_write(self.usage, "connected", count, self.p, index=False)

    def _disconnected(self, count: float) -> None:
        self.function(
            "presence function: disconnected",
            count,
            assumptions.PRESENCE_DISCONNECT_MS,
            self.presence_mb,
        )
        common.connection_write(self.usage, "disconnected", count, self.p, index=True)
        self._roster("disconnected", count)

    def stream_records(self, count: float) -> None:
        """The chat function on Kinesis batches: publish to the room, where the store
        rule writes the message as it does the republished ones."""
        if not count:
            return
        batch_size, window_s = self.stack.stream_batching()
        per_shard = self.w.per_second(count) / KINESIS_ON_DEMAND_SHARDS * max(window_s, 1)
        batch = min(batch_size, max(1.0, per_shard))
        invocations = count / batch
        duration = assumptions.STREAM_BATCH_MS + batch * assumptions.STREAM_RECORD_MS
        self.function("chat function: stream batches", invocations, duration, self.chat_mb)
        self.http_publish("stream message: to the room", ROOM_TOPIC, self.p.room_message, count)


def usage(w: Workload) -> Usage:
    return model(w)[0]


def model(w: Workload) -> tuple[Usage, Counts]:
    """The month's usage and the request counts behind the IoT and Lambda quotas."""
    stack = load_stack(w.stream)
    out = Usage()
    iot = _Model(w, stack, out)
    p = iot.p
    connects = w.connects(connect_interval_s(stack))

    # Connections: CONNECT and SUBSCRIBE (one packet, two filters) are one message each.
    out.add("iot_connectivity", "users online", w.connection_minutes)
    out.add("iot_messaging", "connect: CONNECT", connects)
    out.add("iot_messaging", "connect: SUBSCRIBE", connects)
    auth_mb = stack.memory_mb("AuthorizerFunction")
    common.add_auth(out, w, tokens=connects, authorizations=connects, memory_mb=auth_mb)
    iot.counts.lambda_seconds += (
        connects * (assumptions.TOKEN_MS + assumptions.AUTHORIZER_MS) / 1000
    )
    for topic, event in (
        lifecycle.connected(
            payloads.CLIENT_ID, payloads.MESSAGE_ID, payloads.PRINCIPAL, "203.0.113.7", 1
        ),
        lifecycle.disconnected(
            payloads.CLIENT_ID,
            payloads.MESSAGE_ID,
            payloads.PRINCIPAL,
            1,
            lifecycle.CLIENT_INITIATED_DISCONNECT,
        ),
    ):
        iot.aws_event("lifecycle event", topic, event, connects)
    iot.device_publish("join", OUT, p.join_command, connects)

    # Chat messages: on <root>/out (republish + store rules), or on <root>/stream.
    iot.device_publish("chat message", OUT, p.chat_command, w.chat_messages - w.stream_messages)
    if w.stream:
        iot.device_publish("stream message", STREAM, p.chat_command, w.stream_messages)
        iot.stream_records(w.stream_messages)
        out.add("kinesis_stream_hours", "the stream exists all month", 24 * DAYS_PER_MONTH)

    iot.device_publish("history", OUT, p.history_command, w.history_pages)
    common.add_message_storage(out, w, p.stored_item)
    common.add_site(out, w)
    add_monitoring(out, stack)
    return out, iot.counts


def add_monitoring(out: Usage, stack: Stack) -> None:
    """What stack/observability.py adds: the alarms and the dashboard the template
    declares, the functions' custom metrics and the log lines that carry them, the alarm
    e-mails. The other two designs would want monitoring too; it is not counted there."""
    out.add("cloudwatch_alarm_metrics", "alarms, per metric listed", stack.alarm_metrics())
    out.add("cloudwatch_dashboards", "the operator's dashboard", stack.dashboards())
    out.add(
        "cloudwatch_custom_metrics", "business metrics, rule errors", assumptions.CUSTOM_METRICS
    )
    emf = out.units("lambda_requests") * assumptions.EMF_BYTES_PER_INVOCATION / metering.GB
    out.add("logs_ingestion", "functions' metric lines (EMF)", emf)
    out.add("logs_storage", "functions' metric lines (EMF)", emf)
    out.add("sns_email_notifications", "alarm e-mails", assumptions.ALARM_EMAILS_PER_MONTH)
