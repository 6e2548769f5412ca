"""Every role the template declares (functions.py, rules.py, built with stack/iam.py)
allows exactly what is written here, and is trusted by its one service only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.stack.conftest import of_type, role_statements


def _grants(role: dict[str, Any]) -> set[tuple[str, str]]:
    """(action, resource) pairs a role allows; resources as compact JSON."""
    pairs = set()
    for stmt in role_statements(role):
        assert stmt["Effect"] == "Allow"
        actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
        res = stmt["Resource"] if isinstance(stmt["Resource"], list) else [stmt["Resource"]]
        for action in actions:
            assert "*" not in action, f"wildcard action {action}"
            for r in res:
                pairs.add((action, json.dumps(r, sort_keys=True)))
    return pairs


def att(name: str) -> str:
    """JSON of GetAtt name.Arn."""
    return json.dumps({"Fn::GetAtt": [name, "Arn"]})


def sub(text: str) -> str:
    """JSON of Fn::Sub text."""
    return json.dumps({"Fn::Sub": text})


def topic(pattern: str) -> str:
    """JSON of a topic ARN under TopicRoot."""
    return sub(
        "arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:topic/${TopicRoot}/" + pattern
    )


def grant(actions: list[str], *resources: str) -> set[tuple[str, str]]:
    """Expected (action, resource) pairs."""
    return {(a, r) for a in actions for r in resources}


# connections.py updates items by key and queries the room index, nothing more.
CONNECTIONS_RW = grant(["dynamodb:UpdateItem"], att("ConnectionsTable")) | grant(
    ["dynamodb:Query"], sub("${ConnectionsTable.Arn}/index/room-index")
)
STREAM_READ = [
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
]
LOG_WRITE = ["logs:CreateLogStream", "logs:PutLogEvents"]
SECRET = json.dumps({"Ref": "TokenSecret"})
# The stack key, through the service of each encrypted resource a role uses (the
# kms:ViaService condition of each is checked in test_encryption.py).
KEY = att("StackKey")
KEY_VIA_DYNAMODB = grant(
    ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"], KEY
)
KEY_VIA_SQS = grant(["kms:Decrypt", "kms:GenerateDataKey"], KEY)
KEY_VIA_SECRETS_MANAGER = grant(["kms:Decrypt"], KEY)

EXPECTED_GRANTS: dict[str, set[tuple[str, str]]] = {
    "StoreRuleRole": grant(["dynamodb:PutItem"], att("MessagesTable")) | KEY_VIA_DYNAMODB,
    "RepublishRuleRole": grant(["iot:Publish"], topic("pub/*")),
    "StreamRuleRole": grant(["kinesis:PutRecord"], att("ChatStream")),
    "RuleErrorsRole": grant([*LOG_WRITE, "logs:DescribeLogStreams"], att("RuleErrorsLogGroup")),
    "AuthorizerFunctionRole": grant(LOG_WRITE, att("AuthorizerLogGroup"))
    | grant(["secretsmanager:GetSecretValue"], SECRET)
    | grant(["dynamodb:Query"], att("PeopleTable"))  # the principal's memberships
    | KEY_VIA_SECRETS_MANAGER
    | KEY_VIA_DYNAMODB,
    "TokenFunctionRole": grant(LOG_WRITE, att("TokenLogGroup"))
    | grant(["secretsmanager:GetSecretValue"], SECRET)
    | grant(["dynamodb:UpdateItem"], att("RateLimitTable"))
    | KEY_VIA_SECRETS_MANAGER
    | KEY_VIA_DYNAMODB,
    "ChatFunctionRole": grant(LOG_WRITE, att("ChatLogGroup"))
    # pages; DMs and private rooms' messages, edits and deletes (public ones: the store
    # rule writes them)
    | grant(["dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"], att("MessagesTable"))
    | grant(["dynamodb:Query"], sub("${MessagesTable.Arn}/index/id-index"))
    | grant(
        ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
        att("PeopleTable"),
    )
    | grant(["dynamodb:UpdateItem"], att("PeopleTable"))
    | CONNECTIONS_RW
    | grant(["dynamodb:Query"], sub("${ConnectionsTable.Arn}/index/sender-index"))
    | grant(["iot:Publish"], topic("in/*"), topic("pub/*"), topic("user/*"), topic("priv/*"))
    | grant(
        ["iot:DeleteConnection"],
        sub("arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:client/*"),
    )
    | grant(STREAM_READ, att("ChatStream"))
    | grant(["sqs:SendMessage"], att("StreamFailureQueue"), att("AsyncFailureQueue"))
    | KEY_VIA_DYNAMODB
    | KEY_VIA_SQS,
    "PresenceFunctionRole": grant(LOG_WRITE, att("PresenceLogGroup"))
    | CONNECTIONS_RW
    | grant(["iot:Publish"], topic("pub/*"))
    | grant(["sqs:SendMessage"], att("AsyncFailureQueue"))
    | KEY_VIA_DYNAMODB
    | KEY_VIA_SQS,
}


def test_every_role_is_expected(resources: dict[str, Any]) -> None:
    """No role appears without its least-privilege expectation written here."""
    assert set(of_type(resources, "AWS::IAM::Role")) == set(EXPECTED_GRANTS)


@pytest.mark.parametrize("role_id", sorted(EXPECTED_GRANTS))
def test_role_grants_exactly(resources: dict[str, Any], role_id: str) -> None:
    """Each role allows exactly its actions on exactly its resources, nothing managed."""
    role = resources[role_id]
    assert "ManagedPolicyArns" not in role["Properties"]
    assert _grants(role) == EXPECTED_GRANTS[role_id]


@pytest.mark.parametrize(
    ("role_id", "service"),
    [(r, "iot.amazonaws.com") for r in EXPECTED_GRANTS if "Rule" in r]
    + [(r, "lambda.amazonaws.com") for r in EXPECTED_GRANTS if "Function" in r],
)
def test_role_trusts_only_its_service(
    resources: dict[str, Any], role_id: str, service: str
) -> None:
    """Rule roles are assumed by IoT, function roles by Lambda, nobody else."""
    (stmt,) = resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert stmt["Principal"] == {"Service": service}
    assert stmt["Action"] == "sts:AssumeRole"
