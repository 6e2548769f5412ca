"""`python -m emulator sql`, end to end and through the engine's compiled query: cases from
AWS's SQL reference, each citing its page."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from emulator.rules.sql import NO_MATCH, UNDEFINED, MessageContext, RuleMessage, compile_query
from tests.support.commands import ROOT

DOCS = "https://docs.aws.amazon.com/iot/latest/developerguide/"


NESTED = (
    '{"e": [{"n": "temperature", "u": "Cel", "t": 1234, "v": 22.5}, '
    '{"n": "light", "u": "lm", "t": 1235, "v": 135}, '
    '{"n": "acidity", "u": "pH", "t": 1235, "v": 7}]}'
)


@dataclass(frozen=True)
class Case:
    """A query, the payloads a test feeds it, and the lines the tester must print."""

    page: str
    query: str
    payloads: list[str]
    expected: list[object]
    args: list[str] = field(default_factory=list)


CASES = [
    Case(
        "iot-sql-case.html",
        "SELECT CASE color WHEN 'green' THEN 'go' WHEN 'yellow' THEN 'caution' "
        "WHEN 'red' THEN 'stop' ELSE 'you are not at a stop light' END as instructions "
        "FROM 'topic/subtopic'",
        ['{"color":"yellow"}', '{"color":"blue"}', '{"size":1}'],
        # "If v is Undefined, the result of the case statement is Undefined": dropped.
        [{"instructions": "caution"}, {"instructions": "you are not at a stop light"}, {}],
    ),
    Case(
        "iot-sql-where.html",
        "SELECT * FROM 'topic/subtopic' WHERE color = 'red'",
        ['{"color":"red","temperature":40}', '{"color":"blue"}'],
        [{"color": "red", "temperature": 40}, None],
    ),
    Case(
        "iot-sql-select.html",
        "SELECT color AS my_color, temperature - 32 AS t FROM 'topic/subtopic'",
        ['{"color":"red","temperature":50}', "{}"],
        [{"my_color": "red", "t": 18}, {}],
    ),
    Case(
        "iot-sql-from.html",
        "SELECT * FROM 'topic/+'",
        ['{"a":1}'],
        [None],  # topic/subtopic/deeper does not match topic/+
        ["--topic", "topic/subtopic/deeper"],
    ),
    Case(
        "iot-sql-functions.html",
        "SELECT clientid() AS c, principal() AS p, topic(2) AS level FROM 'dev/+'",
        ['{"x":1}'],
        [{"c": "sensor-1", "p": "abc", "level": "7"}],
        ["--topic", "dev/7", "--client-id", "sensor-1", "--principal", "abc"],
    ),
    Case(
        "iot-sql-functions.html#iot-func-transform",
        "SELECT VALUE transform('enrichArray', attributes, values) FROM 'A/B'",
        [
            '{"attributes": {"data1": 1, "data2": 2}, "values": [{"a": 3}, {"b": 4}, {"c": 5}]}',
            '{"attributes": {"data1": 1}, "values": [1]}',
        ],
        [
            [
                {"a": 3, "data1": 1, "data2": 2},
                {"b": 4, "data1": 1, "data2": 2},
                {"c": 5, "data1": 1, "data2": 2},
            ],
            "",  # an element that is not an object: Undefined, which AWS sends as nothing
        ],
    ),
    Case(
        "iot-sql-functions.html#iot-sql-function-time-to-epoch",
        "SELECT time_to_epoch(a, 'yyyy-MM-dd HH:mm:ss VV') AS a, "
        "time_to_epoch(b, 'dd MMMM yyyy') AS b, "
        "time_to_epoch(c, 'yyyy-MM-dd HH:mm:ss.SSS z') AS c FROM 't'",
        [
            '{"a": "2020-04-03 09:45:18 UTC+01:00", "b": "18 December 2015", '
            '"c": "2007-12-03 10:15:30.592 America/Los_Angeles"}',
            '{"a": "yesterday", "b": "31 Smarch 2015"}',
        ],
        [{"a": 1585903518000, "b": 1450396800000, "c": 1196705730592}, {}],
    ),
    Case(
        "iot-sql-functions.html#iot-sql-function-parse-time",
        "SELECT parse_time(\"yyyy.MM.dd G 'at' HH:mm:ss z\", 100000000, 'America/Belize') AS ts, "
        "parse_time('yyyy', 1497028786000) AS year FROM 'A/B'",
        ["{}"],
        [{"ts": "1970.01.01 AD at 21:46:40 CST", "year": "2017"}],
    ),
    Case(
        "iot-sql-nested-queries.html",
        "SELECT (SELECT VALUE n FROM e) AS sensors, "
        "(SELECT v FROM e WHERE n = 'temperature') AS temperature, "
        "get((SELECT v FROM e WHERE n = 'temperature'), 0).v AS flat FROM 'my/topic'",
        [NESTED, '{"e": 5}'],
        [
            {
                "sensors": ["temperature", "light", "acidity"],
                "temperature": [{"v": 22.5}],
                "flat": 22.5,
            },
            {},  # the source is not an array: Undefined
        ],
    ),
    Case(
        "iot-sql-nested-queries.html",
        "SELECT VALUE e FROM 'my/topic' "
        "WHERE get((SELECT VALUE v FROM e WHERE n = 'light'), 0) > 100",
        [NESTED, '{"e": [{"n": "light", "v": 3}]}'],
        [json.loads(NESTED)["e"], None],
    ),
    Case(
        "iot-sql-select.html",
        "SELECT VALUE temperature FROM 'topic/subtopic'",
        ['{"temperature":12.5}'],
        [12.5],
    ),
    Case(
        # "Basic variable usage" (the page prints 23.89; Int / Int is an Int, per the
        # Operators page: see tests/emulator/rules/sql/test_set.py)
        "iot-sql-set.html",
        "SET @temp_celsius = (temp_fahrenheit - 32) * 5 / 9 "
        "SELECT @temp_celsius AS celsius, humidity FROM 'device/data'",
        ['{"temp_fahrenheit": 75, "humidity": 60}', '{"temp_fahrenheit": 95.0}'],
        [{"celsius": 23, "humidity": 60}, {"celsius": 35}],
    ),
    Case(
        "iot-sql-set.html",
        "SET @device_sensor_data = device1.deviceData.sensors "
        "SELECT @device_sensor_data.temp_fahrenheit AS temp_fahrenheit, "
        "@device_sensor_data.humidity as humidity, device1.deviceId as deviceId "
        "FROM 'device/data'",
        [
            '{"device1": {"deviceId":"weather_sensor", "deviceData": {"sensors": '
            '{"temp_fahrenheit": 75, "humidity": 60}, "location": [47.606,-122.332]}}}'
        ],
        [{"temp_fahrenheit": 75, "humidity": 60, "deviceId": "weather_sensor"}],
    ),
    Case(
        "iot-sql-set.html",
        "SET @user_data = get(users, device_id), @threshold = 50 "
        "SELECT @user_data.name, temp_fahrenheit FROM 'sensors/+' "
        "WHERE temp_fahrenheit > @threshold AND @user_data.active = true",
        [
            '{"users": {"d1": {"name": "kiln", "active": true}}, "device_id": "d1", '
            '"temp_fahrenheit": 80}',
            '{"users": {"d1": {"name": "kiln", "active": true}}, "device_id": "d1", '
            '"temp_fahrenheit": 20}',
        ],
        [{"name": "kiln", "temp_fahrenheit": 80}, None],
        ["--topic", "sensors/1"],
    ),
]


def _tester(query: str, lines: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", "sql", "--query", query, *args],
        cwd=ROOT,
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("case", CASES, ids=[f"{c.page}-{i}" for i, c in enumerate(CASES)])
def test_reference_cases_end_to_end(case: Case) -> None:
    done = _tester(case.query, case.payloads, *case.args)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == case.expected


@pytest.mark.parametrize("case", CASES, ids=[f"{c.page}-{i}" for i, c in enumerate(CASES)])
def test_reference_cases_through_the_engine_query(case: Case) -> None:
    """The same cases straight through compile_query, as the rules engine runs them."""
    args = dict(zip(case.args[::2], case.args[1::2], strict=True))
    query = compile_query(case.query)
    assert query.topic_filter is not None
    topic = args.get("--topic", query.topic_filter.text)
    ctx = MessageContext(client_id=args.get("--client-id"), principal=args.get("--principal"))
    for payload, expected in zip(case.payloads, case.expected, strict=True):
        if not query.matches_topic(topic):
            assert expected is None
            continue
        out = query.evaluate(RuleMessage(topic, payload.encode(), ctx))
        out = None if out is NO_MATCH else "" if out is UNDEFINED else out
        assert out == expected


def test_bad_query_exits_2_with_the_parse_error() -> None:
    done = _tester("SELECT FROM WHERE", ['{"a":1}'])
    assert done.returncode == 2
    assert "line 1, column" in done.stderr and done.stdout == ""


def test_a_set_rule_broken_exits_2() -> None:
    """The SET page's "Each variable can only be assigned once": refused at parse."""
    done = _tester("SET @a = 1, @a = 2 SELECT @a FROM 't'", ["{}"])
    assert done.returncode == 2
    assert "already assigned" in done.stderr and "column 13" in done.stderr


