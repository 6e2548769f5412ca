"""Asynchronous (Event) invocations as Lambda runs them: retries, event age, and the
on-failure destination of the function's AWS::Lambda::EventInvokeConfig.

"Lambda retries function errors twice, with one minute between the first and second
attempt and two minutes between the second and third" unless MaximumRetryAttempts says
fewer; an event older than MaximumEventAgeInSeconds is not tried again ("Configuring
error handling for asynchronous invocation",
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
When it gives up, Lambda sends an invocation record to the OnFailure destination
("Capturing records of Lambda asynchronous invocations",
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html):
an SQS queue here; other destination types are logged as not emulated.

The caller (a rule's lambda action) only waits for the event to be accepted, as with
AWS's async Invoke. The retry delays can be shortened for tests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from emulator.lambda_runtime.errors import FunctionError
from emulator.template import Template

log = logging.getLogger("emulator.lambda")

Invoke = Callable[[str, Any], Awaitable[Any]]
ClientFactory = Callable[[str], Any]
RETRY_DELAYS = (60.0, 120.0)  # seconds before the second and the third attempt
DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE = 6 * 3600.0


@dataclass(frozen=True)
class EventInvokeConfig:
    """What AWS::Lambda::EventInvokeConfig sets for one function."""

    max_retries: int = DEFAULT_RETRIES
    max_event_age: float = DEFAULT_MAX_AGE
    on_failure: str | None = None  # destination ARN


def event_invoke_configs(template: Template) -> dict[str, EventInvokeConfig]:
    """Each EventInvokeConfig in the template, by the physical name of its function."""
    configs: dict[str, EventInvokeConfig] = {}
    for resource in template.resources(type="AWS::Lambda::EventInvokeConfig"):
        props = resource.properties
        function = template.find(str(props["FunctionName"]), "AWS::Lambda::Function")
        name = function.physical_id if function else str(props["FunctionName"])
        destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        configs[name] = EventInvokeConfig(
            max_retries=int(props.get("MaximumRetryAttempts", DEFAULT_RETRIES)),
            max_event_age=float(props.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE)),
            on_failure=str(destination) if destination else None,
        )
    return configs


def _timestamp() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def failure_record(
    function_arn: str, event: Any, condition: str, attempts: int, error: dict[str, Any]
) -> dict[str, Any]:
    """The invocation record Lambda sends to the OnFailure destination."""
    return {
        "version": "1.0",
        "timestamp": _timestamp(),
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"{function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": error,
    }


class EventInvoker:
    """Accepts Event invocations and runs them in the background with Lambda's retries."""

    def __init__(
        self,
        invoke: Invoke,
        function_arn: Callable[[str], str],
        configs: Mapping[str, EventInvokeConfig],
        clients: Callable[[str], ClientFactory],
        *,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        """``invoke`` runs one synchronous invocation; ``function_arn`` resolves a name
        or ARN to the function's unqualified ARN (and raises for an unknown one);
        ``clients(function_arn)`` gives the clients Lambda uses on that function's behalf
        (its execution role sends the failure record)."""
        self._invoke = invoke
        self._function_arn = function_arn
        self._configs = configs
        self._clients = clients
        self._retry_delays = retry_delays
        self._tasks: set[asyncio.Task[None]] = set()
        # The latest records of events given up on (they also go to the destination).
        self.failed: deque[dict[str, Any]] = deque(maxlen=100)

    def _config(self, arn: str) -> EventInvokeConfig:
        return self._configs.get(arn.rsplit(":", 1)[-1], EventInvokeConfig())

    async def invoke(self, name_or_arn: str, event: Any) -> None:
        """Accept the event (unknown functions fail now, as Invoke would) and return."""
        arn = self._function_arn(name_or_arn)
        task = asyncio.create_task(self._run(arn, event, time.monotonic()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, arn: str, event: Any, accepted: float) -> None:
        config = self._config(arn)
        attempts = 0
        while True:
            attempts += 1
            try:
                await self._invoke(arn, event)
                return
            except FunctionError as exc:
                error = exc.payload
            except Exception as exc:
                error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            if attempts > config.max_retries:
                condition = "RetriesExhausted"
                break
            delay = self._retry_delays[min(attempts, len(self._retry_delays)) - 1]
            if time.monotonic() + delay - accepted > config.max_event_age:
                condition = "EventAgeExceeded"
                break
            log.warning("async invocation of %s failed (attempt %d); retrying", arn, attempts)
            await asyncio.sleep(delay)
        record = failure_record(arn, event, condition, attempts, error)
        self.failed.append(record)
        log.warning("async invocation of %s given up (%s)", arn, condition)
        if config.on_failure:
            await asyncio.to_thread(self._send, arn, config.on_failure, record)

    def _send(self, arn: str, destination: str, record: dict[str, Any]) -> None:
        if ":sqs:" not in destination:
            log.warning("on-failure destination %s is not emulated", destination)
            return
        # Lambda sends by the queue's ARN with sqs:SendMessage alone: the URL comes from it.
        region, account, name = destination.split(":")[3:6]
        url = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
        try:
            self._clients(arn)("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(record))
        except Exception:
            log.exception("could not send the failure record to %s", destination)

    async def drain(self) -> None:
        """Wait for every accepted event to finish (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Cancel what is still running or waiting to be retried."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
