"""chatlib.contract: what the contract's character classes mean, and its topic names.

The classes are written as code point ranges so Java, Python and JavaScript read them
alike; these tests pin them to the Unicode properties they stand for.
"""

from __future__ import annotations

import re
import unicodedata

import pytest

from chatlib import contract

BMP = [chr(c) for c in range(0x10000)]  # no character of these classes lies beyond it


def members(body: str) -> set[str]:
    pattern = re.compile(f"[{body}]")
    return {ch for ch in BMP if pattern.fullmatch(ch)}


def test_name_forbidden_is_control_separator_and_surrogate() -> None:
    expected = {ch for ch in BMP if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp")}
    assert members(contract.NAME_FORBIDDEN) == expected


def test_name_blank_is_the_space_separators() -> None:
    assert members(contract.NAME_BLANK) == {ch for ch in BMP if unicodedata.category(ch) == "Zs"}


def test_text_blank_is_white_space() -> None:
    assert members(contract.TEXT_BLANK) == {ch for ch in BMP if ch.isspace()}


def test_text_forbidden_is_lone_surrogates() -> None:
    assert members(contract.TEXT_FORBIDDEN) == {
        ch for ch in BMP if unicodedata.category(ch) == "Cs"
    }


@pytest.mark.parametrize(
    ("kind", "values", "expected"),
    [
        ("out", {}, "chat/out"),
        ("stream", {}, "chat/stream"),
        ("room", {"room": "lobby"}, "chat/pub/lobby"),
        ("inbox", {"client_id": "abc-1"}, "chat/in/abc-1"),
    ],
)
def test_topics(kind: str, values: dict, expected: str) -> None:
    assert contract.topic(kind, "chat", **values) == expected


def test_generators_keep_placeholders() -> None:
    assert contract.topic("room", "{root}", room="+") == "{root}/pub/+"
    with pytest.raises(KeyError):
        contract.topic("nope", "chat")


def test_seq_offset_keeps_a_fixed_width() -> None:
    assert len(str(contract.SEQ_OFFSET)) == len(str(contract.SEQ_OFFSET + contract.SEQ_MAX))
