"""The DynamoDB rule action's hash/range form against a real moto server ("DynamoDB" rule
action, https://docs.aws.amazon.com/iot/latest/developerguide/dynamodb-rule-action.html)."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.rules import BotoClients, RulesEngine, TopicRule
from emulator.rules.actions import RuleDefinitionError, build_action
from tests.emulator.rules.conftest import RecordingTarget

ROLE = "arn:aws:iam::123456789012:role/rules"


def _table(clients: BotoClients) -> Any:
    ddb = clients("dynamodb")
    ddb.create_table(
        TableName="readings",
        KeySchema=[
            {"AttributeName": "device", "KeyType": "HASH"},
            {"AttributeName": "ts", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "device", "AttributeType": "S"},
            {"AttributeName": "ts", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return ddb


def _engine(clients: BotoClients, params: dict[str, Any], **extra: Any) -> RulesEngine:
    action = {
        "TableName": "readings",
        "HashKeyField": "device",
        "HashKeyValue": "${topic(2)}",
        "RangeKeyField": "ts",
        "RangeKeyValue": "${ts}",
        "RangeKeyType": "NUMBER",
        "RoleArn": ROLE,
        **params,
    }
    payload = {"Sql": "SELECT * FROM 'dev/+'", "Actions": [{"DynamoDB": action}], **extra}
    return RulesEngine([TopicRule("rule", payload)], RecordingTarget(clients=clients))


def _item(ddb: Any, ts: str) -> dict[str, Any] | None:
    key = {"device": {"S": "d1"}, "ts": {"N": ts}}
    return ddb.get_item(TableName="readings", Key=key).get("Item")


async def test_insert_update_and_delete(boto_clients: BotoClients) -> None:
    ddb = _table(boto_clients)
    engine = _engine(boto_clients, {"Operation": "${op}", "PayloadField": "data"})
    engine.dispatch("dev/d1", b'{"ts": 5, "op": "INSERT", "t": 1.5}')
    engine.dispatch("dev/d1", b'{"ts": 6, "op": "INSERT", "t": 2}')
    await engine.drain()
    assert _item(ddb, "5") == {
        "device": {"S": "d1"},
        "ts": {"N": "5"},
        "data": {"M": {"ts": {"N": "5"}, "op": {"S": "INSERT"}, "t": {"N": "1.5"}}},
    }
    engine.dispatch("dev/d1", b'{"ts": 5, "op": "UPDATE", "t": 9}')
    engine.dispatch("dev/d1", b'{"ts": 6, "op": "DELETE"}')
    await engine.drain()
    assert _item(ddb, "5")["data"]["M"]["t"] == {"N": "9"}
    assert _item(ddb, "6") is None
    assert engine.stats.actions_failed == 0
    await engine.close()


async def test_a_bad_key_or_operation_runs_the_error_action(boto_clients: BotoClients) -> None:
    _table(boto_clients)
    sqs = boto_clients("sqs")
    errors = sqs.create_queue(QueueName="errors")["QueueUrl"]
    engine = _engine(
        boto_clients,
        {"Operation": "${op}"},
        ErrorAction={"Sqs": {"QueueUrl": errors, "RoleArn": ROLE}},
    )
    engine.dispatch("dev/d1", b'{"ts": "soon", "op": "INSERT"}')
    engine.dispatch("dev/d1", b'{"ts": 1, "op": "UPSERT"}')
    await engine.drain()
    messages = sqs.receive_message(QueueUrl=errors, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert len(messages["Messages"]) == 2
    assert engine.stats.actions_failed == 2
    await engine.close()


def test_definition_errors() -> None:
    base = {"TableName": "t", "HashKeyField": "k", "HashKeyValue": "v"}
    with pytest.raises(RuleDefinitionError, match="HashKeyType must be STRING or NUMBER"):
        build_action({"DynamoDB": {**base, "HashKeyType": "BINARY"}})
    with pytest.raises(RuleDefinitionError, match="go together"):
        build_action({"DynamoDB": {**base, "RangeKeyField": "r"}})
    with pytest.raises(RuleDefinitionError, match="missing HashKeyValue"):
        build_action({"DynamoDB": {"TableName": "t", "HashKeyField": "k"}})
