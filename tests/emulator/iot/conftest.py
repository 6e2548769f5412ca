"""Fixtures for the broker tests: a running Harness per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator.iot.harness import Harness


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = Harness(authorizer_timeout_s=1.0).start()
    try:
        yield h
    finally:
        h.stop()
