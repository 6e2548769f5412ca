"""The SET clause: the page's examples, its syntax rules, its limits and its errors.

"SET clause", https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-set.html
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from emulator.rules.sql import (
    NO_MATCH,
    CompiledQuery,
    MessageContext,
    RuleMessage,
    SqlEvaluationError,
    SqlSyntaxError,
    compile_query,
)
from emulator.rules.sql.query import ScopedQuery
from emulator.rules.substitution import SubstitutionTemplate


def run(
    sql: str, payload: Any, topic: str = "device/data", ctx: MessageContext | None = None
) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return compile_query(sql).evaluate(RuleMessage(topic, body, ctx))


# -- the page's examples -------------------------------------------------------------


def test_basic_variable_usage() -> None:
    """The page's "Basic variable usage". It prints 23.89 for (75 - 32) * 5 / 9; the
    Operators page makes Int / Int an Int (the division truncates), which the engine
    follows everywhere, so the whole-number payload gives 23 and a decimal one 23.89."""
    sql = (
        "SET @temp_celsius = (temp_fahrenheit - 32) * 5 / 9 "
        "SELECT @temp_celsius AS celsius, humidity FROM 'device/data'"
    )
    assert run(sql, {"temp_fahrenheit": 75, "humidity": 60}) == {"celsius": 23, "humidity": 60}
    out = run(sql, {"temp_fahrenheit": 75.02, "humidity": 60})
    assert out["celsius"] == pytest.approx(23.9, abs=0.01) and out["humidity"] == 60


def test_access_members_in_embedded_json_objects() -> None:
    """The page's "Access members in embedded JSON objects": its payload, SQL, output."""
    payload = {
        "device1": {
            "deviceId": "weather_sensor",
            "deviceData": {
                "sensors": {"temp_fahrenheit": 75, "humidity": 60},
                "location": [47.606, -122.332],
            },
        }
    }
    sql = (
        "SET @device_sensor_data = device1.deviceData.sensors "
        "SELECT @device_sensor_data.temp_fahrenheit AS temp_fahrenheit, "
        "@device_sensor_data.humidity as humidity, device1.deviceId as deviceId "
        "FROM 'device/data'"
    )
    assert run(sql, payload) == {
        "temp_fahrenheit": 75,
        "humidity": 60,
        "deviceId": "weather_sensor",
    }


def test_avoiding_duplicate_function_calls() -> None:
    """The page's "Avoiding duplicate function calls", with decode's base64 (the emulator has no
    protobuf decoding): one variable read in SELECT and WHERE, no column named by AS
    keeps the member's name, as for any nested field."""
    inner = json.dumps({"sensor_id": "s-1", "reading": 120})
    sql = (
        "SET @decoded_data = decode(data, 'base64') "
        "SELECT @decoded_data.sensor_id, @decoded_data.reading FROM 'device/protobuf' "
        "WHERE @decoded_data.reading > 100"
    )
    data = base64.b64encode(inner.encode()).decode()
    assert run(sql, {"data": data}, "device/protobuf") == {"sensor_id": "s-1", "reading": 120}
    low = base64.b64encode(b'{"sensor_id": "s-2", "reading": 5}').decode()
    assert run(sql, {"data": low}, "device/protobuf") is NO_MATCH


def test_multiple_variables() -> None:
    """The page's "Multiple variables" (its get_user_properties() is no AWS function: get() of the
    payload's users stands in for it)."""
    sql = (
        "SET @user_data = get(users, device_id), @threshold = 50 "
        "SELECT @user_data.name, temp_fahrenheit FROM 'sensors/+' "
        "WHERE temp_fahrenheit > @threshold AND @user_data.active = true"
    )
    users = {"d1": {"name": "kiln", "active": True}, "d2": {"name": "shed", "active": False}}
    assert run(sql, {"users": users, "device_id": "d1", "temp_fahrenheit": 80}, "sensors/1") == {
        "name": "kiln",
        "temp_fahrenheit": 80,
    }
    assert run(sql, {"users": users, "device_id": "d2", "temp_fahrenheit": 80}, "sensors/1") is (
        NO_MATCH
    )
    assert run(sql, {"users": users, "device_id": "d1", "temp_fahrenheit": 40}, "sensors/1") is (
        NO_MATCH
    )


