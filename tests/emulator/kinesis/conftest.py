"""A helper to make streams in the emulator suites' moto (tests/emulator/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from emulator.aws import AwsServices


@pytest.fixture
def make_stream(aws: AwsServices) -> Callable[[int], str]:
    """Create a stream with `shards` shards; returns its ARN."""

    def make(shards: int = 1) -> str:
        name = "s-" + uuid.uuid4().hex[:10]
        kinesis = aws.client("kinesis")
        kinesis.create_stream(StreamName=name, ShardCount=shards)
        return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
            "StreamARN"
        ]

    return make
