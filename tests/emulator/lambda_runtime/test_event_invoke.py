"""Asynchronous invocations: Lambda's retries, the event age, the on-failure record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator.lambda_runtime import FunctionError
from emulator.lambda_runtime.event_invoke import (
    EventInvokeConfig,
    EventInvoker,
    event_invoke_configs,
)
from emulator.template import load_template

TEMPLATE = Path(__file__).resolve().parents[3] / "templates" / "chat.json"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:local-chat"


class Function:
    """Fails its first ``failures`` invocations."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[Any] = []

    async def __call__(self, arn: str, event: Any) -> Any:
        self.calls.append(event)
        if len(self.calls) <= self.failures:
            raise FunctionError("local-chat", {"errorType": "ValueError", "errorMessage": "no"})
        return {"ok": True}


def invoker(fn: Function, config: EventInvokeConfig, client: Any = None) -> EventInvoker:
    return EventInvoker(
        fn,
        lambda name: ARN,
        {"local-chat": config},
        lambda function_arn: client or (lambda service: None),
        retry_delays=(0.01, 0.02),
    )


async def test_a_failing_event_is_retried_twice_then_recorded_in_the_queue(aws) -> None:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="async-failures")["QueueUrl"]
    queue_arn = "arn:aws:sqs:us-east-1:123456789012:async-failures"
    fn = Function(failures=10)
    events = invoker(fn, EventInvokeConfig(on_failure=queue_arn), aws.client)
    await events.invoke("ChatFunction", {"type": "join"})
    await events.drain()
    assert len(fn.calls) == 3
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"] == f"{ARN}:$LATEST"
    assert record["requestPayload"] == {"type": "join"}
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "no"


async def test_a_retry_that_succeeds_sends_nothing() -> None:
    fn = Function(failures=1)
    events = invoker(fn, EventInvokeConfig())
    await events.invoke("ChatFunction", {})
    await events.drain()
    assert len(fn.calls) == 2 and not events.failed


async def test_an_event_too_old_for_another_try_is_given_up() -> None:
    fn = Function(failures=10)
    events = invoker(fn, EventInvokeConfig(max_event_age=0.015))
    await events.invoke("ChatFunction", {})
    await events.drain()
    assert len(fn.calls) == 2
    assert events.failed[0]["requestContext"]["condition"] == "EventAgeExceeded"


async def test_an_unknown_function_is_refused_at_once() -> None:
    def unknown(name: str) -> str:
        raise LookupError(name)

    events = EventInvoker(Function(0), unknown, {}, lambda function_arn: lambda service: None)
    with pytest.raises(LookupError):
        await events.invoke("Nope", {})


def test_configs_come_from_the_template() -> None:
    configs = event_invoke_configs(load_template(TEMPLATE))
    assert set(configs) == {"local-chat", "local-presence"}
    chat = configs["local-chat"]
    assert chat.max_retries == 2 and chat.max_event_age == 3600
    assert chat.on_failure == "arn:aws:sqs:us-east-1:123456789012:local-AsyncFailureQueue"
