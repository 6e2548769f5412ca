"""Settings read from the function's environment.

Every value is read when it is asked for (not at import), so a warm container picks up
nothing stale and tests can change the environment between cases. The names are the
ones fixed in docs/internals.md; the defaults below apply when a variable is unset or
empty.
"""

from __future__ import annotations

import os
import re

from chatlib import contract

TOPIC_ROOT_PATTERN = re.compile(contract.TOPIC_ROOT_PATTERN)
DEFAULT_TOPIC_ROOT = contract.DEFAULT_TOPIC_ROOT
DEFAULT_GUEST_ISSUER = "serverless-iot-chat"
DEFAULT_GUEST_AUDIENCE = "serverless-iot-chat-clients"
DEFAULT_TOKEN_LIFETIME_SECONDS = 3600
# The authorizer refuses a token with less than 300 s left (AWS's minimum for
# disconnectAfterInSeconds), so a guest token must live comfortably longer than that.
MIN_TOKEN_LIFETIME_SECONDS = 600
MAX_TOKEN_LIFETIME_SECONDS = 86400
DEFAULT_MESSAGE_RETENTION_DAYS = 7
DEFAULT_TOKEN_REQUESTS_PER_MINUTE = 30


class ConfigError(RuntimeError):
    """A required setting is missing or malformed (a deployment error, not a user one)."""


def _get(name: str, default: str = "") -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _required(name: str) -> str:
    value = _get(name)
    if not value:
        raise ConfigError(f"environment variable {name} is not set")
    return value


def _int(name: str, default: int) -> int:
    raw = _get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"environment variable {name} is not an integer: {raw!r}") from exc


def topic_root() -> str:
    root = _get("TOPIC_ROOT", DEFAULT_TOPIC_ROOT)
    if not TOPIC_ROOT_PATTERN.fullmatch(root):
        raise ConfigError(f"TOPIC_ROOT {root!r} does not match {TOPIC_ROOT_PATTERN.pattern}")
    return root


def messages_table() -> str:
    return _required("MESSAGES_TABLE")


def connections_table() -> str:
    return _required("CONNECTIONS_TABLE")


def people_table() -> str:
    return _required("PEOPLE_TABLE")


def message_retention_days() -> int:
    days = _int("MESSAGE_RETENTION_DAYS", DEFAULT_MESSAGE_RETENTION_DAYS)
    if days < 1:
        raise ConfigError("MESSAGE_RETENTION_DAYS must be at least 1")
    return days


def token_secret_arn() -> str:
    return _required("TOKEN_SECRET_ARN")


def guest_issuer() -> str:
    return _get("GUEST_ISSUER", DEFAULT_GUEST_ISSUER)


def guest_audience() -> str:
    return _get("GUEST_AUDIENCE", DEFAULT_GUEST_AUDIENCE)


def token_lifetime_seconds() -> int:
    """Guest token lifetime, clamped to [600, 86400] seconds."""
    lifetime = _int("TOKEN_LIFETIME_SECONDS", DEFAULT_TOKEN_LIFETIME_SECONDS)
    return max(MIN_TOKEN_LIFETIME_SECONDS, min(MAX_TOKEN_LIFETIME_SECONDS, lifetime))


def jwks_url() -> str:
    return _get("JWKS_URL")


def jwt_issuer() -> str:
    return _get("JWT_ISSUER")


def jwt_audience() -> str:
    return _get("JWT_AUDIENCE")


def rate_limit_table() -> str:
    """The token endpoint's rate-limit table; empty: no per-source limit."""
    return _get("RATE_LIMIT_TABLE")


def token_requests_per_minute() -> int:
    """Guest tokens one source may get per minute (at least 1)."""
    return max(1, _int("TOKEN_REQUESTS_PER_MINUTE", DEFAULT_TOKEN_REQUESTS_PER_MINUTE))
