"""The price list (cost/prices.toml): loading, checking, and pricing a number of units.

A price line is either flat (``usd`` per ``per`` units) or tiered (``tiers``, each up
to a cumulative number of units per month). Free-tier allowances are kept apart, by
term: "always" (does not expire) or "12 months".
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).resolve().parent / "prices.toml"
BASES = ("page", "page-example", "best-documented")
FREE_TERMS = ("always", "12 months")


class PricesError(ValueError):
    """The price file is missing, unreadable or malformed (one line, names the entry)."""


@dataclass(frozen=True)
class Tier:
    upto: float | None  # cumulative units per month; None for the last tier
    usd_per_unit: float


@dataclass(frozen=True)
class FreeTier:
    units: float
    term: str


@dataclass(frozen=True)
class Price:
    """One AWS price line and where its figure comes from."""

    key: str
    service: str
    line: str
    unit: str
    per: float
    tiers: tuple[Tier, ...]
    page: str
    read_on: dt.date
    basis: str
    free: FreeTier | None = None
    source: str = ""
    note: str = ""

    def cost(self, units: float) -> float:
        """USD for ``units`` in one month, walking the tiers from the cheapest volume up."""
        if units < 0:
            raise ValueError(f"{self.key}: negative usage {units}")
        total, done = 0.0, 0.0
        for tier in self.tiers:
            top = units if tier.upto is None else min(units, tier.upto)
            if top > done:
                total += (top - done) * tier.usd_per_unit
                done = top
            if done >= units:
                break
        return total

    def free_value(self, units: float) -> float:
        """USD the free tier takes off a bill of ``units`` (0 without a free tier)."""
        if self.free is None:
            return 0.0
        return self.cost(min(units, self.free.units))

    @property
    def rate_text(self) -> str:
        """The first tier as people write it, e.g. "$1.00 per 1,000,000 message (5 KB)"."""
        usd = self.tiers[0].usd_per_unit * self.per
        return f"${usd:g} per {self.per:,.0f} {self.unit}"


@dataclass(frozen=True)
class Prices:
    region: str
    region_name: str
    currency: str
    read_on: dt.date
    lines: Mapping[str, Price]
    path: Path

    def __getitem__(self, key: str) -> Price:
        try:
            return self.lines[key]
        except KeyError:
            raise PricesError(f"{self.path.name}: no price line {key!r}") from None


def _require(
    entry: Mapping[str, Any], field: str, kind: type | tuple[type, ...], where: str
) -> Any:
    value = entry.get(field)
    if value is None:
        raise PricesError(f"{where}: missing {field!r}")
    if not isinstance(value, kind) or isinstance(value, bool):
        raise PricesError(f"{where}: {field!r} has the wrong type ({type(value).__name__})")
    return value


def _amount(value: Any, where: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PricesError(f"{where}: {value!r} is not a number")
    if value < 0 or (positive and value == 0):
        raise PricesError(f"{where}: {value!r} must be {'above' if positive else 'at least'} 0")
    return float(value)


def _tiers(entry: Mapping[str, Any], per: float, where: str) -> tuple[Tier, ...]:
    if ("usd" in entry) == ("tiers" in entry):
        raise PricesError(f"{where}: give either 'usd' or 'tiers'")
    if "usd" in entry:
        return (Tier(None, _amount(entry["usd"], f"{where}.usd") / per),)
    raw = entry["tiers"]
    if not isinstance(raw, list) or not raw:
        raise PricesError(f"{where}: 'tiers' must be a non-empty list")
    tiers: list[Tier] = []
    previous = 0.0
    for i, tier in enumerate(raw):
        here = f"{where}.tiers[{i}]"
        if not isinstance(tier, dict):
            raise PricesError(f"{here}: not a table")
        usd = _amount(tier.get("usd"), f"{here}.usd")
        last = i == len(raw) - 1
        if last != ("upto" not in tier):
            raise PricesError(f"{here}: only the last tier has no 'upto'")
        upto = None if last else _amount(tier["upto"], f"{here}.upto", positive=True)
        if upto is not None and upto <= previous:
            raise PricesError(f"{here}: 'upto' must grow from tier to tier")
        previous = upto or previous
        tiers.append(Tier(upto, usd / per))
    return tuple(tiers)


def _price(key: str, entry: Any, file_name: str) -> Price:
    where = f"{file_name}: prices.{key}"
    if not isinstance(entry, dict):
        raise PricesError(f"{where}: not a table")
    per = _amount(entry.get("per", 1), f"{where}.per", positive=True)
    page = _require(entry, "page", str, where)
    if not page.startswith("https://"):
        raise PricesError(f"{where}: 'page' must be an https:// address")
    basis = _require(entry, "basis", str, where)
    if basis not in BASES:
        raise PricesError(f"{where}: 'basis' must be one of {', '.join(BASES)}")
    if basis == "best-documented" and not entry.get("source"):
        raise PricesError(f"{where}: a best-documented figure must name its 'source'")
    free = None
    if "free" in entry:
        raw = _require(entry, "free", dict, where)
        term = raw.get("term")
        if term not in FREE_TERMS:
            raise PricesError(f"{where}.free: 'term' must be one of {', '.join(FREE_TERMS)}")
        free = FreeTier(_amount(raw.get("units"), f"{where}.free.units", positive=True), term)
    return Price(
        key=key,
        service=_require(entry, "service", str, where),
        line=_require(entry, "line", str, where),
        unit=_require(entry, "unit", str, where),
        per=per,
        tiers=_tiers(entry, per, where),
        page=page,
        read_on=_require(entry, "read_on", dt.date, where),
        basis=basis,
        free=free,
        source=entry.get("source", ""),
        note=entry.get("note", ""),
    )


def load_prices(path: Path = PRICES_FILE) -> Prices:
    """Read and check the price file; PricesError names the file and entry at fault."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PricesError(f"price file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PricesError(f"{path.name} is not valid TOML: {exc}") from None
    entries = raw.get("prices")
    if not isinstance(entries, dict) or not entries:
        raise PricesError(f"{path.name}: no [prices.*] entries")
    return Prices(
        region=_require(raw, "region", str, path.name),
        region_name=_require(raw, "region_name", str, path.name),
        currency=_require(raw, "currency", str, path.name),
        read_on=_require(raw, "read_on", dt.date, path.name),
        lines={key: _price(key, entry, path.name) for key, entry in entries.items()},
        path=path,
    )
