"""Actions against a real moto server: the item, record, message and log event land."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import pytest

from emulator.rules import BotoClients, MessageContext, RulesEngine, TopicRule
from emulator.rules.actions import (
    CloudwatchLogsAction,
    DynamoDBv2Action,
    KinesisAction,
    RepublishAction,
    SqsAction,
    build_action,
)
from emulator.rules.target import ServiceError
from tests.emulator.rules.conftest import RecordingTarget

ROLE = "arn:aws:iam::123456789012:role/rules"


def make_engine(
    clients: BotoClients, sql: str, *actions: dict[str, Any], **extra: Any
) -> tuple[RulesEngine, RecordingTarget]:
    target = RecordingTarget(clients=clients)
    payload = {"Sql": sql, "AwsIotSqlVersion": "2016-03-23", "Actions": list(actions), **extra}
    return RulesEngine([TopicRule("rule", payload)], target), target


def test_build_action_shapes() -> None:
    assert isinstance(build_action({"Republish": {"Topic": "t", "Qos": 1}}), RepublishAction)
    assert isinstance(
        build_action({"DynamoDBv2": {"PutItem": {"TableName": "T"}, "RoleArn": ROLE}}),
        DynamoDBv2Action,
    )
    assert isinstance(
        build_action({"Kinesis": {"StreamName": "s", "PartitionKey": "${room}"}}), KinesisAction
    )
    assert isinstance(build_action({"Sqs": {"QueueUrl": "u", "UseBase64": True}}), SqsAction)
    assert isinstance(
        build_action({"cloudwatchLogs": {"logGroupName": "g", "roleArn": ROLE}}),
        CloudwatchLogsAction,
    )


async def test_dynamodb_put_item_lands(boto_clients: BotoClients) -> None:
    ddb = boto_clients("dynamodb")
    ddb.create_table(
        TableName="Messages",
        KeySchema=[
            {"AttributeName": "room", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "room", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    engine, _ = make_engine(
        boto_clients,
        "SELECT *, concat(cast(ts AS String), '#', id) AS sk, "
        "floor(ts / 1000) + 7 * 86400 AS expiresAt FROM 'chat/pub/+' WHERE type = 'message'",
        {"DynamoDBv2": {"PutItem": {"TableName": "Messages"}, "RoleArn": ROLE}},
    )
    body = {
        "type": "message",
        "id": "u-1",
        "ts": 1700000000123,
        "room": "lobby",
        "text": "hi",
        "score": 1.25,
        "tags": ["a", "b"],
        "meta": {"ok": True, "none": None},
    }
    engine.dispatch("chat/pub/lobby", json.dumps(body).encode())
    await engine.drain()
    assert engine.stats.actions_ok == 1, engine.stats
    item = ddb.get_item(
        TableName="Messages", Key={"room": {"S": "lobby"}, "sk": {"S": "1700000000123#u-1"}}
    )["Item"]
    assert item["expiresAt"] == {"N": str(1700000000 + 7 * 86400)}
    assert item["score"] == {"N": "1.25"}
    assert item["tags"] == {"L": [{"S": "a"}, {"S": "b"}]}
    assert item["meta"] == {"M": {"ok": {"BOOL": True}, "none": {"NULL": True}}}
    assert Decimal(item["ts"]["N"]) == 1700000000123
    await engine.close()


def messages_table(ddb: Any) -> None:
    ddb.create_table(
        TableName="Messages",
        KeySchema=[
            {"AttributeName": "room", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "room", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def record_operations(client: Any) -> list[str]:
    """The operations the client sends from now on (botocore's public event hooks)."""
    seen: list[str] = []
    client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: seen.append(model.name), unique_id="ops"
    )
    return seen


