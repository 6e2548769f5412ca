"""The bills and the limits as terminal text: one table per design, then side by side."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from cost.bill import Bill
from cost.capacity import Reach
from cost.prices import Prices
from cost.workload import DAYS_PER_MONTH, Workload, option

ROOT = Path(__file__).resolve().parents[1]

WIDE = 100


def usd(value: float) -> str:
    return f"{value:,.2f}"


def quantity(value: float) -> str:
    """Units as people read them: whole numbers with separators, small ones with decimals."""
    if value >= 1000 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.3g}" if value < 1 else f"{value:,.2f}"


def workload_line(w: Workload) -> str:
    stream = "off"
    if w.stream:
        stream = f"on, {w.stream_share:.0%} of messages on it"
    return (
        f"{quantity(w.users)} users online {w.hours:g} h a day ({DAYS_PER_MONTH}-day month), "
        f"{w.messages:g} messages/user/h, rooms of {w.room_size:g}, {w.message_bytes} bytes "
        f"of text, {w.history:g} history pages/user/h, {w.retention_days}-day retention, "
        f"stream path {stream}, subscriptions QoS {w.subscribe_qos}"
    )


def _shown(path: Path) -> str:
    """A path relative to the repository when it is inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def header(w: Workload, prices: Prices) -> list[str]:
    return [
        f"Monthly cost estimate, {prices.region_name} ({prices.region}), "
        f"{prices.currency}, prices read {prices.read_on} ({_shown(prices.path)})",
        "Workload: " + workload_line(w),
    ]


def itemised(bill: Bill, prices: Prices, *, detail: bool = False) -> list[str]:
    """One design's bill, line by line; `*` marks figures not found on the AWS page."""
    rows = [
        "",
        f"{bill.title}: {bill.description}",
        f"  {'service':<28} {'price line':<40} {'usage':>16} {'unit':<18} {'USD':>10}",
    ]
    for line in bill.lines:
        mark = "*" if prices[line.key].basis == "best-documented" else " "
        rows.append(
            f"  {line.service:<28} {line.line[:39] + mark:<40} {quantity(line.units):>16} "
            f"{line.unit[:18]:<18} {usd(line.usd):>10}"
        )
        if detail:
            for label, units in line.contributions:
                rows.append(f"      {label[:72]:<72} {quantity(units):>16}")
    rows += [
        f"  {'list price, per month':<104} {usd(bill.total):>10}".rstrip(),
        f"  {'always-free allowances':<104} {usd(-bill.free_always):>10}",
        f"  {'you pay (always-free applied)':<104} {usd(bill.after_always_free):>10}",
        f"  {'12-month free tier (accounts opened before 2025-07-15)':<104} "
        f"{usd(-bill.free_12_months):>10}",
    ]
    return rows


def side_by_side(bills: Sequence[Bill]) -> list[str]:
    """Per service, the three designs in columns (list prices)."""
    services: list[str] = []
    for bill in bills:
        services += [s for s in bill.by_service() if s not in services]
    width = 24
    rows = ["", "Side by side, USD per month (list prices)"]
    rows.append(f"  {'service':<30}" + "".join(f"{b.title[:width]:>{width + 2}}" for b in bills))
    for service in services:
        cells = "".join(
            f"{usd(b.by_service()[service]) if service in b.by_service() else '-':>{width + 2}}"
            for b in bills
        )
        rows.append(f"  {service:<30}{cells}")
    for label, value in (
        ("list price", lambda b: b.total),
        ("you pay (always-free applied)", lambda b: b.after_always_free),
        ("first 12 months (legacy tier)", lambda b: b.after_always_free - b.free_12_months),
    ):
        rows.append(f"  {label:<30}" + "".join(f"{usd(value(b)):>{width + 2}}" for b in bills))
    return rows


def _at(reach: Reach) -> str:
    if reach.at is None:
        return "does not bind within the model's range"
    field = reach.limit.grows_with
    value = math.ceil(reach.at) if field != "users" else round(reach.at)
    if field == "users":
        return f"binds at {value:,} users online"
    if field == "room_size":
        return f"binds at rooms of {value:,} members"
    return f"binds at {option(field)} {value:,}"


def limits(reaches: Sequence[Reach]) -> list[str]:
    """The closest limit, and the first one as users and as rooms grow."""
    first = reaches[0]
    rows = [
        "",
        "Capacity (this design; docs/capacity.md says what users see and what to change)",
        f"  first limit these numbers reach: {first.limit.name}: "
        f"{quantity(first.demand)} of {quantity(first.limit.quota)} {first.limit.unit} "
        f"({first.use:.1%}); {_at(first)}",
    ]
    for field, words in (("users", "as users grow"), ("room_size", "as rooms grow")):
        bound = [r for r in reaches if r.limit.grows_with == field and r.at is not None]
        if bound:
            nearest = min(bound, key=lambda r: r.at or math.inf)
            rows.append(f"  {words}: {nearest.limit.name}, {_at(nearest)}")
    return rows


def footnote(prices: Prices) -> list[str]:
    return [
        "",
        f"* best-documented figure, not found in the text of the AWS pricing page: "
        f"see {_shown(prices.path)} for its source.",
        "Data transfer out of AWS IoT Core, API Gateway and AppSync is not modelled "
        "(docs/cost.md).",
    ]