def test_variables_in_substitution_templates() -> None:
    """The page's "Using variables in substitution templates": its S3 key, rendered with the
    message the rule evaluated (the engine's path is in test_engine)."""
    query = compile_query(
        "SET @temp_celsius = (temp_fahrenheit - 32) * 5 / 9 "
        "SELECT @temp_celsius AS celsius, humidity FROM 'device/data'"
    )
    key = SubstitutionTemplate.parse("temperature-data/${device_id}/temp-${@temp_celsius}C.json")
    key.check_variables(query.variables)
    msg = query.bind(RuleMessage("device/data", b'{"temp_fahrenheit": 86, "device_id": "d7"}'))
    assert query.evaluate(msg) == {"celsius": 30}
    assert key.render(msg) == "temperature-data/d7/temp-30C.json"


def test_non_json_payload_usage() -> None:
    """The page's "Non-JSON payload usage": encode(*, 'base64') first; the payload itself cannot be
    held ("non-JSON payloads must first be encoded/decoded")."""
    sql = "SET @encoded_payload = encode(*, 'base64') SELECT @encoded_payload AS raw_data FROM 't'"
    assert run(sql, b"\x00\x01\xff", "t") == {"raw_data": "AAH/"}
    raw = "SET @p = * SELECT @p AS p FROM 't'"
    assert run(raw, {"a": 1}, "t") == {"p": {"a": 1}}  # "JSON payloads directly as is"
    with pytest.raises(SqlEvaluationError, match="non-JSON payload"):
        run(raw, b"\x00\x01\xff", "t")


# -- where variables can be used -----------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "payload", "expected"),
    [
        # "Other SET variable assignments": a later one reads an earlier one.
        ("SET @a = n + 1, @b = @a * 10 SELECT @b AS b FROM 't'", {"n": 1}, {"b": 20}),
        # "Nested SELECT queries": in the source and in the inner WHERE.
        (
            "SET @limit = 2, @rows = items "
            "SELECT (SELECT VALUE v FROM @rows WHERE v > @limit) AS big FROM 't'",
            {"items": [{"v": 1}, {"v": 3}, {"v": 5}]},
            {"big": [3, 5]},
        ),
        # A variable read inside a nested SELECT is the statement's (the whole message's).
        (
            "SET @first = items[0].v SELECT (SELECT VALUE v + @first FROM items) AS s FROM 't'",
            {"items": [{"v": 1}, {"v": 3}]},
            {"s": [2, 4]},
        ),
        # A nested SELECT as a variable's value ("Nested object queries").
        (
            "SET @vs = (SELECT VALUE v FROM items) SELECT get(@vs, 1) AS second FROM 't'",
            {"items": [{"v": 1}, {"v": 3}]},
            {"second": 3},
        ),
        # "Function parameters".
        (
            "SET @s = name SELECT upper(@s) AS u, concat(@s, '!') AS c FROM 't'",
            {"name": "ab"},
            {"u": "AB", "c": "ab!"},
        ),
        # JSON extensions: members and indexes of a variable.
        (
            "SET @o = obj SELECT @o.k[1] AS k, @o['x'] AS x FROM 't'",
            {"obj": {"k": [5, 6], "x": 7}},
            {"k": 6, "x": 7},
        ),
        # CASE and literals.
        (
            "SET @c = CASE n WHEN 1 THEN 'one' ELSE 'many' END, @l = [1, 2] "
            "SELECT @c AS c, @l AS l FROM 't'",
            {"n": 1},
            {"c": "one", "l": [1, 2]},
        ),
        # A column without AS is named after the variable (the page shows none).
        ("SET @t = n SELECT @t FROM 't'", {"n": 4}, {"t": 4}),
        # Undefined behaves as Undefined: the column is dropped, comparisons fail.
        ("SET @m = missing SELECT @m AS m, n FROM 't'", {"n": 1}, {"n": 1}),
        ("SET @m = missing SELECT n FROM 't' WHERE @m = 1", {"n": 1}, NO_MATCH),
        ("SET @z = zero SELECT @z AS z FROM 't'", {"zero": None}, {"z": None}),
        # SET is a keyword only in front: lower case works, a field called set still reads.
        ("set @x = set SELECT @x AS x, set FROM 't'", {"set": 3}, {"x": 3, "set": 3}),
        ("SELECT set FROM 't' WHERE set > 1", {"set": 3}, {"set": 3}),
        # Names: letters, numbers and underscores, case kept apart, 64 characters.
        (
            "SET @_1 = 1, @A = 2, @a = 3 SELECT @_1 AS one, @A AS two, @a AS three FROM 't'",
            {},
            {"one": 1, "two": 2, "three": 3},
        ),
        (f"SET @{'v' * 64} = 1 SELECT @{'v' * 64} AS v FROM 't'", {}, {"v": 1}),  # noqa: S608
        # SELECT VALUE and SELECT * with variables.
        ("SET @v = n * 2 SELECT VALUE @v FROM 't'", {"n": 4}, 8),
        ("SET @v = n * 2 SELECT *, @v AS double FROM 't'", {"n": 4}, {"n": 4, "double": 8}),
    ],
)
def test_variables_where_the_page_allows_them(sql: str, payload: Any, expected: Any) -> None:
    assert run(sql, payload, "t") == expected


