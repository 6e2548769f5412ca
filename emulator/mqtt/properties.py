"""MQTT 5 properties (section 2.2.2): identifiers, value types and where each may appear.

Properties travel as a plain ``dict[int, value]`` keyed by the identifiers below.
User Property (repeatable) holds a list of (name, value) pairs and Subscription
Identifier a list of ints; every other property holds one value.
"""

from __future__ import annotations

from enum import Enum

PAYLOAD_FORMAT_INDICATOR = 0x01
MESSAGE_EXPIRY_INTERVAL = 0x02
CONTENT_TYPE = 0x03
RESPONSE_TOPIC = 0x08
CORRELATION_DATA = 0x09
SUBSCRIPTION_IDENTIFIER = 0x0B
SESSION_EXPIRY_INTERVAL = 0x11
ASSIGNED_CLIENT_IDENTIFIER = 0x12
SERVER_KEEP_ALIVE = 0x13
AUTHENTICATION_METHOD = 0x15
AUTHENTICATION_DATA = 0x16
REQUEST_PROBLEM_INFORMATION = 0x17
WILL_DELAY_INTERVAL = 0x18
REQUEST_RESPONSE_INFORMATION = 0x19
RESPONSE_INFORMATION = 0x1A
SERVER_REFERENCE = 0x1C
REASON_STRING = 0x1F
RECEIVE_MAXIMUM = 0x21
TOPIC_ALIAS_MAXIMUM = 0x22
TOPIC_ALIAS = 0x23
MAXIMUM_QOS = 0x24
RETAIN_AVAILABLE = 0x25
USER_PROPERTY = 0x26
MAXIMUM_PACKET_SIZE = 0x27
WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28
SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29
SHARED_SUBSCRIPTION_AVAILABLE = 0x2A


class Kind(Enum):
    """How a property value is encoded on the wire."""

    BYTE = 1
    U16 = 2
    U32 = 3
    VARINT = 4
    UTF8 = 5
    BINARY = 6
    PAIR = 7


