"""Bench tests share the session's emulator, warmed up once like the client tests."""

from __future__ import annotations

import pytest

from tests.client.helpers import warm_up
from tests.support.emulator_process import EmulatorProcess


@pytest.fixture(scope="session")
def warm_emulator(emulator: EmulatorProcess) -> EmulatorProcess:
    warm_up(emulator.base_url)
    return emulator