def test_ten_variables_are_allowed() -> None:
    """The page's limit: "Maximum of 10 unique variables per SQL statement"."""
    sets = ", ".join(f"@v{i} = {i}" for i in range(10))
    assert run(f"SET {sets} SELECT @v9 AS last FROM 't'", {}, "t") == {"last": 9}  # noqa: S608


# -- each variable once per message, lazily ------------------------------------------


@dataclass
class CountingCallouts:
    """aws_lambda() answers from here and counts its calls."""

    calls: list[Any] = field(default_factory=list)

    def get_item(self, table: str, key: dict[str, Any], role_arn: str) -> dict[str, Any] | None:
        raise AssertionError("not called")

    def get_secret(self, secret_id: str, role_arn: str) -> dict[str, Any]:
        raise AssertionError("not called")

    def invoke(self, function_arn: str, event: Any) -> Any:
        self.calls.append(event)
        return {"site": "plant-7", "ok": True, "n": len(self.calls)}


def test_a_variable_is_computed_once_per_message() -> None:
    """Read in WHERE, in two columns, by another variable and in a template: one call."""
    callouts = CountingCallouts()
    ctx = MessageContext(callouts=callouts)
    query = compile_query(
        "SET @r = aws_lambda('arn:aws:lambda:us-east-1:123456789012:function:lookup', "
        "{'id': id}), @site = @r.site "
        "SELECT @r.site AS site, @r.n AS n, @site AS again FROM 't' WHERE @r.ok = true"
    )
    assert query.calls_out
    template = SubstitutionTemplate.parse("sites/${@site}/${@r.n}")
    msg = query.bind(RuleMessage("t", b'{"id": 1}', ctx))
    assert query.evaluate(msg) == {"site": "plant-7", "n": 1, "again": "plant-7"}
    assert template.render(msg) == "sites/plant-7/1"
    assert callouts.calls == [{"id": 1}]
    # The next message gets its own scope, so its own call.
    assert query.evaluate(RuleMessage("t", b'{"id": 2}', ctx)) == {
        "site": "plant-7",
        "n": 2,
        "again": "plant-7",
    }
    assert callouts.calls == [{"id": 1}, {"id": 2}]


