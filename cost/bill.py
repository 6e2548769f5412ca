"""From usage (units per price line, with what caused them) to a priced monthly bill.

Usage is collected per price line because tiers and free tiers apply to a line's
monthly total, whatever part of the design the units come from; each contribution
keeps its label so the bill can say where the units went.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from cost.prices import Prices


@dataclass
class Usage:
    """Units per price key, as (label, units) contributions in the order added."""

    parts: dict[str, list[tuple[str, float]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, key: str, label: str, units: float) -> None:
        if units < 0:
            raise ValueError(f"{key} / {label}: negative usage {units}")
        if units:
            self.parts[key].append((label, units))

    def units(self, key: str) -> float:
        return sum(u for _, u in self.parts.get(key, ()))


@dataclass(frozen=True)
class Line:
    """One price line of a bill, with its free-tier values kept apart."""

    key: str
    service: str
    line: str
    unit: str
    units: float
    usd: float
    free_always_usd: float
    free_12_months_usd: float
    contributions: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Bill:
    design: str
    title: str
    description: str
    lines: tuple[Line, ...]

    @property
    def total(self) -> float:
        """List price: what the month costs with no free tier."""
        return sum(line.usd for line in self.lines)

    @property
    def free_always(self) -> float:
        return sum(line.free_always_usd for line in self.lines)

    @property
    def free_12_months(self) -> float:
        return sum(line.free_12_months_usd for line in self.lines)

    @property
    def after_always_free(self) -> float:
        return self.total - self.free_always

    def by_service(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for line in self.lines:
            out[line.service] += line.usd
        return dict(out)


def price(design: str, title: str, description: str, usage: Usage, prices: Prices) -> Bill:
    """Price every line of ``usage``; lines keep the order of the price file."""
    lines = []
    for key, price_line in prices.lines.items():
        units = usage.units(key)
        if not units:
            continue
        free = price_line.free_value(units)
        term = price_line.free.term if price_line.free else None
        lines.append(
            Line(
                key=key,
                service=price_line.service,
                line=price_line.line,
                unit=price_line.unit,
                units=units,
                usd=price_line.cost(units),
                free_always_usd=free if term == "always" else 0.0,
                free_12_months_usd=free if term == "12 months" else 0.0,
                contributions=tuple(usage.parts[key]),
            )
        )
    unknown = set(usage.parts) - set(prices.lines)
    if unknown:
        raise KeyError(f"usage on price lines not in {prices.path.name}: {sorted(unknown)}")
    return Bill(design, title, description, tuple(lines))