async def test_dynamodb_items_of_a_window_go_in_one_batch(boto_clients: BotoClients) -> None:
    ddb = boto_clients("dynamodb")
    messages_table(ddb)
    operations = record_operations(ddb)
    engine, target = make_engine(
        boto_clients,
        "SELECT * FROM 'chat/pub/+'",
        {"DynamoDBv2": {"PutItem": {"TableName": "Messages"}, "RoleArn": ROLE}},
    )
    for n in range(30):
        engine.dispatch("chat/pub/lobby", json.dumps({"room": "lobby", "sk": f"{n:02}"}).encode())
    await engine.drain()
    assert engine.stats.actions_ok == 30, engine.stats
    assert operations == ["BatchWriteItem", "BatchWriteItem"]  # 25 (the limit), then 5
    assert target.acted_as == [("dynamodb", ROLE, "rule")] * 30  # each item authorized
    got = ddb.query(
        TableName="Messages",
        KeyConditionExpression="room = :r",
        ExpressionAttributeValues={":r": {"S": "lobby"}},
    )["Items"]
    assert [item["sk"]["S"] for item in got] == [f"{n:02}" for n in range(30)]
    await engine.close()


async def test_dynamodb_batch_refused_whole_gives_each_item_its_own_answer(
    boto_clients: BotoClients,
) -> None:
    """BatchWriteItem refuses duplicate keys and any bad item; PutItem's answers stand."""
    ddb = boto_clients("dynamodb")
    messages_table(ddb)
    operations = record_operations(ddb)
    engine, target = make_engine(
        boto_clients,
        "SELECT * FROM 'chat/pub/+'",
        {"DynamoDBv2": {"PutItem": {"TableName": "Messages"}, "RoleArn": ROLE}},
        ErrorAction={"Republish": {"Topic": "errors"}},
    )
    bodies = [
        {"room": "lobby", "sk": "1", "text": "first"},
        {"room": "lobby", "sk": "1", "text": "second"},  # same key: the later one wins
        {"room": "lobby", "text": "no sort key"},  # invalid: only this one fails
        {"room": "lobby", "sk": "2", "text": "other"},
    ]
    for body in bodies:
        engine.dispatch("chat/pub/lobby", json.dumps(body).encode(), MessageContext("c"))
    await engine.drain()
    assert operations == ["BatchWriteItem"] + ["PutItem"] * 4
    assert (engine.stats.actions_ok, engine.stats.actions_failed) == (3, 1), engine.stats
    ((topic, payload, _),) = target.published
    error = json.loads(payload)
    assert topic == "errors"
    assert json.loads(base64.b64decode(error["base64OriginalPayload"])) == bodies[2]
    (failure,) = error["failures"]
    assert "Error Code: ValidationException" in failure["errorMessage"]
    got = ddb.query(
        TableName="Messages",
        KeyConditionExpression="room = :r",
        ExpressionAttributeValues={":r": {"S": "lobby"}},
    )["Items"]
    assert [(i["sk"]["S"], i["text"]["S"]) for i in got] == [("1", "second"), ("2", "other")]
    await engine.close()


async def test_dynamodb_missing_table_runs_error_action(boto_clients: BotoClients) -> None:
    engine, target = make_engine(
        boto_clients,
        "SELECT * FROM 'a'",
        {"DynamoDBv2": {"PutItem": {"TableName": "Nope"}, "RoleArn": ROLE}},
        ErrorAction={"Republish": {"Topic": "errors"}},
    )
    engine.dispatch("a", b'{"room": "x"}', MessageContext(client_id="c"))
    await engine.drain()
    (failure,) = json.loads(target.published[0][1])["failures"]
    assert failure["failedAction"] == "DynamoDBv2Action"
    assert failure["failedResource"] == "Nope"
    message = failure["errorMessage"]
    assert message.startswith(
        "Failed to put the item into the DynamoDB table. The error received was "
    )
    assert (
        "(Service: Amazon DynamoDB; Status Code: 400; Error Code: ResourceNotFoundException;"
        in (message)
    )
    assert message.endswith("Message arrived on: a, Action: dynamoDBv2, Table: Nope")
    assert ("dynamodb", ROLE, "rule") in target.acted_as  # the action's role, for this rule
    await engine.close()


