"""Write a run's results: JSON (everything), CSV (one row per run) and a PNG plot."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

CSV_FIELDS = [
    "target",
    "mode",
    "path",
    "transport",
    "clients",
    "rooms",
    "rate",
    "duration",
    "achieved_rate",
    "sent",
    "acked",
    "expected_deliveries",
    "received",
    "lost",
    "duplicates",
    "misrouted",
    "stored",
    "stored_missing",
    "stored_duplicates",
    "deliveries_per_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "cpu_ms_per_message",
]


def _csv_row(row: dict[str, Any]) -> dict[str, Any]:
    storage = row.get("storage") or {}
    latency = row["latency_ms"]
    flat = {k: row.get(k) for k in CSV_FIELDS}
    flat.update(
        stored=storage.get("stored"),
        stored_missing=storage.get("missing"),
        stored_duplicates=storage.get("duplicates"),
        p50_ms=latency["p50"],
        p95_ms=latency["p95"],
        p99_ms=latency["p99"],
        max_ms=latency["max"],
    )
    return flat


def write(out_dir: Path, result: dict[str, Any], samples: dict[str, list], plot: bool) -> None:
    """latest.json, latest.csv and (unless `plot` is False) latest.png under `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = result["runs"] + result.get("saturation", {}).get("steps", [])
    with open(out_dir / "latest.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow(_csv_row(row))
    if plot:
        from bench.plot import draw

        draw(out_dir / "latest.png", result, samples)
