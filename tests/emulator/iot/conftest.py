"""Fixtures for the broker tests: a running Harness per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator.iot.harness import Harness


@pytest.fixture
def admin(harness: Harness) -> Harness:
    """The harness with tokens dev, pub, sub, watch and late allowed everything."""
    return harness.allow_all("dev", "pub", "sub", "watch", "late")


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = Harness(authorizer_timeout_s=1.0).start()
    try:
        yield h
    finally:
        h.stop()