async def test_a_refusal_by_the_target_reads_as_aws_writes_it() -> None:
    class Refusing(RecordingTarget):
        async def republish(self, topic: str, payload: bytes, qos: int, *args: Any) -> None:
            await super().republish(topic, payload, qos, *args)
            if topic == "out":
                raise ServiceError("AWS IoT", "AccessDeniedException", 403, "User: r is not ...")

    target = Refusing()
    payload = {
        "Sql": "SELECT * FROM 'a'",
        "Actions": [{"Republish": {"Topic": "out", "RoleArn": ROLE}}],
        "ErrorAction": {"Republish": {"Topic": "errors", "RoleArn": ROLE}},
    }
    engine = RulesEngine([TopicRule("rule", payload)], target)
    engine.dispatch("a", b"{}", MessageContext(client_id="c"))
    await engine.drain()
    (failure,) = json.loads(target.published[-1][1])["failures"]
    message = failure["errorMessage"]
    assert message.startswith("Failed to republish the message. The error received was User: r")
    assert "(Service: AWS IoT; Status Code: 403; Error Code: AccessDeniedException;" in message
    assert message.endswith("Message arrived on: a, Action: republish, Topic: out")
    assert target.acted_as == [("republish", ROLE, "rule")] * 2
    await engine.close()


async def test_kinesis_put_record_lands(boto_clients: BotoClients) -> None:
    kinesis = boto_clients("kinesis")
    kinesis.create_stream(StreamName="ChatStream", ShardCount=1)
    engine, _ = make_engine(
        boto_clients,
        "SELECT *, newuuid() AS id, timestamp() AS ts, principal() AS sender, "
        "clientid() AS clientId FROM 'chat/stream'",
        {"Kinesis": {"StreamName": "ChatStream", "PartitionKey": "${room}", "RoleArn": ROLE}},
    )
    ctx = MessageContext(client_id="alice-1", principal="alice", timestamp_ms=1700000000000)
    engine.dispatch("chat/stream", b'{"type": "message", "room": "lobby", "text": "hi"}', ctx)
    await engine.drain()
    assert engine.stats.actions_ok == 1, engine.stats
    shard = kinesis.describe_stream(StreamName="ChatStream")["StreamDescription"]["Shards"][0]
    iterator = kinesis.get_shard_iterator(
        StreamName="ChatStream", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    (record,) = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert record["PartitionKey"] == "lobby"
    data = json.loads(record["Data"])
    assert data["room"] == "lobby"
    assert data["sender"] == "alice"
    assert data["clientId"] == "alice-1"
    assert data["ts"] == 1700000000000
    assert len(data["id"]) == 36
    await engine.close()


@pytest.mark.parametrize("use_base64", [False, True])
async def test_sqs_send_message_lands(boto_clients: BotoClients, use_base64: bool) -> None:
    sqs = boto_clients("sqs")
    url = sqs.create_queue(QueueName="errors")["QueueUrl"]
    engine, _ = make_engine(
        boto_clients,
        "SELECT VALUE {'a': n} FROM 'a'",
        {"Sqs": {"QueueUrl": url, "UseBase64": use_base64, "RoleArn": ROLE}},
    )
    engine.dispatch("a", b'{"n": 1}')
    await engine.drain()
    (message,) = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    body = message["Body"]
    if use_base64:
        body = base64.b64decode(body).decode()
    assert json.loads(body) == {"a": 1}
    await engine.close()


async def test_cloudwatch_logs_error_action_lands(boto_clients: BotoClients) -> None:
    logs = boto_clients("logs")
    logs.create_log_group(logGroupName="rule-errors")
    engine, _ = make_engine(
        boto_clients,
        "SELECT * FROM 'a'",
        {"DynamoDBv2": {"PutItem": {"TableName": "Missing"}, "RoleArn": ROLE}},
        ErrorAction={"CloudwatchLogs": {"LogGroupName": "rule-errors", "RoleArn": ROLE}},
    )
    engine.dispatch("a", b'{"x": 1}', MessageContext(client_id="c-1", trace_id="t-1"))
    engine.dispatch("a", b'{"x": 2}', MessageContext(client_id="c-1", trace_id="t-2"))
    await engine.drain()
    assert engine.stats.error_actions_ok == 2, engine.stats
    events = logs.get_log_events(logGroupName="rule-errors", logStreamName="rule")["events"]
    messages = [json.loads(e["message"]) for e in events]
    assert sorted(m["cloudwatchTraceId"] for m in messages) == ["t-1", "t-2"]
    assert messages[0]["failures"][0]["failedResource"] == "Missing"
    await engine.close()
