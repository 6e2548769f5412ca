"""Fixtures shared by the emulator's layer suites."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.aws import AwsServices


@pytest.fixture(scope="module")
def aws() -> Iterator[AwsServices]:
    """moto on a free loopback port, in its own process, for one test module."""
    services = AwsServices().start()
    try:
        yield services
    finally:
        services.stop()