def test_a_set_variable_over_its_limit_is_an_error_line() -> None:
    """The SET page's "Maximum variable value size of 128 KiB": that payload fails,
    the next one still runs."""
    big = json.dumps({"s": "x" * (128 * 1024)})
    done = _tester("SET @s = s SELECT length(@s) AS n FROM 't'", [big, '{"s": "ab"}'])
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert "128 KiB" in first["error"]
    assert second == {"n": 2}


def test_a_nested_select_needs_its_from() -> None:
    done = _tester("SELECT (SELECT VALUE n) AS s FROM 't'", ["{}"])
    assert done.returncode == 2 and "FROM" in done.stderr


def test_bad_payload_is_an_error_line_and_the_next_still_runs() -> None:
    done = _tester("SELECT a FROM 't'", ["not json", "", '{"a":2}'])
    assert done.returncode == 0
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert "not JSON" in first["error"]
    assert second == {"a": 2}


def test_a_wildcard_filter_needs_a_topic() -> None:
    done = _tester("SELECT * FROM 'dev/#'", ["{}"])
    assert done.returncode == 2 and "give --topic" in done.stderr


def test_call_outs_without_a_template_are_an_error_line() -> None:
    query = "SELECT get_secret('api', 'SecretString', 'arn:aws:iam::1:role/r') AS s FROM 't'"
    done = _tester(query, ["{}"])
    assert done.returncode == 0
    assert "give the rule tester --template" in json.loads(done.stdout)["error"]
