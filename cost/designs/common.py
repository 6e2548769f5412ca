"""Lines every design has: the static site, functions and their logs, the guest-token
key, and the messages table's storage. The three designs serve the same chat, so these
are counted the same way for each; only the real-time part differs.
"""

from __future__ import annotations

from cost import assumptions, metering
from cost.bill import Usage
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
