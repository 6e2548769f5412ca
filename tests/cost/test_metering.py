"""AWS's metering rules at their unit boundaries."""

from __future__ import annotations

import pytest

from cost import metering

KB = 1024


@pytest.mark.parametrize(
    ("size", "messages"),
    [(0, 1), (1, 1), (5 * KB, 1), (5 * KB + 1, 2), (10 * KB, 2), (10 * KB + 1, 3), (128 * KB, 26)],
)
def test_iot_messages_are_5_kb_increments_at_least_one(size: int, messages: int):
    assert metering.iot_messages(size) == messages


@pytest.mark.parametrize(
    ("size", "messages"), [(0, 1), (32 * KB, 1), (32 * KB + 1, 2), (33 * KB, 2), (128 * KB, 4)]
)
def test_websocket_messages_are_32_kb_increments(size: int, messages: int):
    assert metering.websocket_messages(size) == messages


@pytest.mark.parametrize(("size", "ops"), [(1, 1), (5 * KB, 1), (5 * KB + 1, 2)])
def test_appsync_operations_are_5_kb_increments(size: int, ops: int):
    assert metering.appsync_operations(size) == ops


@pytest.mark.parametrize(("size", "units"), [(0, 1), (1, 1), (KB, 1), (KB + 1, 2), (2500, 3)])
def test_dynamodb_write_units_per_started_kilobyte(size: int, units: int):
    assert metering.dynamodb_write_units(size) == units


@pytest.mark.parametrize(
    ("size", "strong", "eventual"),
    [(1, 1.0, 0.5), (4 * KB, 1.0, 0.5), (4 * KB + 1, 2.0, 1.0), (16_881, 5.0, 2.5)],
)
def test_dynamodb_read_units_per_4_kb_half_when_eventually_consistent(size, strong, eventual):
    assert metering.dynamodb_read_units(size, consistent=True) == strong
    assert metering.dynamodb_read_units(size, consistent=False) == eventual


def test_lambda_duration_rounds_up_to_the_millisecond_times_memory():
    assert metering.lambda_gb_seconds(1, 1024) == pytest.approx(0.001)
    assert metering.lambda_gb_seconds(1.0001, 1024) == pytest.approx(0.002)
    assert metering.lambda_gb_seconds(80, 512) == pytest.approx(0.04)
    assert metering.lambda_gb_seconds(15, 256) == pytest.approx(0.00375)


@pytest.mark.parametrize(("size", "billed"), [(1, KB), (KB, KB), (KB + 1, 2 * KB), (4608, 5 * KB)])
def test_kinesis_records_round_up_to_1_kb(size: int, billed: int):
    assert metering.kinesis_billed_bytes(size) == billed


def test_dynamodb_item_size_counts_names_and_values():
    # "room"(4) + "lobby"(5); "ts"(2) + 13 significant digits -> 7 + 1; "ok"(2) + bool 1
    assert metering.dynamodb_item_bytes({"room": "lobby", "ts": 1796123456789, "ok": True}) == 22
    # Leading and trailing zeros are trimmed: 1796000000000 has 4 significant digits.
    assert metering.dynamodb_item_bytes({"ts": 1796000000000}) == 2 + 3
    assert metering.dynamodb_item_bytes({"n": 100}) == 1 + 2
    assert metering.dynamodb_item_bytes({"é": "é"}) == 4  # UTF-8 bytes, not characters


@pytest.mark.parametrize(
    "call",
    [
        lambda: metering.iot_messages(-1),
        lambda: metering.dynamodb_write_units(-5),
        lambda: metering.lambda_gb_seconds(-1, 128),
        lambda: metering.lambda_gb_seconds(10, 0),
    ],
)
def test_negative_sizes_and_durations_are_refused(call):
    with pytest.raises(ValueError):
        call()
