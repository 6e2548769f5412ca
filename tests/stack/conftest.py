"""Shared fixtures and readers: the committed template, parsed once per test session.

The tests of each stack/ module check what that module puts into the template as
committed (what the emulator and the deploy tool read); test_build.py checks that the
committed file is exactly what the package builds.
"""

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


def of_type(resources: dict[str, Any], type_: str) -> dict[str, Any]:
    """Resources of one CloudFormation type, by logical id."""
    return {k: v for k, v in resources.items() if v["Type"] == type_}


def role_statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    """A role's statements, Fn::If [StreamEnabled, s, NoValue] taken as s."""
    out = []
    for policy in role["Properties"].get("Policies", []):
        for stmt in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in stmt:
                cond, then, otherwise = stmt["Fn::If"]
                assert cond == "StreamEnabled" and otherwise == {"Ref": "AWS::NoValue"}
                stmt = then
            out.append(stmt)
    return out
