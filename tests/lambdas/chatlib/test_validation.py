"""chatlib.validation: the rules shared by every function."""

from __future__ import annotations

import pytest

from chatlib.validation import (
    ValidationError,
    parse_command,
    reply_client_id,
    validate_name,
)

STAMPS = {"clientId": "abc-1", "sender": "abc", "ts": 1_700_000_000_000}


def msg_payload() -> dict:
    return {"type": "message", "room": "r", "name": "n", "text": "t", "id": "u-1", **STAMPS}


def test_the_token_function_trims_names() -> None:
    """What is valid is tests/contract/cases.json's business; trimming is the token
    function's own courtesy."""
    assert validate_name("  Al ice ", trim=True) == "Al ice"
    with pytest.raises(ValidationError):
        validate_name(" \u3000 ", trim=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("abc-1", "abc-1"), ("a/b", None), ("a+b", None), ("#", None), ("", None), (None, None)],
)
def test_reply_client_id(value, expected) -> None:
    assert reply_client_id(value) == expected


def test_reply_client_id_length() -> None:
    assert reply_client_id("a" * 128) == "a" * 128
    assert reply_client_id("a" * 129) is None


def test_parse_commands() -> None:
    join = parse_command({"type": "join", "room": "lobby", "name": "Al", **STAMPS})
    assert (join.type, join.room, join.name, join.client_id, join.sender, join.ts) == (
        "join",
        "lobby",
        "Al",
        "abc-1",
        "abc",
        1_700_000_000_000,
    )
    msg = parse_command(
        {"type": "message", "room": "r", "name": "n", "text": "t", "id": "u-1", **STAMPS}
    )
    assert msg.id == "u-1" and msg.text == "t" and msg.seq == 0
    assert parse_command({**msg_payload(), "seq": 12}).seq == 12
    assert parse_command({"type": "history", "room": "r", **STAMPS}).before is None
    # A float timestamp with no fraction is accepted (some JSON encoders write 1.7e12).
    assert parse_command({"type": "leave", "room": "r", **STAMPS, "ts": 1.7e12}).ts == 1.7e12


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "leave", "room": "r", **STAMPS, "ts": -1},
        {"type": "leave", "room": "r", **STAMPS, "ts": 10**13},
        {"type": "leave", "room": "r", **STAMPS, "ts": 1.5},
        {"type": "leave", "room": "r", **STAMPS, "sender": ""},
        {"type": "message", "room": "r", "name": "n", "text": "t", "id": "a#b", **STAMPS},
        {"type": "message", "room": "r", "name": "n", "text": "t", "id": "i" * 65, **STAMPS},
        {"type": "JOIN", "room": "r", "name": "n", **STAMPS},
    ],
)
def test_parse_command_rejects(payload) -> None:
    with pytest.raises(ValidationError):
        parse_command(payload)
