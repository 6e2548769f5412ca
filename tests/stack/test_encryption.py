"""stack/encryption.py: one stack key encrypts what the stack stores; its policy lets
CloudWatch Logs use it for this stack's groups only; every role that reads or writes an
encrypted resource may use it through that resource's service, and no other role may."""

from __future__ import annotations

import json
from typing import Any

import pytest
from troposphere import If, Ref, Template

from stack.encryption import KEY_USE, LOG_GROUP_ARN, grant_key_use, key_use
from stack.iam import role, statement
from tests.stack.conftest import of_type

KEY_ARN = {"Fn::GetAtt": ["StackKey", "Arn"]}


def test_one_key_rotating_and_gone_with_the_stack(resources: dict[str, Any]) -> None:
    """One customer managed key, rotated yearly, deleted (after 7 days) with the stack."""
    (key_id,) = of_type(resources, "AWS::KMS::Key")
    key = resources[key_id]
    assert key_id == "StackKey"
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["Properties"]["RotationPeriodInDays"] == 365
    assert key["Properties"]["PendingWindowInDays"] == 7
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Delete"


def test_everything_stored_uses_the_stack_key(resources: dict[str, Any]) -> None:
    """Log groups, tables, queue, secret and function environments; the stream keeps
    the AWS managed aws/kinesis key."""
    for name, group in of_type(resources, "AWS::Logs::LogGroup").items():
        assert group["Properties"]["KmsKeyId"] == KEY_ARN, name
    for name, table in of_type(resources, "AWS::DynamoDB::Table").items():
        assert table["Properties"]["SSESpecification"] == {
            "SSEEnabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": KEY_ARN,
        }, name
    for name, queue in of_type(resources, "AWS::SQS::Queue").items():
        assert queue["Properties"]["KmsMasterKeyId"] == KEY_ARN, name
        assert "SqsManagedSseEnabled" not in queue["Properties"], name
    for name, secret in of_type(resources, "AWS::SecretsManager::Secret").items():
        assert secret["Properties"]["KmsKeyId"] == KEY_ARN, name
    for name, function in of_type(resources, "AWS::Lambda::Function").items():
        assert function["Properties"]["KmsKeyArn"] == KEY_ARN, name
    (stream,) = of_type(resources, "AWS::Kinesis::Stream").values()
    assert stream["Properties"]["StreamEncryption"]["KeyId"] == "alias/aws/kinesis"


def test_key_policy(resources: dict[str, Any]) -> None:
    """The account's IAM decides; CloudWatch Logs only for exactly this stack's log
    groups (the encryption context AWS documents); CloudWatch alarms may encrypt what
    they publish to the alarm topic; DynamoDB reads metadata; no one else."""
    statements = resources["StackKey"]["Properties"]["KeyPolicy"]["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    assert set(by_sid) == {
        "AccountIamPoliciesDecide",
        "CloudWatchLogsForThisStacksGroups",
        "CloudWatchAlarmsPublishToTheAlarmTopic",
        "DynamoDBReadsKeyMetadata",
    }
    assert by_sid["AccountIamPoliciesDecide"]["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    }
    logs = by_sid["CloudWatchLogsForThisStacksGroups"]
    assert logs["Principal"] == {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}}
    groups = of_type(resources, "AWS::Logs::LogGroup").values()
    expected = [
        {"Fn::Sub": LOG_GROUP_ARN + g["Properties"]["LogGroupName"]["Fn::Sub"]} for g in groups
    ]
    condition = logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    assert sorted(map(json.dumps, condition)) == sorted(map(json.dumps, expected))
    alarms = by_sid["CloudWatchAlarmsPublishToTheAlarmTopic"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert by_sid["DynamoDBReadsKeyMetadata"]["Principal"] == {"Service": "dynamodb.amazonaws.com"}
    metadata_actions = by_sid["DynamoDBReadsKeyMetadata"]["Action"]
    assert all(a.startswith(("kms:Describe", "kms:Get", "kms:List")) for a in metadata_actions)
    assert all(s["Principal"] != "*" and s["Principal"] != {"AWS": "*"} for s in statements)


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for policy in role["Properties"]["Policies"]:
        for entry in policy["PolicyDocument"]["Statement"]:
            out.append(entry["Fn::If"][1] if "Fn::If" in entry else entry)
    return out


@pytest.mark.parametrize("service", sorted(KEY_USE))
def test_key_use_only_through_the_service_whose_resource_the_role_uses(
    resources: dict[str, Any], service: str
) -> None:
    """A role may use the key through a service exactly when it has actions of that
    service; always on the key, always with kms:ViaService."""
    via = {"Fn::Sub": f"{service}.${{AWS::Region}}.amazonaws.com"}
    for name, role_resource in of_type(resources, "AWS::IAM::Role").items():
        statements = _statements(role_resource)
        uses_service = any(a.startswith(f"{service}:") for s in statements for a in s["Action"])
        key_uses = [
            s
            for s in statements
            if s.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService") == via
        ]
        assert len(key_uses) == (1 if uses_service else 0), name
        for s in key_uses:
            assert s["Resource"] == [KEY_ARN]
            assert s["Action"] == sorted(KEY_USE[service])
    kms_statements = [
        s
        for r in of_type(resources, "AWS::IAM::Role").values()
        for s in _statements(r)
        if any(a.startswith("kms:") for a in s["Action"])
    ]
    assert all("kms:ViaService" in s["Condition"]["StringEquals"] for s in kms_statements)


def test_key_use_keeps_the_condition_of_what_it_serves() -> None:
    """A statement under Fn::If (the stream's queue) gets its key use under the same
    Fn::If; two statements of one service give one key use; other services give none."""
    t = Template()
    queue_send = statement(["sqs:SendMessage"], ["arn:aws:sqs:us-east-1:1:q"])
    t.add_resource(
        role(
            "R",
            "lambda.amazonaws.com",
            "p",
            [
                statement(["dynamodb:PutItem"], ["arn:aws:dynamodb:us-east-1:1:table/a"]),
                statement(["dynamodb:Query"], ["arn:aws:dynamodb:us-east-1:1:table/b"]),
                statement(["kinesis:PutRecord"], ["arn:aws:kinesis:us-east-1:1:stream/s"]),
                If("StreamEnabled", queue_send, Ref("AWS::NoValue")),
            ],
        )
    )
    grant_key_use(t)
    added = t.to_dict()["Resources"]["R"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ][4:]
    assert added == [
        _plain(key_use("dynamodb")),
        {"Fn::If": ["StreamEnabled", _plain(key_use("sqs")), {"Ref": "AWS::NoValue"}]},
    ]


def _plain(statement: dict[str, Any]) -> dict[str, Any]:
    """A statement with troposphere helpers turned into template JSON."""
    t = Template()
    t.add_resource(role("X", "lambda.amazonaws.com", "p", [statement]))
    return t.to_dict()["Resources"]["X"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ][0]
