"""The price file: every line traceable to a page and a date; tiers and free tiers;
malformed files refused with one line naming the entry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cost.prices import PricesError, load_prices

GOOD = """
region = "us-east-1"
region_name = "US East (N. Virginia)"
currency = "USD"
read_on = 2026-12-02

[prices.flat]
service = "S"
line = "flat"
unit = "request"
per = 1_000_000
usd = 0.20
page = "https://aws.amazon.com/x/pricing/"
read_on = 2026-12-02
basis = "page"
free = { units = 1_000_000, term = "always" }

[prices.tiered]
service = "S"
line = "tiered"
unit = "message"
per = 1_000_000
tiers = [{ upto = 10, usd = 1.0 }, { upto = 30, usd = 0.5 }, { usd = 0.25 }]
page = "https://aws.amazon.com/x/pricing/"
read_on = 2026-12-02
basis = "best-documented"
source = "somewhere"
free = { units = 15, term = "12 months" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_file_loads_and_every_line_names_its_page_and_date():
    prices = load_prices()
    assert prices.region == "us-east-1" and prices.currency == "USD"
    assert prices.read_on == dt.date(2026, 12, 2)
    for price in prices.lines.values():
        assert price.page.startswith("https://aws.amazon.com/")
        assert price.read_on == dt.date(2026, 12, 2)
        assert price.basis in ("page", "page-example", "best-documented")
        if price.basis == "best-documented":
            assert price.source


def test_flat_price_and_always_free_tier(tmp_path: Path):
    flat = load_prices(write(tmp_path, GOOD))["flat"]
    assert flat.cost(3_000_000) == pytest.approx(0.60)
    assert flat.free_value(3_000_000) == pytest.approx(0.20)
    assert flat.free_value(500_000) == pytest.approx(0.10)  # never more than the usage


def test_tiers_price_each_band_at_its_rate(tmp_path: Path):
    tiered = load_prices(write(tmp_path, GOOD))["tiered"]
    per = 1e-6  # usd are per million
    assert tiered.cost(10) == pytest.approx(10 * 1.0 * per)
    assert tiered.cost(40) == pytest.approx((10 * 1.0 + 20 * 0.5 + 10 * 0.25) * per)
    assert tiered.free_value(40) == pytest.approx((10 * 1.0 + 5 * 0.5) * per)
    assert tiered.free.term == "12 months"


def test_iot_messaging_tiers_as_published(tmp_path: Path):
    messaging = load_prices()["iot_messaging"]
    assert messaging.cost(1_000_000) == pytest.approx(1.00)
    assert messaging.cost(2_000_000_000) == pytest.approx(1000 + 800)


PAGE = 'page = "https://aws.amazon.com/x/pricing/"\n'


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('basis = "page"', 'basis = "guess"', "prices.flat: 'basis'"),
        ('source = "somewhere"\n', "", "prices.tiered: a best-documented"),
        (PAGE, "", "missing 'page'"),
        ("usd = 0.20", "usd = -0.20", "must be at least 0"),
        ("{ upto = 30,", "{ upto = 5,", "'upto' must grow"),
        ("{ usd = 0.25 }", "{ upto = 50, usd = 0.25 }", "only the last tier"),
        ("usd = 0.20", "usd = 0.20\ntiers = []", "either 'usd' or 'tiers'"),
        ('term = "always"', 'term = "forever"', "'term' must be one of"),
        ("read_on = 2026-12-02\nbasis", 'read_on = "yesterday"\nbasis', "'read_on'"),
        ("[prices.flat]", "[prices.flat", "is not valid TOML"),
    ],
)
def test_malformed_files_are_refused_with_one_line(tmp_path: Path, old, new, expected: str):
    assert old in GOOD
    with pytest.raises(PricesError) as caught:
        load_prices(write(tmp_path, GOOD.replace(old, new, 1)))
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value).strip()


def test_a_missing_file_is_named(tmp_path: Path):
    with pytest.raises(PricesError, match="price file not found"):
        load_prices(tmp_path / "nope.toml")
