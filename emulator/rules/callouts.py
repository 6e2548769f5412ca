"""The rule tester's ``--template``: the emulator runs the template (moto, the Lambda
runtime, IAM) on a loop of its own, and the SQL functions that call out reach it.

As on AWS ("Functions", get_dynamodb, get_secret, aws_lambda,
https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html): DynamoDB
and Secrets Manager are called as the role the function names, assumed by
iot.amazonaws.com, so its policies are evaluated; a Lambda function is invoked only if
its resource-based policy lets iot.amazonaws.com invoke it for the rule (``--rule-name``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.app import Emulator, Settings
from emulator.aws.iam import IOT, Caller

CALL_TIMEOUT_S = 30.0


@dataclass
class TemplateCallouts:
    """Callouts (emulator.rules.sql.context) against a running Emulator."""

    emulator: Emulator
    loop: asyncio.AbstractEventLoop
    rule_name: str

    def _clients(self, role_arn: str) -> Any:
        aws, iam = self.emulator.aws, self.emulator.iam
        assert aws is not None
        return aws.client if iam is None else iam.client_factory(role_arn, IOT, self.rule_name)

    def get_item(self, table: str, key: dict[str, Any], role_arn: str) -> dict[str, Any] | None:
        answer = self._clients(role_arn)("dynamodb").get_item(TableName=table, Key=key)
        item: dict[str, Any] | None = answer.get("Item")
        return item

    def get_secret(self, secret_id: str, role_arn: str) -> dict[str, Any]:
        secret: dict[str, Any] = self._clients(role_arn)("secretsmanager").get_secret_value(
            SecretId=secret_id
        )
        return secret

    def invoke(self, function_arn: str, event: Any) -> Any:
        emulator = self.emulator
        runtime, iam = emulator.runtime, emulator.iam
        assert runtime is not None
        if iam is not None:
            s = emulator.settings
            rule = f"arn:aws:iot:{s.region}:{s.account_id}:rule/{self.rule_name}"
            caller = Caller(IOT, source_arn=rule, source_account=s.account_id)
            iam.check_invoke(runtime.resolve(function_arn).arn, "lambda:InvokeFunction", caller)
        call = asyncio.run_coroutine_threadsafe(runtime.invoke(function_arn, event), self.loop)
        return call.result(CALL_TIMEOUT_S)


@contextmanager
def running(
    template: Path, rule_name: str, state_dir: Path | None = None
) -> Iterator[TemplateCallouts]:
    """The template's emulator on loopback ports of its own, until the block ends."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="sql-tester", daemon=True)
    thread.start()
    settings = Settings(template_path=template, port=0, mqtt_port=0, state_dir=state_dir)

    def call(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    async def make() -> Emulator:
        return Emulator(settings)

    emulator = call(make())
    try:
        call(emulator.start())
        yield TemplateCallouts(emulator, loop, rule_name)
    finally:
        call(emulator.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
