"""Whole statements: SELECT shapes, WHERE, binary payloads, caching."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator.rules.sql import (
    NO_MATCH,
    RuleMessage,
    SqlEvaluationError,
    compile_query,
)


def run(sql: str, payload: Any, topic: str = "a/b") -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return compile_query(sql).evaluate(RuleMessage(topic, body))


DOC = {"color": "red", "temperature": 50}


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM 'a/b'", DOC),
        ("SELECT color FROM 'a/b'", {"color": "red"}),
        ("SELECT color AS my_color FROM 'a/b'", {"my_color": "red"}),
        (
            "SELECT color as my_color, temperature as fahrenheit FROM 'a/b'",
            {"my_color": "red", "fahrenheit": 50},
        ),
        ("SELECT *, 15 as speed FROM 'a/b'", {**DOC, "speed": 15}),
        ("SELECT VALUE color FROM 'a/b'", "red"),
        ("SELECT (temperature - 32) * 5 / 9 AS celsius FROM 'a/b'", {"celsius": 10}),
        ("SELECT color, missing FROM 'a/b'", {"color": "red"}),
        ("SELECT missing AS m FROM 'a/b'", {}),
        ("SELECT *, upper(color) AS color FROM 'a/b'", {"color": "RED", "temperature": 50}),
        ("SELECT * FROM 'a/b' WHERE temperature > 40", DOC),
        ("SELECT * FROM 'a/b' WHERE temperature > 60", NO_MATCH),
        ("SELECT * FROM 'a/b' WHERE missing = 1", NO_MATCH),
        ("SELECT * FROM 'a/b' WHERE NOT missing = 1", NO_MATCH),
        ("SELECT * FROM 'a/b' WHERE 'true'", DOC),
        ("SELECT * FROM 'a/b' WHERE 1", NO_MATCH),
        ("SELECT value FROM 'a/b'", {}),
    ],
)
def test_select_shapes(sql: str, expected: Any) -> None:
    assert run(sql, DOC) == expected


def test_nested_output_key_is_last_name() -> None:
    assert run("SELECT color.red FROM 'a/b'", {"color": {"red": 255}}) == {"red": 255}


def test_value_field_called_value() -> None:
    assert run("SELECT value FROM 'a/b'", {"value": 3}) == {"value": 3}
    assert run("SELECT value, x FROM 'a/b'", {"value": 3, "x": 1}) == {"value": 3, "x": 1}


def test_select_star_binary_payload_is_passed_through() -> None:
    raw = b"\x00\xffbinary"
    assert run("SELECT * FROM 'a/b'", raw) == raw
    assert run("SELECT * FROM 'a/b' WHERE timestamp() > 0", raw) == raw


def test_binary_payload_functions_only() -> None:
    raw = b"\x01\x02"
    out = run("SELECT encode(*, 'base64') AS data, topic() AS t FROM 'a/b'", raw)
    assert out == {"data": "AQI=", "t": "a/b"}


def test_binary_payload_with_field_reference_is_undefined() -> None:
    assert run("SELECT * FROM 'a/b' WHERE device_type = 'thermostat'", b"\x01") is NO_MATCH


def test_binary_payload_star_with_columns_fails() -> None:
    with pytest.raises(SqlEvaluationError):
        run("SELECT *, timestamp() AS ts FROM 'a/b'", b"\x01\x02")


def test_encode_star_encodes_whole_json_payload() -> None:
    body = b'{"a": 1}'
    out = compile_query("SELECT encode(*, 'base64') AS p FROM 'a/b'").evaluate(
        RuleMessage("a/b", body)
    )
    assert out == {"p": "eyJhIjogMX0="}


def test_star_of_non_object_json() -> None:
    assert run("SELECT * FROM 'a/b'", [1, 2]) == [1, 2]
    assert run("SELECT n FROM 'a/b'", 5) == {}


def test_payload_parsed_once_and_output_does_not_alias_input() -> None:
    msg = RuleMessage("a/b", b'{"a": 1}')
    out = compile_query("SELECT *, 2 AS b FROM 'a/b'").evaluate(msg)
    assert out == {"a": 1, "b": 2}
    assert msg.doc == {"a": 1}


def test_compile_is_cached() -> None:
    sql = "SELECT * FROM 'cache/me'"
    assert compile_query(sql) is compile_query(sql)


def test_sql_version_is_reported() -> None:
    query = compile_query("SELECT sql_version() AS v FROM 'a/b'", "2015-10-08")
    assert query.evaluate(RuleMessage("a/b", b"{}")) == {"v": "2015-10-08"}


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("chat/out", "chat/out", True),
        ("chat/out", "chat/out/x", False),
        ("chat/pub/+", "chat/pub/lobby", True),
        ("chat/pub/+", "chat/pub", False),
        ("chat/pub/+", "chat/pub/a/b", False),
        ("chat/#", "chat", True),
        ("chat/#", "chat/a/b/c", True),
        ("#", "anything/at/all", True),
        ("#", "$aws/events/presence/connected/c1", False),
        ("+/events/#", "$aws/events/x", False),
        ("$aws/events/presence/+/+", "$aws/events/presence/connected/c1", True),
        ("$aws/events/presence/+/+", "$aws/events/presence/connected", False),
        ("$aws/events/#", "$aws/events/presence/disconnected/c1", True),
    ],
)
def test_from_topic_filter(topic_filter: str, topic: str, expected: bool) -> None:
    query = compile_query(f"SELECT * FROM '{topic_filter}'")  # noqa: S608
    assert query.matches_topic(topic) is expected


def test_double_quoted_topic_filter() -> None:
    assert compile_query('SELECT * FROM "a/+"').matches_topic("a/b")


def test_without_from_matches_nothing() -> None:
    assert not compile_query("SELECT *").matches_topic("a")
