"""Client tests share the session's emulator, warmed up once."""

from __future__ import annotations

import pytest

from emulator.testing import EmulatorProcess
from tests.client.helpers import warm_up


@pytest.fixture(scope="session")
def site(emulator: EmulatorProcess) -> EmulatorProcess:
    """The shared emulator after one successful connect + join (Lambda workers warm)."""
    warm_up(emulator.base_url)
    return emulator
