"""Fixtures for the Lambda functions: moto (mock_aws) in us-east-1, the template's
tables, the token secret, and a clean module-level cache for every test."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from moto import mock_aws
from moto.iotdata.models import iotdata_backends

from chatlib import aws, ratelimit, tokens
from emulator.aws.provision import create_table
from emulator.rules.sql import NO_MATCH, RuleMessage, compile_query
from emulator.template import load_template

ACCOUNT = "123456789012"
REGION = "us-east-1"
SECRET = "test-secret-" + "0123456789abcdef" * 4
STACK = "test"
MESSAGES_TABLE = f"{STACK}-messages"  # as templates/chat.json names them for stack "test"
CONNECTIONS_TABLE = f"{STACK}-connections"
PEOPLE_TABLE = f"{STACK}-people"
RATE_LIMIT_TABLE = f"{STACK}-rate-limits"
TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "chat.json"


@pytest.fixture(autouse=True)
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A Lambda-like environment with fake credentials and no endpoint overrides."""
    for name in list(os.environ):
        if name.startswith(("AWS_ENDPOINT_URL", "AWS_PROFILE", "POWERTOOLS_")):
            monkeypatch.delenv(name, raising=False)
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "TOPIC_ROOT": "chat",
        "MESSAGES_TABLE": MESSAGES_TABLE,
        "CONNECTIONS_TABLE": CONNECTIONS_TABLE,
        "PEOPLE_TABLE": PEOPLE_TABLE,
        "MESSAGE_RETENTION_DAYS": "7",
        "GUEST_ISSUER": "test-issuer",
        "GUEST_AUDIENCE": "test-audience",
        "JWKS_URL": "",
        "JWT_ISSUER": "",
        "JWT_AUDIENCE": "",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # Clients are dropped between tests; the boto3 session (parsed service models) is
    # kept, which makes each test much cheaper. moto intercepts every session's calls.
    aws.reset(keep_session=True)
    tokens.reset_caches()
    ratelimit.reset()
    yield
    aws.reset(keep_session=True)
    tokens.reset_caches()
    ratelimit.reset()


@pytest.fixture
def mocked_aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def secret_arn(mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    arn = (
        aws.session()
        .client("secretsmanager", region_name=REGION)
        .create_secret(Name="token-secret", SecretString=SECRET)["ARN"]
    )
    monkeypatch.setenv("TOKEN_SECRET_ARN", arn)
    return arn


@pytest.fixture
def tables(mocked_aws: None) -> dict[str, Any]:
    """The tables exactly as templates/chat.json declares them (keys, index, TTL)."""
    template = load_template(TEMPLATE, stack_name=STACK)
    dynamodb = aws.session().client("dynamodb", region_name=REGION)
    for table in template.resources(type="AWS::DynamoDB::Table"):
        create_table(dynamodb, table)
    resource = aws.session().resource("dynamodb", region_name=REGION)
    return {
        "messages": resource.Table(MESSAGES_TABLE),
        "connections": resource.Table(CONNECTIONS_TABLE),
        "people": resource.Table(PEOPLE_TABLE),
    }


class Published:
    """What the functions published through moto's iot-data backend."""

    def _raw(self) -> list[tuple[str, bytes]]:
        return iotdata_backends[ACCOUNT][REGION].published_payloads

    def all(self) -> list[tuple[str, Any]]:
        out = []
        for topic, payload in self._raw():
            data = payload.encode() if isinstance(payload, str) else payload
            out.append((topic, json.loads(data)))
        return out

    def on(self, topic: str) -> list[Any]:
        return [payload for t, payload in self.all() if t == topic]

    def clear(self) -> None:
        self._raw().clear()


class StoreRule:
    """The template's store rule, doing in tests what it does on AWS: every message
    published on a room topic becomes an item (each output field an attribute)."""

    def __init__(self) -> None:
        template = load_template(TEMPLATE, stack_name=STACK)
        payload = template.resource("StoreRule").properties["TopicRulePayload"]
        self.query = compile_query(payload["Sql"], payload["AwsIotSqlVersion"])

    def item(self, topic: str, message: dict[str, Any]) -> dict[str, Any] | None:
        output = self.query.evaluate(RuleMessage(topic, json.dumps(message).encode()))
        return None if output is NO_MATCH else output

    def store(self, topic: str, message: dict[str, Any]) -> None:
        item = self.item(topic, message)
        if item is not None:
            table = aws.session().resource("dynamodb", region_name=REGION).Table(MESSAGES_TABLE)
            table.put_item(Item=json.loads(json.dumps(item), parse_float=Decimal))


@pytest.fixture(scope="session")
def store_rule() -> StoreRule:
    return StoreRule()


@pytest.fixture
def published(mocked_aws: None) -> Published:
    recorder = Published()
    recorder.clear()
    return recorder


@pytest.fixture
def context() -> SimpleNamespace:
    return SimpleNamespace(
        function_name="test-function",
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:test-function",
        aws_request_id="00000000-0000-0000-0000-000000000000",
        memory_limit_in_mb=128,
    )
