"""The engine's rules whose SQL calls out (get_dynamodb, get_secret, aws_lambda: "Functions",
https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html): each rule
gets its own callouts, is evaluated on the engine's thread pool while the loop goes on,
and a failing call fails the evaluation. Against moto; the end-to-end cases with IAM and
the Lambda runtime are in tests/integration/test_rule_callouts.py."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest

from emulator.rules import BotoClients, RulesEngine, TopicRule
from emulator.rules.callouts import RuleCallouts
from emulator.rules.sql import compile_query
from tests.emulator.rules.conftest import RecordingTarget

ROLE = "arn:aws:iam::123456789012:role/reader"
DOUBLE = "arn:aws:lambda:us-east-1:123456789012:function:double"


def republishing(name: str, sql: str) -> TopicRule:
    action = {"Republish": {"Topic": f"out/{name}", "Qos": 0, "RoleArn": ROLE}}
    return TopicRule(name, {"Sql": sql, "AwsIotSqlVersion": "2016-03-23", "Actions": [action]})


class Calls:
    """What the callouts were asked, and on which thread."""

    def __init__(self, boto_clients: BotoClients) -> None:
        self.boto_clients = boto_clients
        self.rules: list[str] = []
        self.roles: list[tuple[str, str]] = []  # (role, thread name)
        self.functions: list[tuple[str, Any, int]] = []  # (arn, event, thread id)

    def callouts(self, rule_name: str) -> RuleCallouts:
        self.rules.append(rule_name)
        loop = asyncio.get_running_loop()

        def clients(role_arn: str) -> Any:
            self.roles.append((role_arn, threading.current_thread().name))
            return self.boto_clients

        async def call_function(function_arn: str, event: Any) -> Any:
            self.functions.append((function_arn, event, threading.get_ident()))
            if event.get("n") is None:
                raise RuntimeError("FunctionError: n is missing")
            return {"doubled": event["n"] * 2}

        return RuleCallouts(clients, call_function, loop)


def _devices_table(clients: BotoClients) -> None:
    ddb = clients("dynamodb")
    ddb.create_table(
        TableName="devices",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )
    ddb.put_item(TableName="devices", Item={"id": {"S": "d1"}, "site": {"S": "plant-7"}})


def test_a_query_calls_out_if_any_part_of_it_does() -> None:
    assert not compile_query("SELECT a, md5(b) AS h FROM 't' WHERE c > 1").calls_out
    assert compile_query("SELECT aws_lambda('f', *) AS r FROM 't'").calls_out
    assert compile_query(
        "SELECT a FROM 't' WHERE get_secret('s', 'SecretString', 'r') = 'x'"
    ).calls_out
    nested = "SELECT (SELECT VALUE GET_DYNAMODB('t', 'id', v, 'r') FROM arr) AS items FROM 't'"
    assert compile_query(nested).calls_out


async def test_each_rule_calls_out_off_the_loop_as_itself(
    target: RecordingTarget, boto_clients: BotoClients
) -> None:
    _devices_table(boto_clients)
    calls = Calls(boto_clients)
    enrich = (
        f"SELECT id, get_dynamodb('devices', 'id', id, '{ROLE}').site AS site, "  # noqa: S608
        f"aws_lambda('{DOUBLE}', {{'n': n}}).doubled AS doubled FROM 'dev/+'"
    )
    engine = RulesEngine(
        [republishing("enrich", enrich), republishing("plain", "SELECT id FROM 'dev/+'")],
        target,
        callouts=calls.callouts,
    )
    assert calls.rules == ["enrich"]  # only the rule that calls out has callouts
    engine.dispatch("dev/1", json.dumps({"id": "d1", "n": 21}).encode())
    engine.dispatch("dev/1", json.dumps({"id": "nobody", "n": 1}).encode())
    await engine.drain()
    published = sorted((topic, body.decode()) for topic, body, _ in target.published)
    assert published == [
        ("out/enrich", '{"id":"d1","site":"plant-7","doubled":42}'),
        ("out/enrich", '{"id":"nobody","doubled":2}'),  # no such item: Undefined, left out
        ("out/plain", '{"id":"d1"}'),
        ("out/plain", '{"id":"nobody"}'),
    ]
    # DynamoDB was called from the engine's pool; the function ran on the loop's thread.
    assert {thread.split("_")[0] for _, thread in calls.roles} == {"rules-aws"}
    assert {role for role, _ in calls.roles} == {ROLE}
    assert {ident for _, _, ident in calls.functions} == {threading.get_ident()}
    await engine.close()


async def test_a_failing_callout_fails_the_evaluation(
    target: RecordingTarget, boto_clients: BotoClients
) -> None:
    calls = Calls(boto_clients)
    sql = f"SELECT aws_lambda('{DOUBLE}', {{'n': n}}).doubled AS d FROM 'a'"  # noqa: S608
    missing_table = f"SELECT get_dynamodb('nope', 'id', id, '{ROLE}') AS d FROM 'a'"  # noqa: S608
    engine = RulesEngine(
        [republishing("fn", sql), republishing("table", missing_table)],
        target,
        callouts=calls.callouts,
    )
    engine.dispatch("a", b'{"id": "x"}')  # no n: the function fails; no table: GetItem fails
    await engine.drain()
    assert engine.stats.eval_errors == 2
    assert target.published == []
    engine.dispatch("a", b'{"id": "x", "n": 2}')  # the engine goes on
    await engine.drain()
    assert [topic for topic, _, _ in target.published] == ["out/fn"]
    assert engine.stats.eval_errors == 3
    await engine.close()


async def test_without_callouts_a_rule_that_calls_out_fails(target: RecordingTarget) -> None:
    engine = RulesEngine(
        [
            republishing(
                "r",
                f"SELECT aws_lambda('{DOUBLE}', *) AS d FROM 'a'",  # noqa: S608
            )
        ],
        target,
    )
    engine.dispatch("a", b'{"n": 1}')
    await engine.drain()
    assert engine.stats.eval_errors == 1
    assert target.published == []
    await engine.close()


async def test_aws_lambda_on_the_loop_is_refused_rather_than_deadlocking(
    boto_clients: BotoClients,
) -> None:
    callouts = Calls(boto_clients).callouts("r")
    with pytest.raises(RuntimeError, match="would wait for itself"):
        callouts.invoke(DOUBLE, {"n": 1})
    # From another thread it goes through the loop.
    assert await asyncio.to_thread(callouts.invoke, DOUBLE, {"n": 4}) == {"doubled": 8}
