"""chatlib.validation: the rules shared by every function."""

from __future__ import annotations

import pytest

from chatlib import limits
from chatlib.validation import (
    ValidationError,
    parse_command,
    reply_client_id,
    validate_name,
    validate_room,
    validate_text,
)

STAMPS = {"clientId": "abc-1", "sender": "abc", "ts": 1_700_000_000_000}


@pytest.mark.parametrize("room", ["lobby", "a", "A-b_9", "x" * 64])
def test_good_rooms(room) -> None:
    assert validate_room(room) == room


@pytest.mark.parametrize("room", ["", "x" * 65, "a b", "a/b", "a+", "#", "lobby\n", "caf\u00e9", 5])
def test_bad_rooms(room) -> None:
    with pytest.raises(ValidationError):
        validate_room(room)


def test_names() -> None:
    assert validate_name("  Al ice ", trim=True) == "Al ice"
    assert validate_name("Zo\u00eb \U0001f600") == "Zo\u00eb \U0001f600"
    assert validate_name("n" * limits.NAME_MAX) == "n" * limits.NAME_MAX
    for bad in ["", "   ", "n" * (limits.NAME_MAX + 1), "a\tb", "a\x7fb", "a\u2029b", None, 3]:
        with pytest.raises(ValidationError):
            validate_name(bad)


def test_texts() -> None:
    assert validate_text("line one\nline two") == "line one\nline two"
    assert validate_text("t" * limits.TEXT_MAX)
    for bad in ["", "t" * (limits.TEXT_MAX + 1), None, {"a": 1}, "\ud800"]:
        with pytest.raises(ValidationError):
            validate_text(bad)


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
    assert msg.id == "u-1" and msg.text == "t"
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
