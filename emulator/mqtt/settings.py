"""What a deployment of the broker may choose; the defaults follow the MQTT specs.

Anything a particular service does differently from the specs (a keep-alive range,
a session expiry cap, retained messages only for exact filters) is set here by the
layer that embeds the broker, never hard-coded in the protocol code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Settings:
    """Protocol limits and behaviours of one broker."""

    # Largest packet accepted (fixed header included); announced to MQTT 5 clients.
    max_packet_size: int = 268_435_455
    # Receive Maximum announced to MQTT 5 clients (the broker acknowledges at once).
    receive_maximum: int = 65_535
    # Unacknowledged QoS 1 messages the broker sends a client before waiting for PUBACKs.
    max_inflight_out: int = 65_535
    topic_alias_maximum: int = 0
    # Keep-alive: None keeps the client's value; otherwise clamp, and use the default
    # when the client asks for 0 (no keep-alive).
    keep_alive_min: int | None = None
    keep_alive_max: int | None = None
    keep_alive_default: int | None = None
    keep_alive_grace: float = 1.5
    connect_timeout_s: float = 10.0
    # Session expiry: MQTT 3.1.1 persistent sessions have no interval of their own.
    session_expiry_v3_s: int = 0xFFFFFFFF
    session_expiry_max_s: int | None = None
    # Message Expiry Interval clamp (None: as sent).
    message_expiry_min_s: int | None = None
    message_expiry_max_s: int | None = None
    # Stored QoS 1 messages sent on session resumption, per second (None: at once).
    stored_delivery_rate: float | None = None
    # A QoS 1 message still unacknowledged this long after it was first sent is dropped.
    inflight_ttl_s: float | None = None
    # Messages kept for one offline session at most (older ones stay, newer are dropped).
    max_queued_per_session: int = 10_000
    # Spec: 'sport/#' matches 'sport'. False makes '#' match only below its level.
    hash_matches_parent: bool = True
    # Spec: retained messages go to any matching new subscription. False: exact filters only.
    retained_for_wildcards: bool = True
    shared_subscriptions: bool = True
    # QoS 2 is not implemented. A QoS 2 SUBSCRIBE request or MQTT 3.1.1 QoS 2 PUBLISH
    # is "ignored" (no acknowledgement) or answered by closing the connection; an
    # MQTT 5 QoS 2 PUBLISH always gets DISCONNECT 0x9B (Maximum QoS is 1).
    qos2_requests: str = "disconnect"
    assigned_client_id_prefix: str = "auto-"
    # Bytes buffered for a client that does not read before it is dropped.
    max_write_buffer: int = 8 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.qos2_requests not in ("ignore", "disconnect"):
            raise ValueError("qos2_requests must be 'ignore' or 'disconnect'")
        if not 1 <= self.receive_maximum <= 65_535:
            raise ValueError("receive_maximum must be 1..65535")

    def keep_alive(self, requested: int) -> int:
        """The keep-alive the broker enforces for a client that asked for ``requested``."""
        value = requested
        if value == 0 and self.keep_alive_default is not None:
            value = self.keep_alive_default
        if value and self.keep_alive_min is not None:
            value = max(value, self.keep_alive_min)
        if value and self.keep_alive_max is not None:
            value = min(value, self.keep_alive_max)
        return value

    def session_expiry(self, requested: int) -> int:
        """The session expiry interval granted for ``requested`` seconds."""
        if self.session_expiry_max_s is None:
            return requested
        return min(requested, self.session_expiry_max_s)

    def message_expiry(self, requested: int | None) -> int | None:
        """The Message Expiry Interval kept for a publish (None: it never expires)."""
        if requested is None:
            return None
        if self.message_expiry_min_s is not None:
            requested = max(requested, self.message_expiry_min_s)
        if self.message_expiry_max_s is not None:
            requested = min(requested, self.message_expiry_max_s)
        return requested
