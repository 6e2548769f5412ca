"""The PNG: latency over time per target, its distribution, and the saturation steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

COLORS = {"emulator": "tab:red", "amqtt": "tab:blue", "mosquitto": "tab:green"}
MAX_POINTS = 20_000  # per target in the scatter; enough to see the shape


def _thin(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    step = max(1, len(points) // MAX_POINTS)
    return points[::step]


def draw(path: Path, result: dict[str, Any], samples: dict[str, list]) -> None:
    """Two or three panels: scatter over time, CDF, and p99 against offered rate."""
    steps = result.get("saturation", {}).get("steps", [])
    panels = 3 if steps else 2
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4.6))
    over_time, dist = axes[0], axes[1]
    for name, points in samples.items():
        if not points:
            continue
        color = COLORS.get(name)
        pts = _thin(points)
        over_time.scatter(
            [p[0] for p in pts], [p[1] for p in pts], s=2, alpha=0.4, color=color, label=name
        )
        values = sorted(p[1] for p in points)
        n = len(values)
        dist.plot(values, [(i + 1) / n for i in range(n)], color=color, label=name)
    load = result["load"]
    over_time.set_title(
        f"latency by send time ({load['clients']} clients, {load['rooms']} rooms, "
        f"{load['rate']:g} msg/s)"
    )
    over_time.set_xlabel("send time since start (s)")
    over_time.set_ylabel("send -> receipt latency (ms)")
    over_time.set_yscale("log")
    over_time.legend(markerscale=5)
    dist.set_title("latency distribution (CDF, every delivery)")
    dist.set_xlabel("latency (ms)")
    dist.set_xscale("log")
    dist.set_ylabel("fraction of deliveries")
    dist.grid(True, which="both", alpha=0.3)
    dist.legend()
    if steps:
        sat = axes[2]
        rates = [s["rate"] for s in steps]
        sat.plot(rates, [s["latency_ms"]["p99"] or 0 for s in steps], "o-", label="p99")
        sat.plot(rates, [s["latency_ms"]["p50"] or 0 for s in steps], "s-", label="p50")
        lost = [(s["rate"], s["lost"]) for s in steps if s["lost"]]
        if lost:
            sat.scatter(
                [r for r, _ in lost],
                [100] * len(lost),
                marker="x",
                color="k",
                s=60,
                label="loss",
                zorder=3,
            )
        sat.axhline(100, color="gray", linestyle="--", linewidth=1)
        sat.set_xscale("log")
        sat.set_yscale("log")
        sat.set_title(f"{steps[0]['target']}: latency vs offered rate")
        sat.set_xlabel("offered rate (msg/s)")
        sat.set_ylabel("latency (ms)")
        sat.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
