"""Lines every design has: the static site, functions and their logs, the guest-token
key, and the messages table's storage. The three designs serve the same chat, so these
are counted the same way for each; only the real-time part differs.
"""

from __future__ import annotations

from cost import assumptions, metering
from cost.bill import Usage
from cost.payloads import Payloads
from cost.workload import DAYS_PER_MONTH, Workload


def add_site(usage: Usage, w: Workload) -> None:
    """CloudFront: one full page load per session; the rewrite function runs per request."""
    loads = w.seat_days * assumptions.PAGE_LOADS_PER_SESSION
    requests = loads * assumptions.PAGE_REQUESTS
    usage.add(
        "cloudfront_data_out", "web client page loads", loads * assumptions.PAGE_BYTES / metering.GB
    )
    usage.add("cloudfront_requests", "web client page loads", requests)
    usage.add("cloudfront_functions", "room-path rewrite, every request", requests)


def add_function(
    usage: Usage, label: str, invocations: float, duration_ms: float, memory_mb: int
) -> None:
    """A function's requests, billed duration and logs (kept 30 days: one month stored)."""
    usage.add("lambda_requests", label, invocations)
    usage.add(
        "lambda_arm_duration",
        label,
        invocations * metering.lambda_gb_seconds(duration_ms, memory_mb),
    )
    logged = invocations * assumptions.LOG_BYTES_PER_INVOCATION / metering.GB
    usage.add("logs_ingestion", label, logged)
    usage.add("logs_storage", label, logged)


def add_auth(
    usage: Usage, w: Workload, *, tokens: float, authorizations: float, memory_mb: int
) -> None:
    """The guest-token function, the JWT authorizer and the key they share."""
    add_function(usage, "token function (guest tokens)", tokens, assumptions.TOKEN_MS, memory_mb)
    add_function(usage, "authorizer function", authorizations, assumptions.AUTHORIZER_MS, memory_mb)
    usage.add("secrets_secret_months", "guest-token signing key", 1)
    usage.add(
        "secrets_api_calls",
        "key reads, cached 300 s per container",
        assumptions.SECRET_READS_PER_HOUR * w.hours * DAYS_PER_MONTH,
    )


def add_message_storage(usage: Usage, w: Workload, item_bytes: int) -> None:
    """The messages table holds ``retention_days`` of messages (TTL deletes are free)."""
    kept = w.chat_messages / DAYS_PER_MONTH * w.retention_days
    stored = kept * (item_bytes + metering.DYNAMODB_STORAGE_OVERHEAD_BYTES) / metering.GB
    usage.add("dynamodb_storage", f"messages kept {w.retention_days} days", stored)


# -- the chat's DynamoDB work, the same in every design (lambdas/chatlib) --------------


def connection_write(usage: Usage, label: str, count: float, p: Payloads, *, index: bool) -> None:
    """One connections-table UpdateItem; ``index``: it also changes the room index (the
    item enters or leaves a room), which costs the same again."""
    units = count * metering.dynamodb_write_units(p.connection_item)
    usage.add("dynamodb_write_units", f"{label}: connections UpdateItem", units)
    if index:
        usage.add("dynamodb_write_units", f"{label}: room index write", units)


def message_put(usage: Usage, label: str, count: float, p: Payloads) -> None:
    units = count * metering.dynamodb_write_units(p.stored_item)
    usage.add("dynamodb_write_units", f"{label}: messages PutItem", units)


def page_query(usage: Usage, label: str, count: float, read_bytes: int) -> None:
    """A backlog or history Query: strongly consistent, on the items' summed size."""
    units = count * metering.dynamodb_read_units(read_bytes, consistent=True)
    usage.add("dynamodb_read_units", f"{label}: messages Query", units)


def roster_query(usage: Usage, label: str, count: float, p: Payloads) -> None:
    """The room's members from the room index (eventually consistent)."""
    units = count * metering.dynamodb_read_units(p.roster_read, consistent=False)
    usage.add("dynamodb_read_units", f"{label}: room index Query", units)
