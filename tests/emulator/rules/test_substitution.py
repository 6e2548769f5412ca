"""Substitution templates in action fields."""

from __future__ import annotations

import pytest

from emulator.rules.sql import MessageContext, RuleMessage, SqlSyntaxError
from emulator.rules.substitution import SubstitutionTemplate

MSG = RuleMessage(
    "chat/pub/lobby",
    b'{"room": "lobby", "n": 3, "o": {"a": 1}, "z": null}',
    MessageContext(client_id="c-1"),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("chat/pub/${room}", "chat/pub/lobby"),
        ("${room}", "lobby"),
        ("${topic(2)}", "pub"),
        ("${topic()}/republish", "chat/pub/lobby/republish"),
        ("${clientid()}-${n + 1}", "c-1-4"),
        ("${upper(room)}", "LOBBY"),
        ("${o}", '{"a":1}'),
        ("${o.a}", "1"),
        ("${missing}", ""),
        ("${z}", ""),
        ("plain text", "plain text"),
        ("$$aws/things/t/shadow/update", "$aws/things/t/shadow/update"),
        ("a $ b", "a $ b"),
        ("${get({'k': '}'}, 'k')}", "}"),
        ("${replace(topic(), '/', '-') + '-' + n}", "chat-pub-lobby-3"),
    ],
)
def test_render(text: str, expected: str) -> None:
    assert SubstitutionTemplate.parse(text).render(MSG) == expected


def test_newuuid_differs_per_render() -> None:
    template = SubstitutionTemplate.parse("${newuuid()}")
    assert template.render(MSG) != template.render(MSG)


def test_static_detection() -> None:
    assert SubstitutionTemplate.parse("chat/out").is_static
    assert not SubstitutionTemplate.parse("chat/${room}").is_static


@pytest.mark.parametrize("text", ["${room", "${}", "${room +}", "${nosuch(1)}"])
def test_bad_templates_fail_at_parse(text: str) -> None:
    with pytest.raises(SqlSyntaxError):
        SubstitutionTemplate.parse(text)


def test_alias_is_not_visible() -> None:
    # AWS evaluates templates apart from SELECT: an AS alias is not in scope.
    assert SubstitutionTemplate.parse("${sender}").render(MSG) == ""