# Packet names used in the table: CONNECT, CONNACK, PUBLISH, PUBACK (also PUBREC, PUBREL,
# PUBCOMP), SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, DISCONNECT, AUTH and WILL (the will
# properties inside CONNECT).
_ACKS = ("PUBACK", "SUBACK", "UNSUBACK", "DISCONNECT", "AUTH")
SPEC: dict[int, tuple[str, Kind, frozenset[str]]] = {
    PAYLOAD_FORMAT_INDICATOR: (
        "Payload Format Indicator",
        Kind.BYTE,
        frozenset({"PUBLISH", "WILL"}),
    ),
    MESSAGE_EXPIRY_INTERVAL: ("Message Expiry Interval", Kind.U32, frozenset({"PUBLISH", "WILL"})),
    CONTENT_TYPE: ("Content Type", Kind.UTF8, frozenset({"PUBLISH", "WILL"})),
    RESPONSE_TOPIC: ("Response Topic", Kind.UTF8, frozenset({"PUBLISH", "WILL"})),
    CORRELATION_DATA: ("Correlation Data", Kind.BINARY, frozenset({"PUBLISH", "WILL"})),
    SUBSCRIPTION_IDENTIFIER: (
        "Subscription Identifier",
        Kind.VARINT,
        frozenset({"PUBLISH", "SUBSCRIBE"}),
    ),
    SESSION_EXPIRY_INTERVAL: (
        "Session Expiry Interval",
        Kind.U32,
        frozenset({"CONNECT", "CONNACK", "DISCONNECT"}),
    ),
    ASSIGNED_CLIENT_IDENTIFIER: ("Assigned Client Identifier", Kind.UTF8, frozenset({"CONNACK"})),
    SERVER_KEEP_ALIVE: ("Server Keep Alive", Kind.U16, frozenset({"CONNACK"})),
    AUTHENTICATION_METHOD: (
        "Authentication Method",
        Kind.UTF8,
        frozenset({"CONNECT", "CONNACK", "AUTH"}),
    ),
    AUTHENTICATION_DATA: (
        "Authentication Data",
        Kind.BINARY,
        frozenset({"CONNECT", "CONNACK", "AUTH"}),
    ),
    REQUEST_PROBLEM_INFORMATION: ("Request Problem Information", Kind.BYTE, frozenset({"CONNECT"})),
    WILL_DELAY_INTERVAL: ("Will Delay Interval", Kind.U32, frozenset({"WILL"})),
    REQUEST_RESPONSE_INFORMATION: (
        "Request Response Information",
        Kind.BYTE,
        frozenset({"CONNECT"}),
    ),
    RESPONSE_INFORMATION: ("Response Information", Kind.UTF8, frozenset({"CONNACK"})),
    SERVER_REFERENCE: ("Server Reference", Kind.UTF8, frozenset({"CONNACK", "DISCONNECT"})),
    REASON_STRING: ("Reason String", Kind.UTF8, frozenset({"CONNACK", *_ACKS})),
    RECEIVE_MAXIMUM: ("Receive Maximum", Kind.U16, frozenset({"CONNECT", "CONNACK"})),
    TOPIC_ALIAS_MAXIMUM: ("Topic Alias Maximum", Kind.U16, frozenset({"CONNECT", "CONNACK"})),
    TOPIC_ALIAS: ("Topic Alias", Kind.U16, frozenset({"PUBLISH"})),
    MAXIMUM_QOS: ("Maximum QoS", Kind.BYTE, frozenset({"CONNACK"})),
    RETAIN_AVAILABLE: ("Retain Available", Kind.BYTE, frozenset({"CONNACK"})),
    USER_PROPERTY: (
        "User Property",
        Kind.PAIR,
        frozenset({"CONNECT", "CONNACK", "PUBLISH", "WILL", "SUBSCRIBE", "UNSUBSCRIBE", *_ACKS}),
    ),
    MAXIMUM_PACKET_SIZE: ("Maximum Packet Size", Kind.U32, frozenset({"CONNECT", "CONNACK"})),
    WILDCARD_SUBSCRIPTION_AVAILABLE: (
        "Wildcard Subscription Available",
        Kind.BYTE,
        frozenset({"CONNACK"}),
    ),
    SUBSCRIPTION_IDENTIFIER_AVAILABLE: (
        "Subscription Identifier Available",
        Kind.BYTE,
        frozenset({"CONNACK"}),
    ),
    SHARED_SUBSCRIPTION_AVAILABLE: (
        "Shared Subscription Available",
        Kind.BYTE,
        frozenset({"CONNACK"}),
    ),
}

REPEATABLE = frozenset({USER_PROPERTY, SUBSCRIPTION_IDENTIFIER})
# Byte properties whose only legal values are 0 and 1.
BOOLEAN = frozenset(
    {
        PAYLOAD_FORMAT_INDICATOR,
        REQUEST_PROBLEM_INFORMATION,
        REQUEST_RESPONSE_INFORMATION,
        MAXIMUM_QOS,
        RETAIN_AVAILABLE,
        WILDCARD_SUBSCRIPTION_AVAILABLE,
        SUBSCRIPTION_IDENTIFIER_AVAILABLE,
        SHARED_SUBSCRIPTION_AVAILABLE,
    }
)
# Properties a server forwards from a PUBLISH (or will) to its subscribers (section 3.3.2.3).
FORWARDED = (
    PAYLOAD_FORMAT_INDICATOR,
    CONTENT_TYPE,
    RESPONSE_TOPIC,
    CORRELATION_DATA,
    USER_PROPERTY,
)

Properties = dict[int, object]


def name(identifier: int) -> str:
    """The spec's name of a property identifier."""
    spec = SPEC.get(identifier)
    return spec[0] if spec else f"property 0x{identifier:02x}"
