"""The PNG: monthly cost against users online for the three designs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from cost.bill import Bill
from cost.workload import Workload

POINTS = 40
COLORS = ("tab:red", "tab:blue", "tab:green")


def user_counts(w: Workload) -> list[float]:
    """From 10 users to ten times the user's number (at least 100,000), evenly on a log scale."""
    top = max(100_000.0, 10 * w.users)
    step = (top / 10) ** (1 / (POINTS - 1))
    return [10 * step**i for i in range(POINTS)]


def draw(path: Path, w: Workload, estimate: Callable[[Workload], Sequence[Bill]]) -> None:
    """Price every design at each user count (all other numbers as given) and plot."""
    xs = user_counts(w)
    series = [estimate(dataclasses.replace(w, users=x)) for x in xs]
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for i, first in enumerate(series[0]):
        ax.plot(xs, [bills[i].total for bills in series], color=COLORS[i % 3], label=first.title)
    if w.users:
        ax.axvline(w.users, color="grey", linestyle="--", linewidth=1, label="your users online")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("users online at once")
    ax.set_ylabel("USD per month (list prices, no free tier)")
    ax.set_title(
        f"{w.hours:g} h/day, {w.messages:g} msg/user/h, rooms of {w.room_size:g}, "
        f"{w.message_bytes} B text, {w.history:g} history/user/h",
        fontsize=10,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    tmp.replace(path)
