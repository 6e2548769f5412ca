"""Which action on which resource each request asks for."""

from __future__ import annotations

import json
from typing import Any

from emulator.aws.iam.operations import ApiRequest, ContinuationTokens, checks

ARN = "arn:aws:{}:us-east-1:123456789012:{}"


def json_call(service: str, operation: str, params: dict[str, Any]) -> ApiRequest:
    return ApiRequest.parse(
        service,
        "us-east-1",
        "123456789012",
        target=f"Prefix_20120810.{operation}",
        path="/",
        body=json.dumps(params).encode(),
    )


def of(request: ApiRequest, tokens: ContinuationTokens | None = None) -> list[tuple[str, str]]:
    return checks(request, tokens or ContinuationTokens())


def test_dynamodb_tables_indexes_batches_and_transactions() -> None:
    table = ARN.format("dynamodb", "table/T")
    assert of(json_call("dynamodb", "PutItem", {"TableName": "T"})) == [("dynamodb:PutItem", table)]
    assert of(json_call("dynamodb", "Query", {"TableName": table, "IndexName": "i"})) == [
        ("dynamodb:Query", f"{table}/index/i")
    ]
    batch = json_call("dynamodb", "BatchWriteItem", {"RequestItems": {"T": [], "U": []}})
    assert of(batch) == [
        ("dynamodb:BatchWriteItem", table),
        ("dynamodb:BatchWriteItem", ARN.format("dynamodb", "table/U")),
    ]
    transaction = json_call(
        "dynamodb",
        "TransactWriteItems",
        {"TransactItems": [{"Put": {"TableName": "T"}}, {"ConditionCheck": {"TableName": "U"}}]},
    )
    assert of(transaction) == [
        ("dynamodb:PutItem", table),
        ("dynamodb:ConditionCheckItem", ARN.format("dynamodb", "table/U")),
    ]
    assert of(json_call("dynamodb", "ListTables", {})) == [("dynamodb:ListTables", "*")]


def test_kinesis_streams_and_iterators() -> None:
    stream = ARN.format("kinesis", "stream/S")
    assert of(json_call("kinesis", "PutRecord", {"StreamName": "S"})) == [
        ("kinesis:PutRecord", stream)
    ]
    assert of(json_call("kinesis", "ListShards", {"StreamARN": stream})) == [
        ("kinesis:ListShards", stream)
    ]
    tokens = ContinuationTokens(capacity=1)
    tokens.remember({"ShardIterator": "it-1"}, (stream,))
    assert of(json_call("kinesis", "GetRecords", {"ShardIterator": "it-1"}), tokens) == [
        ("kinesis:GetRecords", stream)
    ]
    tokens.remember({"NextShardIterator": "it-2"}, (stream,))  # capacity 1: it-1 is forgotten
    assert of(json_call("kinesis", "GetRecords", {"ShardIterator": "it-1"}), tokens) == [
        ("kinesis:GetRecords", "*")
    ]


def test_secrets_queues_and_logs() -> None:
    assert of(json_call("secretsmanager", "GetSecretValue", {"SecretId": "app/key"})) == [
        ("secretsmanager:GetSecretValue", ARN.format("secretsmanager", "secret:app/key"))
    ]
    url = "https://sqs.us-east-1.amazonaws.com/111122223333/q"
    assert of(json_call("sqs", "SendMessage", {"QueueUrl": url})) == [
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:q")
    ]
    assert of(json_call("sqs", "GetQueueUrl", {"QueueName": "q"})) == [
        ("sqs:GetQueueUrl", ARN.format("sqs", "q"))
    ]
    stream = {"logGroupName": "/g", "logStreamName": "s"}
    assert of(json_call("logs", "PutLogEvents", stream)) == [
        ("logs:PutLogEvents", ARN.format("logs", "log-group:/g:log-stream:s"))
    ]
    group = {"logGroupIdentifier": ARN.format("logs", "log-group:/g:*")}
    assert of(json_call("logs", "DescribeLogStreams", group)) == [
        ("logs:DescribeLogStreams", ARN.format("logs", "log-group:/g:*"))
    ]


def test_query_protocol_sts_and_iam() -> None:
    def query(service: str, body: str, path: str = "/") -> ApiRequest:
        return ApiRequest.parse(
            service, "us-east-1", "123456789012", target=None, path=path, body=body.encode()
        )

    role = "arn:aws:iam::123456789012:role/r"
    assert of(query("sts", f"Action=AssumeRole&RoleArn={role}&RoleSessionName=s")) == [
        ("sts:AssumeRole", role)
    ]
    assert of(query("sts", "Action=GetCallerIdentity")) == []
    assert of(query("iam", "", path="/?Action=GetRole&RoleName=r")) == [("iam:GetRole", role)]


def test_bad_bodies_and_unknown_services_are_checked_against_any_resource() -> None:
    garbled = ApiRequest.parse(
        "dynamodb", "us-east-1", "1", target="DynamoDB_20120810.PutItem", path="/", body=b"{nope"
    )
    assert of(garbled) == [("dynamodb:PutItem", "*")]
    listed = ApiRequest.parse(
        "kinesis", "us-east-1", "1", target="Kinesis_20131202.PutRecord", path="/", body=b"[1]"
    )
    assert of(listed) == [("kinesis:PutRecord", "*")]
    assert of(json_call("ssm", "GetParameter", {"Name": "p"})) == [("ssm:GetParameter", "*")]