def test_newuuid_in_a_variable_is_one_value_per_message() -> None:
    query = compile_query("SET @id = newuuid() SELECT @id AS a, @id AS b FROM 't'")
    first = query.evaluate(RuleMessage("t", b"{}"))
    second = query.evaluate(RuleMessage("t", b"{}"))
    assert first["a"] == first["b"] and second["a"] == second["b"] and first["a"] != second["a"]


def test_variables_are_computed_lazily() -> None:
    """A WHERE that turns the message away spends nothing on variables only SELECT reads."""
    callouts = CountingCallouts()
    ctx = MessageContext(callouts=callouts)
    sql = (
        "SET @r = aws_lambda('arn:aws:lambda:us-east-1:123456789012:function:lookup', "
        "{'id': id}) SELECT @r.site AS site FROM 't' WHERE id > 5"
    )
    assert run(sql, {"id": 1}, "t", ctx) is NO_MATCH
    assert callouts.calls == []
    assert run(sql, {"id": 9}, "t", ctx) == {"site": "plant-7"}
    assert len(callouts.calls) == 1


def test_a_query_without_set_stays_a_plain_compiled_query() -> None:
    """No scope, no binding: statements without SET do no more work per message."""
    query = compile_query("SELECT a FROM 't'")
    assert type(query) is CompiledQuery and query.variables == ()
    msg = RuleMessage("t", b'{"a": 1}')
    assert query.bind(msg) is msg
    assert type(compile_query("SET @a = a SELECT @a FROM 't'")) is ScopedQuery


# -- limits at evaluation ------------------------------------------------------------


def test_a_variable_over_128_kib_fails_the_evaluation() -> None:
    """The page's "Maximum variable value size of 128 KiB (minified UTF-8 JSON string)"."""
    sql = "SET @big = s SELECT length(@big) AS n FROM 't'"
    fits = "x" * (128 * 1024 - 2)  # with its two quotes, exactly 128 KiB of JSON
    assert run(sql, {"s": fits}, "t") == {"n": len(fits)}
    with pytest.raises(SqlEvaluationError, match="128 KiB"):
        run(sql, {"s": fits + "x"}, "t")
    with pytest.raises(SqlEvaluationError, match="128 KiB"):
        run(sql, {"s": "é" * (64 * 1024)}, "t")  # UTF-8 bytes count, not characters


def test_all_variables_together_hold_128_kib() -> None:
    """The page's "Maximum total value size of 128 KiB for all variables"."""
    half = "x" * (70 * 1024)
    sql = "SET @a = s, @b = concat(s, '') SELECT length(@a) + length(@b) AS n FROM 't'"
    with pytest.raises(SqlEvaluationError, match="together"):
        run(sql, {"s": half}, "t")
    assert run(sql, {"s": "x" * 1000}, "t") == {"n": 2000}


