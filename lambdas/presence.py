"""The presence function: AWS IoT lifecycle events (``$aws/events/presence/+/+``).

``connected`` records the connection (and clears a room left behind by an older session
of the same client id); ``disconnected`` takes the client out of its room and publishes
that room's roster on ``<root>/pub/<room>``. Ordering and duplicates are handled by
conditional writes in chatlib.connections; other event types and malformed events are
logged and ignored.
"""

from __future__ import annotations

from typing import Any

from chatlib import commands, connections, metrics
from chatlib.log import logger
from chatlib.validation import reply_client_id


def _int_field(event: dict[str, Any], name: str) -> int | None:
    value = event.get(name)
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and value >= 0 else None


def handle_event(event: Any) -> str:
    if not isinstance(event, dict):
        logger.warning("ignoring a lifecycle event that is not an object")
        return "ignored"
    kind = event.get("eventType")
    client_id = reply_client_id(event.get("clientId"))
    timestamp = _int_field(event, "timestamp")
    version_number = _int_field(event, "versionNumber")
    if version_number is None:
        version_number = 0
    if kind not in ("connected", "disconnected") or client_id is None or timestamp is None:
        logger.info("ignoring lifecycle event", extra={"eventType": str(kind)[:32]})
        return "ignored"
    if timestamp >= connections.VERSION_TS_FACTOR:
        logger.warning("ignoring lifecycle event with an out-of-range timestamp")
        return "ignored"
    version = connections.lifecycle_version(version_number, timestamp)
    log_keys = {"clientId": client_id, "eventType": kind, "version": version}

    if kind == "connected":
        sender = event.get("principalIdentifier")
        session = event.get("sessionIdentifier")
        stale_room = connections.record_connect(
            client_id,
            sender if isinstance(sender, str) else None,
            version,
            timestamp,
            session if isinstance(session, str) else None,
        )
        logger.info("connected", extra=log_keys)
        if stale_room:
            commands.publish_roster(stale_room, exclude_client=client_id)
        return "connected"

    room = connections.record_disconnect(client_id, version, timestamp)
    logger.info(
        "disconnected",
        extra={**log_keys, "room": room, "reason": str(event.get("disconnectReason", ""))[:64]},
    )
    if room:
        commands.publish_roster(room, exclude_client=client_id)
    return "disconnected"


@metrics.metrics.log_metrics
@logger.inject_lambda_context
def handler(event: Any, context: Any) -> dict[str, Any]:
    outcome = handle_event(event)
    metrics.outcome(outcome)
    return {"outcome": outcome}
