"""Latency percentiles and per-second series, in plain Python (no numpy needed)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of already sorted values (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float | None]:
    """p50/p95/p99/max/mean, rounded to microseconds."""
    values = sorted(latencies_ms)

    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 3)

    return {
        "p50": r(percentile(values, 50)),
        "p95": r(percentile(values, 95)),
        "p99": r(percentile(values, 99)),
        "max": r(values[-1] if values else None),
        "mean": r(sum(values) / len(values) if values else None),
    }


def per_second(samples: Sequence[tuple[float, float]]) -> list[dict[str, float | int | None]]:
    """Group (send offset s, latency ms) samples by the second they were sent in."""
    buckets: dict[int, list[float]] = {}
    for offset, latency in samples:
        buckets.setdefault(int(offset), []).append(latency)
    rows: list[dict[str, float | int | None]] = []
    for second in sorted(buckets):
        values = sorted(buckets[second])
        rows.append(
            {
                "second": second,
                "deliveries": len(values),
                "p50": round(percentile(values, 50) or 0.0, 3),
                "p99": round(percentile(values, 99) or 0.0, 3),
                "max": round(values[-1], 3),
            }
        )
    return rows