# -- what fails to compile -----------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "column", "fragment"),
    [
        # "Each variable can only be assigned once (variables are immutable)"
        ("SET @a = 1, @a = 2 SELECT @a FROM 't'", 13, "already assigned"),
        # "The SET keyword can only be used once per SQL statement"
        ("SET @a = 1 SET @b = 2 SELECT @a FROM 't'", 12, "once per statement"),
        # "The SET clause must appear before the SELECT clause"
        ("SELECT a FROM 't' SET @a = 1", 19, "before SELECT"),
        ("SELECT a SET @a = 1 FROM 't'", 10, "before SELECT"),
        ("SELECT a FROM 't' WHERE a > 1 SET @a = 1", 31, "before SELECT"),
        # A variable is used only once assigned: not undefined, not later, not itself.
        ("SELECT @nope FROM 't'", 8, "undefined variable @nope"),
        ("SET @a = 1 SELECT @b FROM 't'", 19, "undefined variable @b"),
        ("SET @a = @b, @b = 1 SELECT @a FROM 't'", 10, "undefined variable @b"),
        ("SET @a = @a + 1 SELECT @a FROM 't'", 10, "undefined variable @a"),
        # "Variable names can be up to 64 characters long"
        (f"SET @{'v' * 65} = 1 SELECT 1 FROM 't'", 5, "64 at most"),  # noqa: S608
        # "Variable names can contain letters, numbers, and underscores"
        ("SET @tempé = 1 SELECT 1 FROM 't'", 5, "other than a letter"),
        ("SET @ = 1 SELECT 1 FROM 't'", 5, "variable name after '@'"),
        ("SET @a-b = 1 SELECT 1 FROM 't'", 7, "expected '='"),
        # "Start variable names with @"
        ("SET a = 1 SELECT a FROM 't'", 5, "expected a variable (@name)"),
        # The syntax: assignments separated by commas, then SELECT.
        ("SET @a = 1 @b = 2 SELECT 1 FROM 't'", 12, "expected ',' or SELECT"),
        ("SET @a = 1", 11, "expected ',' or SELECT"),
        ("SET @a 1 SELECT 1 FROM 't'", 8, "expected '='"),
        ("SET SELECT 1 FROM 't'", 5, "expected a variable"),
        # "Maximum of 10 unique variables per SQL statement"
        (
            "SET " + ", ".join(f"@v{i} = {i}" for i in range(11)) + " SELECT 1 FROM 't'",  # noqa: S608
            95,  # at @v10
            "at most 10 variables",
        ),
        # Parameters that "do not support variables": roleArn, a function's mode.
        ("SET @m = 'enrichArray' SELECT transform(@m, a, b) FROM 't'", 41, "mode"),
        (
            "SET @role = r SELECT get_dynamodb('t', 'k', k, @role) FROM 't'",
            48,
            "roleArn",
        ),
        (
            "SET @role = r SELECT get_dynamodb('t', 'k', k, 's', s, concat(@role, '')) FROM 't'",
            63,
            "roleArn",
        ),
        ("SET @role = r SELECT get_secret('s', 'SecretString', @role) FROM 't'", 54, "roleArn"),
        ("SET @s = 'base64' SELECT decode(d, @s) FROM 't'", 36, "decoding scheme"),
    ],
)
def test_rules_broken_fail_to_compile(sql: str, column: int, fragment: str) -> None:
    with pytest.raises(SqlSyntaxError) as caught:
        compile_query(sql)
    err = caught.value
    assert fragment in str(err)
    assert (err.line, err.column) == (1, column), str(err)


def test_variables_do_go_to_the_other_parameters() -> None:
    """Only the roleArn and the mode are refused: a table name or a key may be a variable."""
    compile_query(
        "SET @table = 't', @key = k SELECT get_dynamodb(@table, 'k', @key, 'arn:r') FROM 't'"
    )
    compile_query("SET @o = o, @a = a SELECT transform('enrichArray', @o, @a) FROM 't'")


def test_a_template_reads_only_variables_its_sql_sets() -> None:
    template = SubstitutionTemplate.parse("out/${@a}/${upper(@b)}")
    assert [name for name, _ in template.variables] == ["a", "b"]
    template.check_variables(("a", "b"))
    with pytest.raises(SqlSyntaxError, match="undefined variable @b") as caught:
        template.check_variables(("a",))
    assert caught.value.column == len("out/${@a}/${upper(") + 1
    with pytest.raises(SqlSyntaxError, match="transform"):  # the same parameter rules
        SubstitutionTemplate.parse("${transform(@m, a, b)}")


def test_a_template_variable_without_a_scope_is_an_evaluation_error() -> None:
    template = SubstitutionTemplate.parse("x/${@a}")
    with pytest.raises(SqlEvaluationError, match="no SET clause"):
        template.render(RuleMessage("t", b"{}"))
