"""The token endpoint's per-source rate limit: at most N guest tokens a minute for one
source address, counted in the rate-limit table so every instance of the function sees
the same count.

A source is an IPv4 address, or an IPv6 /64 (one host or home network's share: an
attacker rotating addresses inside a /64 gains nothing). Counting is one conditional
UpdateItem per request on the item ``<source>#<minute>``; refused requests fail its
condition. A warm instance remembers the sources it refused until their minute ends and
refuses their further requests without a write, so a flood from one address costs one
write per instance and minute. The table's TTL removes the counters soon after.

If the table cannot be reached the request is let through (logged): the functions'
reserved concurrency still caps what a flood can cost, and a DynamoDB hiccup should not
lock every visitor out.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chatlib import aws, config
from chatlib.log import logger

WINDOW_SECONDS = 60
UNKNOWN_SOURCE = "unknown"
_REMEMBERED_MAX = 10_000  # refused sources a warm instance keeps (one per attacker address)

# source -> the window it was refused in, for this warm instance.
_refused: dict[str, int] = {}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # seconds until the source's next window


def source_of(ip: Any) -> str:
    """The counting unit for a caller's address: IPv4 as is, IPv6 by its /64."""
    try:
        address = ipaddress.ip_address(str(ip))
    except ValueError:
        return UNKNOWN_SOURCE
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def check(ip: Any, now: float | None = None) -> Decision:
    """Count one token request from ``ip``; whether it may have a token."""
    table, limit = config.rate_limit_table(), config.token_requests_per_minute()
    if not table:
        return Decision(True)
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    refused = Decision(False, retry_after=max(1, (window + 1) * WINDOW_SECONDS - int(now)))
    source = source_of(ip)
    if _refused.get(source) == window:
        return refused
    try:
        aws.table(table).update_item(
            Key={"key": f"{source}#{window}"},
            UpdateExpression="ADD #count :one SET #expiresAt = if_not_exists(#expiresAt, :exp)",
            ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
            ExpressionAttributeNames={"#count": "count", "#expiresAt": "expiresAt"},
            ExpressionAttributeValues={
                ":one": 1,
                ":limit": limit,
                ":exp": (window + 2) * WINDOW_SECONDS,
            },
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            logger.warning("rate limit not checked", extra={"error": str(exc)})
            return Decision(True)
        # Logged once per source, minute and instance: a flood must not become log volume.
        logger.info(
            "token requests of a source refused until its next minute", extra={"source": source}
        )
        _remember(source, window)
        return refused
    except BotoCoreError as exc:
        logger.warning("rate limit not checked", extra={"error": str(exc)})
        return Decision(True)
    return Decision(True)


def _remember(source: str, window: int) -> None:
    if len(_refused) >= _REMEMBERED_MAX:
        for stale in [s for s, w in _refused.items() if w != window]:
            del _refused[stale]
        if len(_refused) >= _REMEMBERED_MAX:
            _refused.clear()
    _refused[source] = window


def reset() -> None:
    """Forget the refusals this instance remembers (tests)."""
    _refused.clear()
