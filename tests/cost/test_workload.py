"""The user's numbers: monthly counts, and one clear error per bad number."""

from __future__ import annotations

import pytest

from cost.workload import Workload, WorkloadError


def test_monthly_counts():
    w = Workload(users=100, hours=10, messages=10, history=1)
    assert w.user_hours == 30_000
    assert w.connection_minutes == 1_800_000
    assert w.chat_messages == 300_000
    assert w.connects(2880) == 100 * 30 * 13  # 10 h = 12.5 lifetimes of 48 min: 13 connects
    assert w.connects(7200) == 100 * 30 * 5


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("users", -1, "--users must be at least 0, got -1"),
        ("hours", 0, "--hours must be above 0 and at most 24, got 0"),
        ("hours", 25, "--hours must be above 0 and at most 24, got 25"),
        ("room_size", 0.5, "--room-size must be at least 1"),
        ("message_bytes", 0, "--message-bytes must be at least 1 and at most 8000"),
        ("message_bytes", 8001, "--message-bytes must be at least 1 and at most 8000"),
        ("message_bytes", 10.5, "--message-bytes must be a whole number"),
        ("retention_days", 0, "--retention-days must be at least 1"),
        ("stream_share", 1.5, "--stream-share must be at least 0 and at most 1"),
        ("subscribe_qos", 2, "--subscribe-qos must be 0 or 1"),
        ("users", float("nan"), "--users must be a number"),
    ],
)
def test_bad_numbers_are_named(field: str, value: float, message: str):
    with pytest.raises(WorkloadError, match=message.replace("(", r"\(")):
        Workload(**{field: value})


def test_a_stream_share_needs_the_stream():
    with pytest.raises(WorkloadError, match="drop --no-stream"):
        Workload(stream=False, stream_share=0.2)
