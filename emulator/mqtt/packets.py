"""MQTT control packets as plain data, shared by MQTT 3.1.1 (level 4) and MQTT 5 (level 5).

Fields that exist only in MQTT 5 (properties, reason codes) keep their neutral value
for 3.1.1; the codec decides what goes on the wire for each version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from emulator.mqtt.properties import Properties

MQTT_311 = 4
MQTT_5 = 5

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = (
    8,
    9,
    10,
    11,
    12,
    13,
    14,
    15,
)
PACKET_NAMES = {
    CONNECT: "CONNECT",
    CONNACK: "CONNACK",
    PUBLISH: "PUBLISH",
    PUBACK: "PUBACK",
    PUBREC: "PUBREC",
    PUBREL: "PUBREL",
    PUBCOMP: "PUBCOMP",
    SUBSCRIBE: "SUBSCRIBE",
    SUBACK: "SUBACK",
    UNSUBSCRIBE: "UNSUBSCRIBE",
    UNSUBACK: "UNSUBACK",
    PINGREQ: "PINGREQ",
    PINGRESP: "PINGRESP",
    DISCONNECT: "DISCONNECT",
    AUTH: "AUTH",
}


@dataclass(slots=True)
class Will:
    """The Will Message carried by CONNECT."""

    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    properties: Properties = field(default_factory=dict)


@dataclass(slots=True)
class Connect:
    """CONNECT: everything the client says about itself."""

    version: int
    client_id: str
    clean_start: bool = True
    keep_alive: int = 60
    username: str | None = None
    password: bytes | None = None
    will: Will | None = None
    properties: Properties = field(default_factory=dict)
    type = CONNECT


@dataclass(slots=True)
class Connack:
    """CONNACK (reason_code is an MQTT 5 reason; the codec maps it for 3.1.1)."""

    session_present: bool = False
    reason_code: int = 0
    properties: Properties = field(default_factory=dict)
    type = CONNACK


@dataclass(slots=True)
class Publish:
    """PUBLISH; packet_id is None for QoS 0."""

    topic: str
    payload: bytes = b""
    qos: int = 0
    retain: bool = False
    dup: bool = False
    packet_id: int | None = None
    properties: Properties = field(default_factory=dict)
    type = PUBLISH


@dataclass(slots=True)
class Ack:
    """PUBACK, PUBREC, PUBREL or PUBCOMP (``kind`` says which)."""

    kind: int
    packet_id: int
    reason_code: int = 0
    properties: Properties = field(default_factory=dict)

    @property
    def type(self) -> int:
        return self.kind


@dataclass(slots=True)
class SubscriptionRequest:
    """One topic filter of a SUBSCRIBE with its options."""

    topic_filter: str
    qos: int = 0
    no_local: bool = False
    retain_as_published: bool = False
    retain_handling: int = 0


@dataclass(slots=True)
class Subscribe:
    """SUBSCRIBE."""

    packet_id: int
    requests: list[SubscriptionRequest]
    properties: Properties = field(default_factory=dict)
    type = SUBSCRIBE


@dataclass(slots=True)
class Suback:
    """SUBACK: one reason code (granted QoS or failure) per requested filter."""

    packet_id: int
    reason_codes: list[int]
    properties: Properties = field(default_factory=dict)
    type = SUBACK


@dataclass(slots=True)
class Unsubscribe:
    """UNSUBSCRIBE."""

    packet_id: int
    topic_filters: list[str]
    properties: Properties = field(default_factory=dict)
    type = UNSUBSCRIBE


@dataclass(slots=True)
class Unsuback:
    """UNSUBACK; reason codes exist only in MQTT 5."""

    packet_id: int
    reason_codes: list[int] = field(default_factory=list)
    properties: Properties = field(default_factory=dict)
    type = UNSUBACK


@dataclass(slots=True)
class PingReq:
    """PINGREQ."""

    type = PINGREQ


@dataclass(slots=True)
class PingResp:
    """PINGRESP."""

    type = PINGRESP


@dataclass(slots=True)
class Disconnect:
    """DISCONNECT (reason and properties in MQTT 5 only)."""

    reason_code: int = 0
    properties: Properties = field(default_factory=dict)
    type = DISCONNECT


@dataclass(slots=True)
class Auth:
    """AUTH (MQTT 5 only)."""

    reason_code: int = 0
    properties: Properties = field(default_factory=dict)
    type = AUTH


Packet = (
    Connect
    | Connack
    | Publish
    | Ack
    | Subscribe
    | Suback
    | Unsubscribe
    | Unsuback
    | PingReq
    | PingResp
    | Disconnect
    | Auth
)
