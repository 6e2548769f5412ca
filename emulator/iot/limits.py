"""AWS IoT Core message broker limits the emulator enforces, and the checks that use them."""

from __future__ import annotations

from dataclasses import dataclass

from emulator.topics import wildcard_problem

# Values from the AWS IoT Core quotas page (message broker and protocol limits).
MAX_PAYLOAD_BYTES = 128 * 1024
MAX_CLIENT_ID_BYTES = 128
MAX_TOPIC_BYTES = 256
MAX_TOPIC_SLASHES = 7
MAX_SUBSCRIPTIONS_PER_CONNECTION = 50
MAX_QOS = 1


@dataclass(frozen=True, slots=True)
class Limits:
    """Broker limits; tests may shrink them, the defaults are AWS's."""

    max_payload_bytes: int = MAX_PAYLOAD_BYTES
    max_client_id_bytes: int = MAX_CLIENT_ID_BYTES
    max_topic_bytes: int = MAX_TOPIC_BYTES
    max_topic_slashes: int = MAX_TOPIC_SLASHES
    max_subscriptions: int = MAX_SUBSCRIPTIONS_PER_CONNECTION
    connect_timeout_s: float = 10.0
    # AWS keeps the keep-alive between 30 and 1200 s and drops the client after 1.5x.
    min_keepalive_s: int = 30
    max_keepalive_s: int = 1200

    @property
    def max_frame_bytes(self) -> int:
        """Largest MQTT remaining length accepted: payload + topic + ids + CONNECT fields."""
        return self.max_payload_bytes + 2 * 65535 + 16

    def keepalive_deadline_s(self, keepalive: int) -> float:
        """Seconds of silence after which AWS closes the connection."""
        ka = self.max_keepalive_s if keepalive <= 0 else keepalive
        ka = min(max(ka, self.min_keepalive_s), self.max_keepalive_s)
        return ka * 1.5


def topic_problem(topic: str, limits: Limits, *, allow_wildcards: bool = False) -> str | None:
    """Why `topic` (a topic name, or a filter when allow_wildcards) breaks AWS's rules, or None."""
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
