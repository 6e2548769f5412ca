"""The engine with a recording target: matching, error actions, non-blocking dispatch."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest

from emulator.rules import (
    MessageContext,
    RuleDefinitionError,
    RulesEngine,
    SqlSyntaxError,
    TopicRule,
)
from tests.emulator.rules.conftest import RecordingTarget

LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:chat"
ERRORS_ARN = "arn:aws:lambda:us-east-1:123456789012:function:errors"
CTX = MessageContext(client_id="alice-1", principal="alice", trace_id="trace-9")


def rule(name: str, sql: str, *actions: dict[str, Any], **extra: Any) -> TopicRule:
    payload = {"Sql": sql, "AwsIotSqlVersion": "2016-03-23", "Actions": list(actions), **extra}
    return TopicRule(name, payload)


def republish(topic: str, qos: int = 0) -> dict[str, Any]:
    return {"Republish": {"Topic": topic, "Qos": qos, "RoleArn": "arn:aws:iam::1:role/r"}}


def lambda_(arn: str = LAMBDA_ARN) -> dict[str, Any]:
    return {"Lambda": {"FunctionArn": arn}}


async def test_dispatch_matches_and_republishes(target: RecordingTarget) -> None:
    engine = RulesEngine(
        [
            rule(
                "r",
                "SELECT *, clientid() AS clientId FROM 'chat/out'",
                republish("chat/pub/${room}", 1),
            )
        ],
        target,
    )
    assert engine.dispatch("chat/out", b'{"room": "lobby"}', CTX) == 1
    assert engine.dispatch("chat/other", b"{}", CTX) == 0
    await engine.drain()
    assert target.published == [("chat/pub/lobby", b'{"room":"lobby","clientId":"alice-1"}', 1)]
    assert engine.stats.matched == 1
    assert engine.stats.actions_ok == 1
    await engine.close()


async def test_where_false_runs_nothing(target: RecordingTarget) -> None:
    engine = RulesEngine([rule("r", "SELECT * FROM 'a' WHERE type = 'message'", lambda_())], target)
    engine.dispatch("a", b'{"type": "join"}')
    engine.dispatch("a", b'{"no": "type"}')
    engine.dispatch("a", b"not json")
    await engine.drain()
    assert target.invoked == []
    assert engine.stats.not_matched == 3
    await engine.close()


async def test_disabled_rule_is_skipped(target: RecordingTarget) -> None:
    engine = RulesEngine([rule("r", "SELECT * FROM 'a'", lambda_(), RuleDisabled=True)], target)
    assert engine.dispatch("a", b"{}") == 0
    await engine.close()


async def test_actions_of_several_rules(target: RecordingTarget) -> None:
    engine = RulesEngine(
        [
            rule("one", "SELECT * FROM 'x/+'", lambda_(), republish("copy/${topic(2)}")),
            rule("two", "SELECT VALUE n FROM 'x/#'", republish("value")),
        ],
        target,
    )
    assert engine.dispatch("x/y", b'{"n": 7}') == 2
    await engine.drain()
    assert sorted(target.published) == [("copy/y", b'{"n":7}', 0), ("value", b"7", 0)]
    assert target.invoked == [(LAMBDA_ARN, {"n": 7})]
    await engine.close()


async def test_error_action_gets_aws_error_payload(target: RecordingTarget) -> None:
    target.fail_lambda = "function not found"
    engine = RulesEngine(
        [
            rule(
                "route",
                "SELECT * FROM 'chat/out'",
                lambda_(),
                republish("ok/${topic()}"),
                ErrorAction=republish("errors/${topic(1)}"),
            )
        ],
        target,
    )
    payload = b'{"type": "join"}'
    engine.dispatch("chat/out", payload, CTX)
    await engine.drain()
    assert engine.stats.actions_failed == 1
    assert engine.stats.actions_ok == 1
    assert engine.stats.error_actions_ok == 1
    topics = {topic: body for topic, body, _ in target.published}
    assert topics["ok/chat/out"] == b'{"type":"join"}'
    error = json.loads(topics["errors/chat"])
    assert error == {
        "ruleName": "route",
        "topic": "chat/out",
        "cloudwatchTraceId": "trace-9",
        "clientId": "alice-1",
        "base64OriginalPayload": base64.b64encode(payload).decode(),
        "failures": [
            {
                "failedAction": "LambdaAction",
                "failedResource": LAMBDA_ARN,
                "errorMessage": "function not found",
            }
        ],
    }
    await engine.close()


async def test_two_failures_one_error_message(target: RecordingTarget) -> None:
    target.fail_lambda = "boom"
    engine = RulesEngine(
        [
            rule(
                "r",
                "SELECT * FROM 'a'",
                lambda_(),
                lambda_(ERRORS_ARN),
                ErrorAction=republish("errors"),
            )
        ],
        target,
    )
    engine.dispatch("a", b"{}")
    await engine.drain()
    ((_, body, _),) = target.published
    failures = json.loads(body)["failures"]
    assert {f["failedResource"] for f in failures} == {LAMBDA_ARN, ERRORS_ARN}
    assert json.loads(body)["clientId"] == "n/a"
    await engine.close()


async def test_failing_error_action_is_counted_and_engine_goes_on(target: RecordingTarget) -> None:
    target.fail_lambda = "boom"
    engine = RulesEngine(
        [rule("r", "SELECT * FROM 'a'", lambda_(), ErrorAction=lambda_(ERRORS_ARN))], target
    )
    engine.dispatch("a", b"{}")
    await engine.drain()
    assert engine.stats.error_actions_failed == 1
    target.fail_lambda = None
    engine.dispatch("a", b"{}")
    await engine.drain()
    assert engine.stats.actions_ok == 1
    await engine.close()


@pytest.mark.parametrize(
    "topic", ["$aws/events/presence/connected/x", "$other", "a/+/b", "a/#", ""]
)
async def test_republish_refuses_reserved_and_wildcard_topics(
    target: RecordingTarget, topic: str
) -> None:
    engine = RulesEngine(
        [rule("r", "SELECT * FROM 'a'", republish(topic.replace("$", "$$")))], target
    )
    engine.dispatch("a", b"{}")
    await engine.drain()
    assert target.published == []
    assert engine.stats.actions_failed == 1
    await engine.close()


async def test_republish_to_shadow_topic_allowed(target: RecordingTarget) -> None:
    engine = RulesEngine(
        [rule("r", "SELECT * FROM 'a'", republish("$$aws/things/t1/shadow/update"))], target
    )
    engine.dispatch("a", b"{}")
    await engine.drain()
    assert target.published == [("$aws/things/t1/shadow/update", b"{}", 0)]
    await engine.close()


async def test_binary_payload_to_lambda_fails_but_republish_passes_bytes(
    target: RecordingTarget,
) -> None:
    engine = RulesEngine(
        [rule("r", "SELECT * FROM 'bin'", lambda_(), republish("out"), ErrorAction=republish("e"))],
        target,
    )
    engine.dispatch("bin", b"\x00\x01")
    await engine.drain()
    topics = {t: b for t, b, _ in target.published}
    assert topics["out"] == b"\x00\x01"
    assert json.loads(topics["e"])["failures"][0]["failedAction"] == "LambdaAction"
    await engine.close()


async def test_unsupported_action_fails_visibly(target: RecordingTarget) -> None:
    engine = RulesEngine(
        [
            rule(
                "r",
                "SELECT * FROM 'a'",
                {"Timestream": {"DatabaseName": "d"}},
                ErrorAction=republish("e"),
            )
        ],
        target,
    )
    assert engine.warnings == ["rule r: action Timestream is not emulated"]
    engine.dispatch("a", b"{}")
    await engine.drain()
    error = json.loads(target.published[0][1])
    assert "does not implement the Timestream action" in error["failures"][0]["errorMessage"]
    await engine.close()


def test_bad_sql_fails_at_registration(target: RecordingTarget) -> None:
    with pytest.raises(SqlSyntaxError):
        RulesEngine([rule("r", "SELECT * FORM 'a'", lambda_())], target)
    with pytest.raises(SqlSyntaxError):
        RulesEngine([rule("r", "SELECT * FROM 'a'", republish("x/${room"))], target)
    with pytest.raises(RuleDefinitionError):
        RulesEngine([rule("r", "SELECT * FROM 'a'", {"Republish": {"Qos": 1}})], target)


async def test_dispatch_does_not_wait_for_slow_actions(target: RecordingTarget) -> None:
    target.gate = asyncio.Event()
    engine = RulesEngine([rule("r", "SELECT * FROM 'a'", lambda_())], target, concurrency=4)
    for _ in range(4):
        engine.dispatch("a", b"{}")  # returns, although no action can finish yet
    while target.in_flight < 4:  # the four run concurrently
        await asyncio.sleep(0.01)
    assert target.invoked == []
    target.gate.set()
    await engine.drain()
    assert len(target.invoked) == 4 and target.peak_in_flight == 4
    await engine.close()


async def test_a_slow_rule_does_not_hold_up_another(target: RecordingTarget) -> None:
    gate = asyncio.Event()

    async def stuck(function_arn: str, event: object) -> None:
        await gate.wait()

    target.invoke_lambda = stuck  # type: ignore[method-assign]
    engine = RulesEngine(
        [
            rule("slow", "SELECT * FROM 'a'", lambda_()),
            rule("fast", "SELECT * FROM 'a'", republish("b")),
        ],
        target,
        concurrency=2,
    )
    for _ in range(10):
        engine.dispatch("a", b"{}")
    while len(target.published) < 10:  # every republish, while both slow workers wait
        await asyncio.sleep(0.01)
    gate.set()
    await engine.close()


async def test_flood_is_bounded_and_drops_are_counted(target: RecordingTarget) -> None:
    target.delay = 0.05
    engine = RulesEngine(
        [rule("r", "SELECT * FROM 'a'", lambda_())], target, queue_size=10, concurrency=2
    )
    scheduled = sum(engine.dispatch("a", b"{}") for _ in range(100))
    assert scheduled == 10
    assert engine.stats.dropped == 90
    await engine.close()
    assert len(target.invoked) == 10


async def test_action_timeout_is_a_failure(target: RecordingTarget) -> None:
    target.delay = 1.0
    engine = RulesEngine(
        [rule("r", "SELECT * FROM 'a'", lambda_(), ErrorAction={"Republish": {"Topic": "e"}})],
        target,
        action_timeout=0.05,
    )
    engine.dispatch("a", b"{}")
    await engine.drain()
    assert engine.stats.actions_failed == 1
    await engine.close()


async def test_basic_ingest_goes_to_the_named_rule(target: RecordingTarget) -> None:
    engine = RulesEngine(
        [rule("ingest", "SELECT topic() AS t FROM 'unused'", republish("out"))], target
    )
    assert engine.dispatch("$aws/rules/ingest/sensors/1", b"{}") == 1
    assert engine.dispatch("$aws/rules/nosuch/x", b"{}") == 0
    await engine.drain()
    assert target.published == [("out", b'{"t":"sensors/1"}', 0)]
    await engine.close()


async def test_close_finishes_in_flight_work_then_refuses(target: RecordingTarget) -> None:
    target.delay = 0.05
    engine = RulesEngine([rule("r", "SELECT * FROM 'a'", lambda_())], target)
    engine.dispatch("a", b"{}")
    await engine.close()
    assert len(target.invoked) == 1
    assert engine.dispatch("a", b"{}") == 0


async def test_evaluation_error_is_logged_not_raised(target: RecordingTarget) -> None:
    engine = RulesEngine([rule("r", "SELECT *, 1 AS one FROM 'a'", lambda_())], target)
    engine.dispatch("a", b"\xff\xfe")
    await engine.drain()
    assert engine.stats.eval_errors == 1
    assert target.invoked == []
    await engine.close()


async def test_set_variables_in_the_sql_and_the_action_templates(target: RecordingTarget) -> None:
    """The "SET clause" page (https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-set.html):
    a variable is usable in SELECT, WHERE, action and error action substitution
    templates, and is computed once per message for all of them (newuuid() shows it)."""
    target.fail_lambda = "function not found"
    engine = RulesEngine(
        [
            rule(
                "set_rule",
                "SET @celsius = (temp_fahrenheit - 32) * 5 / 9, @id = newuuid() "
                "SELECT @celsius AS celsius, @id AS id FROM 'device/+/data' WHERE @celsius > 20",
                republish("celsius/${topic(2)}/${@celsius}/${@id}"),
                lambda_(),
                ErrorAction=republish("errors/${@celsius}/${@id}"),
            )
        ],
        target,
    )
    engine.dispatch("device/d7/data", b'{"temp_fahrenheit": 86}', CTX)
    engine.dispatch("device/d8/data", b'{"temp_fahrenheit": 50}', CTX)  # 10: WHERE fails
    await engine.drain()
    assert engine.stats.matched == 1 and engine.stats.not_matched == 1
    (out_topic, out_body, _), (error_topic, _, _) = sorted(target.published)
    body = json.loads(out_body)
    assert body["celsius"] == 30
    assert out_topic == f"celsius/d7/30/{body['id']}"
    assert error_topic == f"errors/30/{body['id']}"
    await engine.close()


def test_a_template_variable_the_sql_does_not_set_fails_at_registration(
    target: RecordingTarget,
) -> None:
    with pytest.raises(SqlSyntaxError, match="undefined variable @room"):
        RulesEngine([rule("r", "SELECT * FROM 'a'", republish("x/${@room}"))], target)
    with pytest.raises(SqlSyntaxError, match="undefined variable @other"):
        RulesEngine(
            [
                rule(
                    "r",
                    "SET @room = room SELECT * FROM 'a'",
                    republish("x/${@room}"),
                    ErrorAction=republish("e/${@other}"),
                )
            ],
            target,
        )
