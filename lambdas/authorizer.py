"""IoT Core custom authorizer: a JWT in, an IoT policy out.

The token comes from the ``token`` query parameter of the WebSocket upgrade request
(browsers), the event's top-level ``token`` field, or the MQTT password (device SDKs),
in that order. Verification rules and principalId derivation: see chatlib.tokens.

Answer: ``{"isAuthenticated": true, "principalId", "disconnectAfterInSeconds",
"refreshAfterInSeconds", "policyDocuments": [<policy JSON>]}`` or, for anything that is
not a good token (or any internal failure), ``{"isAuthenticated": false}``. It never
raises.

The policy carries the principal's private rooms (chatlib.people, one Query), so a
member's connection may subscribe to them and a removed member's next connection may
not (the chat function closes its connections when it is removed).

Timing: ``disconnectAfterInSeconds = min(86400, exp - now)``, so a connection never
outlives its token. AWS requires at least 300 s, so a token with less than 300 s left
is refused (the client must fetch a fresh one). ``refreshAfterInSeconds = min(3600,
disconnectAfterInSeconds)``.
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any
from urllib.parse import parse_qs

from chatlib import config, metrics, people, tokens
from chatlib.log import logger
from chatlib.policy import ArnScope, policy_documents

MIN_SESSION_SECONDS = 300
MAX_SESSION_SECONDS = 86400
MAX_REFRESH_SECONDS = 3600

DENY: dict[str, Any] = {"isAuthenticated": False}


def _query_token(query: Any) -> str | None:
    if not isinstance(query, str) or not query:
        return None
    values = parse_qs(query.lstrip("?"), keep_blank_values=False).get("token")
    return values[0] if values else None


def _password_token(password: Any) -> str | None:
    if not isinstance(password, str) or not password:
        return None
    try:
        raw = base64.b64decode(password, validate=True)
        return raw.decode("utf-8").strip() or None
    except (binascii.Error, ValueError):
        return None


def extract_token(event: Any) -> str | None:
    """The JWT from a custom authorizer event, or None."""
    if not isinstance(event, dict):
        return None
    protocol_data = event.get("protocolData")
    if not isinstance(protocol_data, dict):
        protocol_data = {}
    http = protocol_data.get("http") if isinstance(protocol_data.get("http"), dict) else {}
    mqtt = protocol_data.get("mqtt") if isinstance(protocol_data.get("mqtt"), dict) else {}

    token = _query_token(http.get("queryString"))
    if token:
        return token
    top = event.get("token")
    if isinstance(top, str) and top:
        return top
    token = _password_token(mqtt.get("password"))
    if token:
        return token
    # Some MQTT clients pass custom-auth parameters in the username's query part.
    username = mqtt.get("username")
    if isinstance(username, str) and "?" in username:
        return _query_token(username.split("?", 1)[1])
    return None


def authorize(event: Any, context: Any, now: float | None = None) -> dict[str, Any]:
    token = extract_token(event)
    if not token:
        logger.info("denied", extra={"reason": "no token"})
        metrics.refused("no_token")
        return dict(DENY)
    try:
        identity = tokens.verify(token)
    except tokens.TokenError as exc:
        logger.info("denied", extra={"reason": str(exc)})
        metrics.refused("bad_token")
        return dict(DENY)

    remaining = identity.expires_at - int(time.time() if now is None else now)
    if remaining < MIN_SESSION_SECONDS:
        logger.info("denied", extra={"reason": f"token expires in {remaining}s (< 300s)"})
        metrics.refused("expiring_token")
        return dict(DENY)
    disconnect_after = min(MAX_SESSION_SECONDS, remaining)

    scope = ArnScope.from_function_arn(getattr(context, "invoked_function_arn", None))
    rooms = people.memberships(identity.principal_id)
    logger.info(
        "authorized",
        extra={"principalId": identity.principal_id, "kind": identity.kind, "rooms": len(rooms)},
    )
    metrics.count("Authorized")
    return {
        "isAuthenticated": True,
        "principalId": identity.principal_id,
        "disconnectAfterInSeconds": disconnect_after,
        "refreshAfterInSeconds": min(MAX_REFRESH_SECONDS, disconnect_after),
        "policyDocuments": policy_documents(
            identity.principal_id, config.topic_root(), scope, rooms
        ),
    }


@logger.inject_lambda_context
def _logged(event: Any, context: Any) -> dict[str, Any]:
    return authorize(event, context)


@metrics.metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return _logged(event, context)
    except Exception:
        # A missing secret, an unreachable JWKS, a bad ARN or context: deny, never fail open.
        logger.exception("authorizer error; denying")
        metrics.count("AuthorizerErrors")
        return dict(DENY)
