"""Shared fixtures: the committed template, parsed once per test session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO / "templates" / "chat.json"


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """templates/chat.json as committed (what the emulator and deploy tool read)."""
    return json.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    """The template's Resources section."""
    return template["Resources"]
