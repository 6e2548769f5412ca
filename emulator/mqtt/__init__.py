"""An MQTT 3.1.1 and MQTT 5 broker of the project's own, with no notion of AWS.

The codec, sessions, routing, retained messages, wills and keep-alive follow the
OASIS specifications; everything a hosting service decides (authentication,
authorization, limits, events) goes through ``Hooks``, and its protocol choices
through ``Settings``. emulator.iot builds AWS IoT Core on top of it.
"""

from emulator.mqtt.broker import Broker
from emulator.mqtt.connection import Connection
from emulator.mqtt.hooks import (
    Accept,
    CloseReason,
    ConnectRequest,
    Hooks,
    Peer,
    Refusal,
    Refuse,
)
from emulator.mqtt.message import Message
from emulator.mqtt.session import Session
from emulator.mqtt.settings import Settings
from emulator.mqtt.topics import FilterSpec
from emulator.mqtt.transport import TcpListener, serve_websocket

__all__ = [
    "Accept",
    "Broker",
    "CloseReason",
    "ConnectRequest",
    "Connection",
    "FilterSpec",
    "Hooks",
    "Message",
    "Peer",
    "Refusal",
    "Refuse",
    "Session",
    "Settings",
    "TcpListener",
    "serve_websocket",
]
