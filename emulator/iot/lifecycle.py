"""AWS IoT lifecycle event payloads ($aws/events/...), built from connection state."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from typing import Any

PRESENCE = "$aws/events/presence"
SUBSCRIPTIONS = "$aws/events/subscriptions"

CLIENT_INITIATED_DISCONNECT = "CLIENT_INITIATED_DISCONNECT"
CONNECTION_LOST = "CONNECTION_LOST"
CLIENT_ERROR = "CLIENT_ERROR"
AUTH_ERROR = "AUTH_ERROR"
DUPLICATE_CLIENTID = "DUPLICATE_CLIENTID"
MQTT_KEEP_ALIVE_TIMEOUT = "MQTT_KEEP_ALIVE_TIMEOUT"
SERVER_INITIATED_DISCONNECT = "SERVER_INITIATED_DISCONNECT"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class VersionCounter:
    """versionNumber: grows with each connection of a client id; a session's events share it."""

    def __init__(self) -> None:
        self._next: defaultdict[str, int] = defaultdict(int)

    def next(self, client_id: str) -> int:
        """The version of a new connection of client_id (0 for its first)."""
        version = self._next[client_id]
        self._next[client_id] = version + 1
        return version


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def has_lifecycle_events(client_id: str) -> bool:
    """AWS sends no lifecycle events for client ids containing '#' or '+'."""
    return "#" not in client_id and "+" not in client_id


def _presence(
    event_type: str, client_id: str, session_id: str, principal: str, ip: str, version: int
) -> dict[str, object]:
    """The fields every presence event carries."""
    return {
        "clientId": client_id,
        "timestamp": _now_ms(),
        "eventType": event_type,
        "sessionIdentifier": session_id,
        "principalIdentifier": principal,
        "ipAddress": ip,
        "versionNumber": version,
    }


def connected(
    client_id: str, session_id: str, principal: str, ip: str, version: int
) -> tuple[str, bytes]:
    """Topic and payload of a connect event."""
    event = _presence("connected", client_id, session_id, principal, ip, version)
    return f"{PRESENCE}/connected/{client_id}", _encode(event)


def disconnected(
    client_id: str, session_id: str, principal: str, ip: str, version: int, reason: str
) -> tuple[str, bytes]:
    """Topic and payload of a disconnect event."""
    event = _presence("disconnected", client_id, session_id, principal, ip, version)
    event["clientInitiatedDisconnect"] = reason == CLIENT_INITIATED_DISCONNECT
    event["disconnectReason"] = reason
    return f"{PRESENCE}/disconnected/{client_id}", _encode(event)


def connect_failed(
    client_id: str, ip: str, reason: str = "AUTHORIZATION_FAILED"
) -> tuple[str, bytes]:
    """Topic and payload of a connect attempt failure event."""
    return f"{PRESENCE}/connect_failed/{client_id}", _encode(
        {
            "clientId": client_id,
            "timestamp": _now_ms(),
            "eventType": "connect_failed",
            "failureReason": reason,
            "ipAddress": ip,
        }
    )


def subscription(
    kind: str, client_id: str, session_id: str, principal: str, topics: list[str]
) -> tuple[str, bytes]:
    """Topic and payload of a subscribed/unsubscribed event (kind is either word)."""
    return f"{SUBSCRIPTIONS}/{kind}/{client_id}", _encode(
        {
            "clientId": client_id,
            "timestamp": _now_ms(),
            "eventType": kind,
            "sessionIdentifier": session_id,
            "principalIdentifier": principal,
            "topics": topics,
        }
    )
