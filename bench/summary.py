"""Turn a RunData (plus the storage check) into the figures the report holds."""

from __future__ import annotations

from typing import Any

from bench.load import RunData
from bench.stats import latency_summary, per_second


def delivery_counts(data: RunData) -> dict[str, int]:
    """Sent, acked, expected, received once, lost, duplicated, misrouted."""
    members: dict[int, set[int]] = {}
    for index, room in enumerate(data.member_of):
        members.setdefault(room, set()).add(index)
    expected = lost = 0
    for seq, room in enumerate(data.sent_room):
        for index in members.get(room, ()):
            expected += 1
            if (seq, index) not in data.receipts:
                lost += 1
    duplicates = sum(n - 1 for n in data.receipts.values())
    misrouted = sum(
        1
        for (seq, index) in data.receipts
        if seq >= len(data.sent_room) or index not in members.get(data.sent_room[seq], ())
    )
    return {
        "sent": len(data.sent_ns),
        "acked": sum(1 for a in data.acked if a),
        "publish_errors": sum(1 for a in data.acked if a is False),
        "expected_deliveries": expected,
        "received": len(data.receipts),
        "lost": lost,
        "duplicates": duplicates,
        "misrouted": misrouted,
    }


def summarize(data: RunData, storage: dict[str, Any] | None, extra: dict[str, Any]) -> dict:
    """One result row: the load, the counts, latency, throughput, CPU and storage."""
    counts = delivery_counts(data)
    send_seconds = max(1e-9, (data.send_end_ns - data.start_ns) / 1e9)
    span = max(1e-9, (max(data.last_receipt_ns, data.send_end_ns) - data.start_ns) / 1e9)
    total_receipts = sum(data.receipts.values())
    cpu_per_msg = (
        round(data.cpu_seconds * 1000 / counts["sent"], 4)
        if data.cpu_seconds is not None and counts["sent"]
        else None
    )
    return {
        "target": data.target,
        **extra,
        "run_id": data.run_id,
        "clients": data.spec.clients,
        "rooms": data.spec.rooms,
        "rate": data.spec.rate,
        "duration": data.spec.duration,
        "achieved_rate": round(counts["sent"] / send_seconds, 2),
        **counts,
        "deliveries_per_s": round(total_receipts / span, 2),
        "latency_ms": latency_summary([lat for _, lat in data.samples]),
        "cpu_seconds": None if data.cpu_seconds is None else round(data.cpu_seconds, 3),
        "cpu_ms_per_message": cpu_per_msg,
        "cpu_ms_per_message_by_part": {
            part: round(seconds * 1000 / counts["sent"], 4)
            for part, seconds in sorted(data.cpu_parts.items())
        }
        if counts["sent"]
        else {},
        "client_cpu_seconds": round(data.client_cpu_seconds, 3),
        "setup_seconds": round(data.setup_seconds, 2),
        "storage": storage,
        "per_second": per_second(data.samples),
    }


def ok(row: dict) -> bool:
    """No loss, no duplicates, nothing misrouted, every publish acknowledged (and stored)."""
    storage = row.get("storage") or {}
    stored_ok = not storage or (storage.get("missing") == 0 and storage.get("duplicates") == 0)
    return (
        row["lost"] == 0
        and row["duplicates"] == 0
        and row["misrouted"] == 0
        and row["acked"] == row["sent"]
        and stored_ok
    )


def ratios(rows: list[dict], of: str = "emulator") -> dict[str, dict[str, float | None]]:
    """The emulator's p50/p99/max latency and CPU per message as multiples of each baseline."""
    base = next((r for r in rows if r["target"] == of), None)
    if base is None:
        return {}
    out: dict[str, dict[str, float | None]] = {}
    for row in rows:
        if row is base:
            continue
        entry: dict[str, float | None] = {}
        for key in ("p50", "p99", "max"):
            a, b = base["latency_ms"].get(key), row["latency_ms"].get(key)
            entry[f"latency_{key}"] = round(a / b, 2) if a and b else None
        a, b = base.get("cpu_ms_per_message"), row.get("cpu_ms_per_message")
        entry["cpu_per_message"] = round(a / b, 2) if a and b else None
        out[row["target"]] = entry
    return out
