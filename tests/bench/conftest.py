"""Bench tests share the session's emulator, warmed up once like the client tests."""

from __future__ import annotations

import pytest

from emulator.testing import EmulatorProcess
from tests.client.helpers import warm_up


@pytest.fixture(scope="session")
def warm_emulator(emulator: EmulatorProcess) -> EmulatorProcess:
    warm_up(emulator.base_url)
    return emulator
