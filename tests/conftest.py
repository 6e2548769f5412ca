"""Fixtures shared across the suites."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.testing import EmulatorProcess


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    """One emulator for the whole session, started from templates/chat.json."""
    proc = EmulatorProcess().start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def fresh_emulator() -> Iterator[EmulatorProcess]:
    """An emulator of the test's own, for tests that stop and restart it."""
    proc = EmulatorProcess().start()
    try:
        yield proc
    finally:
        proc.stop()
