"""The IAM gate in front of moto: role credentials are authenticated and evaluated."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.emulator.aws.iam.conftest import ACCOUNT, REGION, Clock, Gate

TABLE_KEY = [{"AttributeName": "k", "KeyType": "HASH"}]
ATTRIBUTES = [
    {"AttributeName": "k", "AttributeType": "S"},
    {"AttributeName": "g", "AttributeType": "S"},
]


def table(gate: Gate) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    gate.admin("dynamodb").create_table(
        TableName=name,
        KeySchema=TABLE_KEY,
        AttributeDefinitions=ATTRIBUTES,
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    return name


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def allow(actions: list[str] | str, resource: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


def refused(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response


ITEM = {"k": {"S": "1"}, "g": {"S": "x"}}


def test_a_scoped_allow_lets_its_table_through_and_denies_another(gate: Gate) -> None:
    mine, other = table(gate), table(gate)
    role = gate.role([allow("dynamodb:PutItem", table_arn(mine))])
    ddb = gate.as_role(role)("dynamodb")
    ddb.put_item(TableName=mine, Item=ITEM)
    response = refused(ddb.put_item, TableName=other, Item=ITEM)
    assert response["Error"]["Code"] == "AccessDeniedException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    name = role.rsplit("/", 1)[1]
    assert response["Error"]["Message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{name}/test is not authorized to perform: "
        f"dynamodb:PutItem on resource: {table_arn(other)} because no identity-based policy "
        "allows the dynamodb:PutItem action"
    )
    assert "Item" not in gate.admin("dynamodb").get_item(TableName=other, Key={"k": {"S": "1"}})


def test_an_explicit_deny_wins(gate: Gate) -> None:
    name = table(gate)
    role = gate.role(
        [
            allow("dynamodb:*", "*"),
            {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": table_arn(name)},
        ]
    )
    ddb = gate.as_role(role)("dynamodb")
    ddb.put_item(TableName=name, Item=ITEM)
    message = refused(ddb.delete_item, TableName=name, Key={"k": {"S": "1"}})["Error"]["Message"]
    assert message.endswith("with an explicit deny in an identity-based policy")


def test_a_query_on_an_index_needs_the_index_arn(gate: Gate) -> None:
    name = table(gate)
    query = {
        "TableName": name,
        "IndexName": "by-g",
        "KeyConditionExpression": "g = :g",
        "ExpressionAttributeValues": {":g": {"S": "x"}},
    }
    table_only = gate.as_role(gate.role([allow("dynamodb:Query", table_arn(name))]))
    message = refused(table_only("dynamodb").query, **query)["Error"]["Message"]
    assert f"on resource: {table_arn(name)}/index/by-g" in message
    indexes = gate.as_role(gate.role([allow("dynamodb:Query", f"{table_arn(name)}/index/*")]))
    assert indexes("dynamodb").query(**query)["Items"] == []


def test_get_records_is_checked_against_the_iterators_stream(gate: Gate) -> None:
    kinesis = gate.admin("kinesis")
    readable, other = (f"s-{uuid.uuid4().hex[:8]}" for _ in range(2))
    for stream in (readable, other):
        kinesis.create_stream(StreamName=stream, ShardCount=1)
    arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/"
    role = gate.role(
        [
            allow("kinesis:GetShardIterator", [arn + readable, arn + other]),
            allow("kinesis:GetRecords", arn + readable),
        ]
    )
    reader = gate.as_role(role)("kinesis")

    def iterator(stream: str) -> str:
        return reader.get_shard_iterator(
            StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    page = reader.get_records(ShardIterator=iterator(readable))
    reader.get_records(ShardIterator=page["NextShardIterator"])  # the next one is known too
    message = refused(reader.get_records, ShardIterator=iterator(other))["Error"]["Message"]
    assert f"kinesis:GetRecords on resource: {arn}{other} because" in message


def test_secrets_and_logs_resources(gate: Gate) -> None:
    secret = f"app/{uuid.uuid4().hex[:8]}"
    gate.admin("secretsmanager").create_secret(Name=secret, SecretString="s3cret")
    group = f"/g/{uuid.uuid4().hex[:8]}"
    gate.admin("logs").create_log_group(logGroupName=group)
    role = gate.role(
        [
            allow(
                "secretsmanager:GetSecretValue",
                f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret}",
            ),
            allow(
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:*",
            ),
        ]
    )
    act = gate.as_role(role)
    assert act("secretsmanager").get_secret_value(SecretId=secret)["SecretString"] == "s3cret"
    logs = act("logs")
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_log_events(
        logGroupName=group, logStreamName="s", logEvents=[{"timestamp": 1, "message": "m"}]
    )
    message = refused(logs.describe_log_streams, logGroupName=group)["Error"]["Message"]
    assert (
        f"logs:DescribeLogStreams on resource: arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:*"
        in message
    )


def test_query_protocol_services_answer_access_denied(gate: Gate) -> None:
    act = gate.as_role(gate.role([]))
    response = refused(act("iam").list_roles)
    assert response["Error"]["Code"] == "AccessDenied"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "iam:ListRoles" in response["Error"]["Message"]


def test_sqs_answers_its_own_code(gate: Gate) -> None:
    url = gate.admin("sqs").create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{url.rsplit('/', 1)[1]}"
    sqs = gate.as_role(gate.role([allow("sqs:SendMessage", queue_arn)]))("sqs")
    sqs.send_message(QueueUrl=url, MessageBody="m")
    response = refused(sqs.receive_message, QueueUrl=url)
    assert response["Error"]["Code"] == "AccessDenied"
    assert f"sqs:ReceiveMessage on resource: {queue_arn}" in response["Error"]["Message"]


def test_who_am_i_needs_no_permission(gate: Gate) -> None:
    role = gate.role([])
    identity = gate.as_role(role)("sts").get_caller_identity()
    assert identity["Arn"].endswith(f":assumed-role/{role.rsplit('/', 1)[1]}/test")


def test_bad_token_bad_signature_and_expiry_are_refused(gate: Gate, clock: Clock) -> None:
    name = table(gate)
    got = gate.credentials(gate.role([allow("dynamodb:*", "*")]))

    def client(secret: str, token: str) -> Any:
        return boto3.client(
            "dynamodb",
            endpoint_url=gate.endpoint_url,
            region_name=REGION,
            aws_access_key_id=got["AccessKeyId"],
            aws_secret_access_key=secret,
            aws_session_token=token,
        )

    good = client(got["SecretAccessKey"], got["SessionToken"])
    good.describe_table(TableName=name)
    codes = [
        refused(client(got["SecretAccessKey"], "forged").describe_table, TableName=name),
        refused(
            client("wrong" + got["SecretAccessKey"], got["SessionToken"]).describe_table,
            TableName=name,
        ),
    ]
    assert [c["Error"]["Code"] for c in codes] == [
        "UnrecognizedClientException",
        "InvalidSignatureException",
    ]
    clock.offset = 3601
    response = refused(good.describe_table, TableName=name)
    assert response["Error"]["Code"] == "ExpiredTokenException"


def test_other_keys_are_not_evaluated_and_policy_changes_apply(gate: Gate) -> None:
    name = table(gate)
    gate.admin("dynamodb").put_item(TableName=name, Item=ITEM)  # the administrator
    role = gate.role([])
    ddb = gate.as_role(role)("dynamodb")
    refused(ddb.get_item, TableName=name, Key={"k": {"S": "1"}})
    document = {"Version": "2012-10-17", "Statement": [allow("dynamodb:GetItem", table_arn(name))]}
    gate.admin("iam").put_role_policy(
        RoleName=role.rsplit("/", 1)[1], PolicyName="late", PolicyDocument=json.dumps(document)
    )
    assert ddb.get_item(TableName=name, Key={"k": {"S": "1"}})["Item"] == ITEM
