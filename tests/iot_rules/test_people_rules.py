"""The route and republish rules' SQL, as templates/chat.json deploys it, on
the commands of DMs, private rooms, typing and edits: which rule takes which."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator.rules.sql import NO_MATCH, RuleMessage, compile_query
from emulator.rules.sql.context import MessageContext
from emulator.template import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "chat.json"
ROOM = "p-" + "0" * 20


@pytest.fixture(scope="module")
def rules() -> dict[str, Any]:
    template = load_template(TEMPLATE, stack_name="local")
    out = {}
    for name in ("Route", "Republish"):
        payload = template.resource(f"{name}Rule").properties["TopicRulePayload"]
        out[name.lower()] = compile_query(payload["Sql"], payload["AwsIotSqlVersion"])
    return out


def run(rules: dict[str, Any], rule: str, payload: dict[str, Any]) -> Any:
    ctx = MessageContext(client_id="alice1-tab", principal="alice1")
    message = RuleMessage("chat/out", json.dumps(payload).encode(), ctx)
    return rules[rule].evaluate(message)


def taken_by(rules: dict[str, Any], payload: dict[str, Any]) -> list[str]:
    return [name for name in ("route", "republish") if run(rules, name, payload) is not NO_MATCH]


@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        ({"type": "message", "room": "lobby", "name": "A", "text": "hi"}, "republish"),
        ({"type": "typing", "room": "lobby", "name": "A"}, "republish"),
        ({"type": "message", "room": ROOM, "private": True, "name": "A", "text": "hi"}, "route"),
        ({"type": "typing", "room": ROOM, "private": True, "name": "A"}, "route"),
        ({"type": "dm", "to": "bob1", "name": "A", "text": "hi"}, "route"),
        ({"type": "edit", "room": "lobby", "id": "x", "text": "t"}, "route"),
        ({"type": "delete", "room": "lobby", "id": "x"}, "route"),
        ({"type": "create", "title": "T", "private": True, "name": "A"}, "route"),
        ({"type": "invite", "room": ROOM, "member": "bob1"}, "route"),
        ({"type": "remove", "room": ROOM, "member": "bob1"}, "route"),
        ({"type": "join", "room": ROOM, "private": True, "name": "A"}, "route"),
    ],
)
def test_each_command_takes_exactly_one_path(rules, payload, rule) -> None:
    """A private room's message or typing never takes a rule-only path into a public
    room topic, and nothing is handled twice."""
    assert taken_by(rules, payload) == [rule]


def test_typing_is_stamped_and_carries_nothing_else(rules) -> None:
    """Not even a text a client put in it, nor a message's id, seq or clientId."""
    payload = {"type": "typing", "room": "lobby", "name": "Alice", "text": "x", "sender": "me"}
    out = run(rules, "republish", payload)
    assert set(out) == {"type", "room", "name", "sender", "ts"}
    assert out["sender"] == "alice1" and isinstance(out["ts"], int)


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "typing", "room": "lob/by", "name": "A"},
        {"type": "typing", "room": "lobby", "name": " "},
        {"type": "typing", "room": "lobby", "name": "x" * 41},
        {"type": "typing", "room": "lobby"},
        {"type": "typing", "room": 5, "name": "A"},
    ],
)
def test_bad_typing_signals_go_nowhere(rules, payload) -> None:
    assert taken_by(rules, payload) == []


def test_private_false_is_a_public_message(rules) -> None:
    payload = {"type": "message", "room": "lobby", "private": False, "name": "A", "text": "hi"}
    assert taken_by(rules, payload) == ["republish"]
