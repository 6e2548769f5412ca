"""AWS IoT Core's message broker and protocol limits, and the checks that use them.

Values from "AWS IoT Core endpoints and quotas", message broker and protocol limits
(https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits),
"MQTT 5 supported features" / "MQTT 5 properties" and "MQTT persistent sessions"
(https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html), and "Defining your
Lambda function" for the custom authorizer
(https://docs.aws.amazon.com/iot/latest/developerguide/config-custom-auth.html).
Tests may shrink them; the defaults are AWS's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from emulator.topics import wildcard_problem

MAX_PAYLOAD_BYTES = 128 * 1024
MAX_QOS = 1


@dataclass(frozen=True, slots=True)
class Limits:
    """Broker limits (AWS's defaults)."""

    max_payload_bytes: int = MAX_PAYLOAD_BYTES
    max_client_id_bytes: int = 128
    max_topic_bytes: int = 256
    max_topic_slashes: int = 7
    max_share_name_chars: int = 128
    max_subscriptions: int = 50  # per connection
    max_filters_per_subscribe: int = 8
    publish_rate: float = 100.0  # publish requests per second per connection, each way
    max_inflight: int = 100  # unacknowledged QoS 1 publishes, inbound and outbound
    topic_alias_maximum: int = 8
    min_keepalive_s: int = 30
    max_keepalive_s: int = 1200
    connect_timeout_s: float = 10.0
    session_expiry_s: int = 3600  # "Persistent session expiry period", default 1 hour
    stored_delivery_rate: float = 10.0  # stored messages per second on resumption
    qos1_retry_s: float = 3600.0  # "Maximum retry interval for delivering QoS 1 messages"
    message_expiry_min_s: int = 1
    message_expiry_max_s: int = 604_800
    queued_per_second: float = 500.0  # "Queued messages per second per account"
    max_queued_per_session: int = 10_000  # the emulator's own memory bound
    websocket_ttl_s: float = 86_400.0  # "WebSocket connection duration"
    version_reset_s: float = 3600.0  # lifecycle versionNumber reset after ~1 hour offline
    authorizer_min_ttl_s: int = 300  # disconnectAfterInSeconds / refreshAfterInSeconds
    authorizer_max_ttl_s: int = 86_400

    @property
    def max_packet_bytes(self) -> int:
        """Largest MQTT packet read: a maximal payload with a maximal topic and properties."""
        return self.max_payload_bytes + 2 * 65_535 + 64


def topic_problem(topic: str, limits: Limits, *, allow_wildcards: bool = False) -> str | None:
    """Why ``topic`` (a topic name, or a filter when allow_wildcards) breaks AWS's limits."""
    if not topic:
        return "topic is empty"
    if "\x00" in topic:
        return "topic contains U+0000"
    if len(topic.encode("utf-8")) > limits.max_topic_bytes:
        return f"topic is longer than {limits.max_topic_bytes} bytes"
    if topic.count("/") > limits.max_topic_slashes:
        return f"topic has more than {limits.max_topic_slashes} forward slashes"
    if not allow_wildcards:
        if "+" in topic or "#" in topic:
            return "topic name contains a wildcard"
        return None
    return wildcard_problem(topic)


class RateLimiter:
    """A token bucket: ``rate`` events per second, bursts of up to one second's worth."""

    __slots__ = ("rate", "stamp", "tokens")

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.stamp = time.monotonic()

    def allow(self) -> bool:
        """Take one token if there is one."""
        now = time.monotonic()
        tokens = self.tokens + (now - self.stamp) * self.rate
        if tokens > self.rate:
            tokens = self.rate
        self.stamp = now
        if tokens >= 1.0:
            self.tokens = tokens - 1.0
            return True
        self.tokens = tokens
        return False
