"""AWS IoT lifecycle events ($aws/events/...): topics, payload fields, disconnect reasons.

Follows "Lifecycle events" (https://docs.aws.amazon.com/iot/latest/developerguide/
life-cycle-events.html): connected/disconnected on $aws/events/presence/..., connect
failures on $aws/events/presence/connect_failed/<clientId>, subscribed/unsubscribed on
$aws/events/subscriptions/...; no events for client ids containing '#' or '+'. The
emulator never sends ``thingName`` (no exclusive-thing feature).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

PRESENCE = "$aws/events/presence"
SUBSCRIPTIONS = "$aws/events/subscriptions"

# disconnectReason values, from the page's table.
AUTH_ERROR = "AUTH_ERROR"
CLIENT_INITIATED_DISCONNECT = "CLIENT_INITIATED_DISCONNECT"
CLIENT_ERROR = "CLIENT_ERROR"
CONNECTION_LOST = "CONNECTION_LOST"
DUPLICATE_CLIENTID = "DUPLICATE_CLIENTID"
MQTT_KEEP_ALIVE_TIMEOUT = "MQTT_KEEP_ALIVE_TIMEOUT"
SERVER_INITIATED_DISCONNECT = "SERVER_INITIATED_DISCONNECT"
API_INITIATED_DISCONNECT = "API_INITIATED_DISCONNECT"
WEBSOCKET_TTL_EXPIRATION = "WEBSOCKET_TTL_EXPIRATION"
CUSTOMAUTH_TTL_EXPIRATION = "CUSTOMAUTH_TTL_EXPIRATION"

# "The broker will send the LWT messages": every reason but a client-initiated disconnect
# (an MQTT DISCONNECT or a WebSocket Close frame). AUTH_ERROR sends it only for a client
# that was connected, which is the only kind that has a will to send.
NO_WILL = frozenset({CLIENT_INITIATED_DISCONNECT})

AUTHORIZATION_FAILED = "AUTHORIZATION_FAILED"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def has_lifecycle_events(client_id: str) -> bool:
    """AWS sends no lifecycle events for client ids containing '#' or '+'."""
    return "#" not in client_id and "+" not in client_id


@dataclass
class _Versions:
    next: int = 0
    offline_since: float | None = None


class VersionCounter:
    """versionNumber: grows with each connection of a client id, shared by its connect and
    disconnect events, and back to 0 after about an hour offline (or, for a persistent
    session, once the session has expired)."""

    def __init__(self, reset_after_s: float = 3600.0) -> None:
        self.reset_after_s = reset_after_s
        self._clients: dict[str, _Versions] = {}

    def connected(self, client_id: str, *, session_present: bool) -> int:
        """The version of a new connection of ``client_id``."""
        entry = self._clients.setdefault(client_id, _Versions())
        offline = entry.offline_since
        if (
            not session_present
            and offline is not None
            and time.monotonic() - offline >= self.reset_after_s
        ):
            entry.next = 0
        entry.offline_since = None
        version = entry.next
        entry.next += 1
        return version

    def disconnected(self, client_id: str, *, persistent: bool) -> None:
        """The connection ended; a persistent session resets only when it expires."""
        entry = self._clients.get(client_id)
        if entry is not None and not persistent:
            entry.offline_since = time.monotonic()

    def session_expired(self, client_id: str) -> None:
        """A persistent session ran out: the next connection starts again at 0."""
        entry = self._clients.get(client_id)
        if entry is not None and entry.offline_since is None:
            entry.next = 0


def connected(
    client_id: str, session_id: str, principal: str, ip: str, version: int
) -> tuple[str, bytes]:
    """Topic and payload of a connect event (the only presence event with ipAddress)."""
    return f"{PRESENCE}/connected/{client_id}", _encode(
        {
            "clientId": client_id,
            "timestamp": _now_ms(),
            "eventType": "connected",
            "sessionIdentifier": session_id,
            "principalIdentifier": principal,
            "ipAddress": ip,
            "versionNumber": version,
        }
    )


def disconnected(
    client_id: str, session_id: str, principal: str, version: int, reason: str
) -> tuple[str, bytes]:
    """Topic and payload of a disconnect event."""
    return f"{PRESENCE}/disconnected/{client_id}", _encode(
        {
            "clientId": client_id,
            "timestamp": _now_ms(),
            "eventType": "disconnected",
            "sessionIdentifier": session_id,
            "principalIdentifier": principal,
            "clientInitiatedDisconnect": reason == CLIENT_INITIATED_DISCONNECT,
            "disconnectReason": reason,
            "versionNumber": version,
        }
    )


def connect_failed(
    client_id: str, session_id: str, ip: str, principal: str | None = None
) -> tuple[str, bytes]:
    """Topic and payload of a connect attempt failure (principalIdentifier when known)."""
    event: dict[str, Any] = {
        "clientId": client_id,
        "timestamp": _now_ms(),
        "eventType": "connect_failed",
        "connectFailureReason": AUTHORIZATION_FAILED,
    }
    if principal:
        event["principalIdentifier"] = principal
    event["sessionIdentifier"] = session_id
    event["ipAddress"] = ip
    return f"{PRESENCE}/connect_failed/{client_id}", _encode(event)


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
