"""docs/cost.md's worked example, computed there by hand: the model must agree, line by
line, and the page must show the same figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from cost.bill import price
from cost.designs import DESIGNS
from cost.prices import load_prices
from cost.workload import Workload

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = Workload(
    users=100, hours=10, messages=10, room_size=10, message_bytes=100, history=1, stream=False
)

# Units per price line, as docs/cost.md derives them.
SHARED = {
    "dynamodb_storage": 70_000 * 447 / 2**30,
    "cloudfront_data_out": 3_000 * 125_000 / 2**30,
    "cloudfront_requests": 42_000,
    "cloudfront_functions": 42_000,
    "secrets_secret_months": 1,
    "secrets_api_calls": 7_200,
}
UNITS = {
    "iot": {
        "iot_connectivity": 1_800_000,
        "iot_messaging": 8_706_000,
        "iot_rules_triggered": 1_194_000,
        "iot_actions_executed": 1_194_000,
        "lambda_requests": 225_000,
        "lambda_arm_duration": 3_086.25,
        "dynamodb_write_units": 495_000,
        "dynamodb_read_units": 384_000,
        # 700 bytes of logs and 200 of metric lines (EMF) an invocation
        "logs_ingestion": 225_000 * 900 / 2**30,
        "logs_storage": 225_000 * 900 / 2**30,
        # stack/observability.py without the stream: 11 one-metric alarms, the rule
        # throttle alarm over 5 rules, 3 table alarms over 2 metrics each
        "cloudwatch_alarm_metrics": 22,
        "cloudwatch_dashboards": 1,
        "cloudwatch_custom_metrics": 25,
        "sns_email_notifications": 20,
        **SHARED,
    },
    "apigw": {
        "apigw_ws_messages": 3_890_000,
        "apigw_ws_connection_minutes": 1_800_000,
        "lambda_requests": 405_000,
        "lambda_arm_duration": 22_050,
        "dynamodb_write_units": 375_000,
        "dynamodb_read_units": 390_000,
        "logs_ingestion": 405_000 * 700 / 2**30,
        "logs_storage": 405_000 * 700 / 2**30,
        **SHARED,
    },
    "appsync": {
        "appsync_events_operations": 3_639_000,
        "appsync_events_connection_minutes": 1_800_000,
        "lambda_requests": 111_000,
        "lambda_arm_duration": 1_012.5,
        "dynamodb_write_units": 306_000,
        "dynamodb_read_units": 166_500,
        "logs_ingestion": 111_000 * 700 / 2**30,
        "logs_storage": 111_000 * 700 / 2**30,
        **SHARED,
    },
}
# (list price, always-free, 12-month tier) in USD, and how the page prints them.
TOTALS = {
    "iot": ((22.9713, 7.2640, 0.7190), ("**22.97**", "**-7.26**", "**-0.72**")),
    "apigw": ((5.6572, 0.5902, 1.1875), ("**5.66**", "**-0.59**", "**-1.19**")),
    "appsync": ((4.5883, 0.1551, 0.0), ("**4.59**", "**-0.16**", "**0.00**")),
}


@pytest.fixture(scope="module")
def bills():
    prices = load_prices()
    return {
        d.NAME: price(d.NAME, d.TITLE, d.DESCRIPTION, d.usage(EXAMPLE), prices) for d in DESIGNS
    }


@pytest.mark.parametrize("design", UNITS)
def test_every_line_has_the_units_worked_out_by_hand(bills, design: str):
    lines = {line.key: line.units for line in bills[design].lines}
    assert set(lines) == set(UNITS[design])
    for key, units in UNITS[design].items():
        assert lines[key] == pytest.approx(units, rel=1e-9), key


@pytest.mark.parametrize("design", TOTALS)
def test_totals_and_free_tiers(bills, design: str):
    (total, always, twelve), _ = TOTALS[design]
    bill = bills[design]
    assert bill.total == pytest.approx(total, abs=5e-5)
    assert bill.free_always == pytest.approx(always, abs=5e-5)
    assert bill.free_12_months == pytest.approx(twelve, abs=5e-5)


def test_the_page_shows_the_same_figures():
    page = (ROOT / "docs" / "cost.md").read_text(encoding="utf-8")
    example = page[page.index("## A worked example, by hand") :]
    for design, units in UNITS.items():
        for key in ("lambda_requests", "dynamodb_write_units", "dynamodb_read_units"):
            assert f"{units[key]:,}" in example, (design, key)
    for figure in ("8,706,000", "1,194,000", "3,890,000", "3,639,000", "3,086.25", "22,050"):
        assert figure in example
    for _, printed in TOTALS.values():
        for text in printed:
            assert text in example
