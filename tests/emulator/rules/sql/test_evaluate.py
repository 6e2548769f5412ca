"""Table-driven IoT SQL semantics, with cases taken from the AWS IoT SQL reference
(operators, data types and conversions, functions, CASE, nested fields, casting)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from emulator.rules.sql import UNDEFINED, MessageContext, RuleMessage, compile_query

U = UNDEFINED
PAYLOAD: dict[str, Any] = {
    "s": "hello",
    "n": 5,
    "d": 2.5,
    "neg": -1.5,
    "t": True,
    "f": False,
    "z": None,
    "num_str": "12",
    "arr": [1, "two", {"three": 3}],
    "obj": {"a": {"b": {"c": 42}}, "list": [10, 20]},
    "spaced": "  h i  ",
    "whole": 10.0,
    "empty": "",
}


def evaluate(expr: str, payload: Any = None, ctx: MessageContext | None = None) -> Any:
    """The value of ``expr`` as the only column of a rule (Undefined if left out)."""
    query = compile_query(f"SELECT {expr} AS r FROM 'a/b/c'")  # noqa: S608
    body = json.dumps(PAYLOAD if payload is None else payload).encode()
    out = query.evaluate(RuleMessage("a/b/c", body, ctx))
    return out.get("r", UNDEFINED)


CASES: list[tuple[str, Any]] = [
    # literals
    ("1", 1),
    ("1.5", 1.5),
    ("10.0", 10),  # SQL V2: whole-number decimals are Int
    ("-3", -3),
    ("'it''s'", "it's"),
    ('"double"', "double"),
    ("true", True),
    ("FALSE", False),
    ("null", None),
    ("[1, 'a', null]", [1, "a", None]),
    ("{'k': n, 'm': missing}", {"k": 5}),
    # field access
    ("s", "hello"),
    ("obj.a.b.c", 42),
    ("obj.list[1]", 20),
    ("arr[2].three", 3),
    ("arr[5]", U),
    ("arr[-1]", U),
    ("missing", U),
    ("missing.deeper", U),
    ("s.length", U),
    ("z", None),
    ("whole", 10),
    # arithmetic
    ("n + 1", 6),
    ("n + d", 7.5),
    ("n - 7", -2),
    ("n * 2", 10),
    ("7 / 2", 3),  # Int / Int is Int
    ("-7 / 2", -3),  # truncates toward zero
    ("7.0 / 2", 3),  # 7.0 is the Int 7 in SQL V2
    ("7.5 / 2", 3.75),
    ("n / 0", U),
    ("7 % 3", 1),
    ("-7 % 3", -1),
    ("5.5 % 2", 1.5),
    ("num_str * 2", 24),
    ("'1.5' - 1", 0.5),
    ("'abc' * 2", U),
    ("t + 1", U),
    ("missing + 1", U),
    ("z + 1", U),
    ("-n", -5),
    ("-'2'", -2),
    ("(n + 1) * 2", 12),
    ("n + 1 * 2", 7),
    # + is also string concatenation
    ("s + ' world'", "hello world"),
    ("'n=' + n", "n=5"),
    ("1 + '1'", "11"),
    ("s + t", "hellotrue"),
    ("s + missing", U),
    # comparison
    ("n = 5", True),
    ("n = 5.0", True),
    ("n = '5'", False),  # mismatched types are not equal
    ("n <> '5'", True),
    ("n != 4", True),
    ("s = 'hello'", True),
    ("arr = [1, 'two', {'three': 3}]", True),
    ("obj.list = [20, 10]", False),
    ("{'a': 1, 'b': 2} = {'b': 2, 'a': 1}", True),
    ("z = null", True),
    ("missing = 1", U),
    ("missing <> 1", U),
    ("n > 4", True),
    ("n >= 5", True),
    ("n < '10'", True),  # strings convert to Decimal for ordering
    ("'abc' < 'abd'", U),  # non-numeric strings cannot be ordered
    ("d <= 2.5", True),
    ("t > 0", U),
    ("missing > 0", U),
    ("2 IN [1, 2, 3]", True),
    ("'x' IN arr", False),
    # logic
    ("t AND n = 5", True),
    ("t AND f", False),
    ("f OR t", True),
    ("'true' AND t", True),
    ("'TRUE' OR f", True),
    ("NOT f", True),
    ("NOT 'false'", True),
    ("NOT n", U),
    ("t AND missing", U),
    ("t AND 1", U),
    ("NOT n = 4", True),
    ("f AND t OR t", True),
    # CASE
    ("CASE n WHEN 5 THEN 'five' ELSE 'other' END", "five"),
    ("CASE n WHEN 4 THEN 'four' END", U),
    ("CASE s WHEN 'x' THEN 1 WHEN 'hello' THEN 2 ELSE 3 END", 2),
    ("CASE WHEN n > 10 THEN 'big' WHEN n > 1 THEN 'mid' ELSE 'small' END", "mid"),
    ("CASE WHEN missing > 1 THEN 'yes' ELSE 'no' END", "no"),
    # casting
    ("cast(n AS String)", "5"),
    ("cast(d AS String)", "2.5"),
    ("cast(true AS Int)", 1),
    ("cast('12.7' AS Int)", 12),
    ("cast(2.9 AS Int)", 2),
    ("cast(-2.5 AS Int)", -3),
    ("cast('5E-1' AS Decimal)", 0.5),
    ("cast(false AS Decimal)", 0),
    ("cast(0 AS Boolean)", False),
    ("cast(3 AS Bool)", True),
    ("cast('TRUE' AS Bool)", True),
    ("cast('yes' AS Bool)", U),
    ("cast(arr AS String)", '[1,"two",{"three":3}]'),
    ("cast(null AS String)", U),
    ("cast(missing AS Int)", U),
    ("cast('abc' AS Int)", U),
    # type tests
    ("isUndefined(missing)", True),
    ("isUndefined(floor(arr))", True),
    ("isUndefined(z)", False),
    ("isNull(z)", True),
    ("isNull(missing)", False),
    ("isString(s)", True),
    ("isNumber(d)", True),
    ("isNumber(num_str)", False),
    ("isBoolean(f)", True),
    ("typeof(n)", "Int"),
    ("typeof(d)", "Decimal"),
    ("typeof(s)", "String"),
    ("typeof(t)", "Boolean"),
    ("typeof(arr)", "Array"),
    ("typeof(obj)", "Object"),
    ("typeof(z)", "Null"),
    ("typeof(missing)", "Undefined"),
    # strings
    ("concat()", U),
    ("concat(1)", 1),
    ("concat('con', 'cat')", "concat"),
    ("concat(1, 'hello')", "1hello"),
    ("concat('he', 'is', 'man')", "heisman"),
    ("concat([1, 2, 3], 4)", [1, 2, 3, 4]),
    ("concat([1, 2, 3], 'hello', [4, 5, 6])", [1, 2, 3, "hello", 4, 5, 6]),
    ("concat(s, missing)", U),
    ("length('hi')", 2),
    ("length(false)", 5),
    ("length(missing)", U),
    ("length(z)", U),
    ("numbytes('€')", 3),
    ("lower('HELLO')", "hello"),
    ("lower(['HELLO'])", '["hello"]'),
    ("upper(s)", "HELLO"),
    ("trim(spaced)", "h i"),
    ("ltrim(' h i ')", "h i "),
    ("rtrim(' h i ')", " h i"),
    ("substring('012345', 0)", "012345"),
    ("substring('012345', 2)", "2345"),
    ("substring('012345', 2.745)", "2345"),
    ("substring(123, 2)", "3"),
    ("substring('012345', -1)", "012345"),
    ("substring(true, 1.2)", "rue"),
    ("substring(false, -2.411E247)", "false"),
    ("substring('012345', 1, 3)", "12"),
    ("substring('012345', -50, 50)", "012345"),
    ("substring('012345', 3, 1)", ""),
    ("startswith('ranger', 'ran')", True),
    ("endswith('cat', 'at')", True),
    ("startswith(missing, 'a')", U),
    ("indexof('abcd', 'bc')", 1),
    ("indexof('abcd', 'x')", -1),
    ("replace('abcdabcd', 'b', 'x')", "axcdaxcd"),
    ("lpad('hello', 2)", "  hello"),
    ("rpad(1, 3)", "1   "),
    ("chr(65)", "A"),
    ("md5('hello')", "5d41402abc4b2a76b9719d911017c592"),
    # md2: the test suite of RFC 1319 (https://www.rfc-editor.org/rfc/rfc1319), appendix A.5
    ("md2('')", "8350e5a3e24c153df2275c9f80692773"),
    ("md2('a')", "32ec01ec4a6dac72c0ab96fb34c0b5d1"),
    ("md2('abc')", "da853b0d3f88d99b30283a69e6ded6bb"),
    ("md2('message digest')", "ab4f496bfb2a530b219ff33031fe06b0"),
    ("md2('abcdefghijklmnopqrstuvwxyz')", "4e8ddff3650292ab5a4108c3aa47940b"),
    (
        "md2('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')",
        "da33def2a42df13975352846c30338cd",
    ),
    (
        "md2('12345678901234567890123456789012345678901234567890123456789012345678901234567890')",
        "d5976f79d83d3a0dc9806c3c66f3efd8",
    ),
    ("md2(missing)", U),
    # regular expressions
    ("regexp_matches('aaaa', 'a{2,}')", True),
    ("regexp_matches('aaaa', 'b')", False),
    ("regexp_matches('lobby', '^[A-Za-z0-9_-]{1,64}$')", True),
    ("regexp_matches('bad room', '^[A-Za-z0-9_-]{1,64}$')", False),
    ("regexp_matches('x', '(')", U),
    ("regexp_matches(missing, 'a')", U),
    ("regexp_replace('abcd', 'bc', 'x')", "axd"),
    ("regexp_replace('abcd', 'b(.*)d', '$1')", "ac"),
    ("regexp_substr('hihihello', 'hi')", "hi"),
    ("regexp_substr('hihihello', '(hi)*')", "hihi"),
    ("regexp_matches('a1', '\\d')", True),
    # numbers
    ("abs(-5)", 5),
    ("abs('-5.123')", 5.123),
    ("abs(t)", U),
    ("ceil(1.2)", 2),
    ("ceil(-1.2)", -1),
    ("floor(1.2)", 1),
    ("floor(-1.2)", -2),
    ("floor('2.7')", 2),
    ("round(1.2)", 1),
    ("round(1.5)", 2),
    ("round(-1.1)", -1),
    ("round(-1.5)", -2),
    ("mod(8, 3)", 2),
    ("mod('8', 3)", 2),
    ("power(2, 5)", 32),
    ("sqrt(9)", 3),
    ("sqrt(-1)", U),
    ("sign(-7)", -1),
    ("trunc(2.3123, 2)", 2.31),
    ("trunc(2.888, 2)", 2.88),
    ("bitand(13, 5)", 5),
    ("bitor(8, 5)", 13),
    ("nanvl(8, 3)", 8),
    ("nanvl(missing, 3)", 3),
    ("nanvl(z, 3)", 3),
    # collections
    ("get(['a', 'b', 'c'], 1)", "b"),
    ("get({'a': 'b'}, 'a')", "b"),
    ("get('abc', 1)", "b"),
    ("get(arr, 9)", U),
    ("get(*, 's')", "hello"),
    ("get_or_default(missing, 'dflt')", "dflt"),
    ("get_or_default(z, 'dflt')", "dflt"),
    ("get_or_default(s, 'dflt')", "hello"),
    # encodings
    ("encode('hi', 'base64')", "aGk="),
    ("encode(s, 'hex')", U),
    ("decode('eyJ0IjogMzN9', 'base64').t", 33),
    ("decode('aGk=', 'base64')", "hi"),
    # function names ignore case
    ("UPPER('a')", "A"),
    ("IsUndefined(missing)", True),
]


@pytest.mark.parametrize(("expr", "expected"), CASES, ids=[c[0] for c in CASES])
def test_expression(expr: str, expected: Any) -> None:
    result = evaluate(expr)
    assert result == expected
    assert type(result) is type(expected)


def test_more_than_eighty_cases() -> None:
    assert len(CASES) >= 80


CTX = MessageContext(
    client_id="alice-1",
    principal="alice",
    source_ip="127.0.0.1",
    timestamp_ms=1700000000000,
    trace_id="trace-1",
)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("topic()", "a/b/c"),
        ("topic(1)", "a"),
        ("topic(3)", "c"),
        ("topic(4)", U),
        ("clientid()", "alice-1"),
        ("principal()", "alice"),
        ("sourceip()", "127.0.0.1"),
        ("timestamp()", 1700000000000),
        ("traceid()", "trace-1"),
        ("accountid()", "123456789012"),
        ("sql_version()", "2016-03-23"),
    ],
)
def test_metadata_functions(expr: str, expected: Any) -> None:
    assert evaluate(expr, ctx=CTX) == expected


def test_metadata_without_mqtt() -> None:
    assert evaluate("clientid()") == "n/a"
    assert evaluate("traceid()") is U
    assert evaluate("principal()") is U


def test_newuuid_is_a_fresh_uuid_each_call() -> None:
    query = compile_query("SELECT newuuid() AS a, newuuid() AS b FROM 'x'")
    out = query.evaluate(RuleMessage("x", b"{}"))
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", out["a"])
    assert out["a"] != out["b"]


def test_timestamp_defaults_to_now() -> None:
    import time

    before = int(time.time() * 1000)
    assert before <= evaluate("timestamp()") <= int(time.time() * 1000)
