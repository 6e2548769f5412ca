"""One moto server for the AWS-layer tests (moto's state is per process anyway)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.aws import AwsServices


@pytest.fixture(scope="module")
def aws() -> Iterator[AwsServices]:
    services = AwsServices().start()
    try:
        yield services
    finally:
        services.stop()
