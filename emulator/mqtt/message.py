"""An application message inside the broker, and its cached wire forms."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from emulator.mqtt import properties as P
from emulator.mqtt.codec import publish_parts


@dataclass(slots=True, eq=False)
class Message:
    """One message being routed: what subscribers receive, not how it arrived.

    ``properties`` holds only what is forwarded to subscribers (payload format,
    content type, response topic, correlation data, user properties);
    ``expires_at`` is a time.monotonic() deadline from a Message Expiry Interval;
    ``origin`` is the publishing client's id (None for messages the broker's owner
    publishes), used for the No Local subscription option.
    """

    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    properties: P.Properties = field(default_factory=dict)
    expires_at: float | None = None
    origin: str | None = None
    _wire: dict[tuple[bool, int, bool], tuple[bytes, bytes]] = field(
        default_factory=dict, repr=False
    )

    def expired(self, now: float) -> bool:
        """Whether the Message Expiry Interval has run out."""
        return self.expires_at is not None and now >= self.expires_at

    def remaining_expiry(self, now: float) -> int:
        """Seconds left, rounded down (a message with under a second left shows 0)."""
        assert self.expires_at is not None
        return max(0, math.floor(self.expires_at - now))

    def wire(self, v5: bool, qos: int, retain: bool) -> tuple[bytes, bytes]:
        """(head, tail) of this message as a PUBLISH: the packet id goes between them."""
        if v5 and self.expires_at is not None:
            props = dict(self.properties)
            props[P.MESSAGE_EXPIRY_INTERVAL] = self.remaining_expiry(time.monotonic())
            return publish_parts(self.topic, self.payload, qos, retain, False, props, True)
        key = (v5, qos, retain)
        parts = self._wire.get(key)
        if parts is None:
            parts = publish_parts(self.topic, self.payload, qos, retain, False, self.properties, v5)
            self._wire[key] = parts
        return parts


def forwarded_properties(props: P.Properties) -> P.Properties:
    """The properties of an incoming PUBLISH (or will) that subscribers receive."""
    if not props:
        return {}
    return {key: props[key] for key in P.FORWARDED if key in props}
