"""What the SQL functions that call out reach: one ``RuleCallouts`` per rule, built by
``Emulator.rule_callouts`` for the running emulator's rules engine (each rule whose SQL
calls out) and for the rule tester's ``--template`` alike.

As on AWS ("Functions", get_dynamodb, get_secret, aws_lambda,
https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html): DynamoDB
and Secrets Manager are called as the role the function names, assumed by
iot.amazonaws.com, so its policies are evaluated; a Lambda function is invoked only if
its resource-based policy lets iot.amazonaws.com invoke it for the rule (the
permission's SourceArn is the rule's ARN). A call that is denied or fails raises, which
fails the evaluation: no action runs.

Every call blocks, so a query that calls out is evaluated off the emulator's event loop
(the engine runs it on its thread pool); ``aws_lambda`` hands the invocation to that loop
and waits for its result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

CALL_TIMEOUT_S = 30.0

ClientFactory = Callable[[str], Any]  # an AWS service name -> a boto3 client


@dataclass(frozen=True)
class RuleCallouts:
    """Callouts (emulator.rules.sql.context) of one rule against a running emulator."""

    clients: Callable[[str], ClientFactory]  # a role ARN -> clients acting as that role
    # Invoke a function (its permission for the rule checked): its result. Runs on ``loop``.
    call_function: Callable[[str, Any], Awaitable[Any]]
    loop: asyncio.AbstractEventLoop  # the emulator's
    timeout: float = CALL_TIMEOUT_S

    def get_item(self, table: str, key: dict[str, Any], role_arn: str) -> dict[str, Any] | None:
        answer = self.clients(role_arn)("dynamodb").get_item(TableName=table, Key=key)
        item: dict[str, Any] | None = answer.get("Item")
        return item

    def get_secret(self, secret_id: str, role_arn: str) -> dict[str, Any]:
        secret: dict[str, Any] = self.clients(role_arn)("secretsmanager").get_secret_value(
            SecretId=secret_id
        )
        return secret

    def invoke(self, function_arn: str, event: Any) -> Any:
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:  # the normal case: a worker thread, or the tester's
            current = None
        if current is self.loop:
            raise RuntimeError(
                "aws_lambda() evaluated on the emulator's event loop would wait for itself"
            )
        call = asyncio.run_coroutine_threadsafe(self.call_function(function_arn, event), self.loop)
        try:
            return call.result(self.timeout)
        except TimeoutError:
            call.cancel()
            raise TimeoutError(f"no result in {self.timeout:g}s") from None
