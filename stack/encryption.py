"""The stack key: one customer managed KMS key for what the stack stores.

The log groups, the tables, the failure queues, the alarm topic, the token secret and
the functions' environment variables are encrypted with it (the Kinesis stream keeps the
AWS managed ``aws/kinesis`` key; docs/deploy.md, "Security posture", says why one key
and what it costs).

Who may use it is decided in two places, as AWS KMS evaluates them
(https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html):
- the key policy lets this account's IAM policies grant its use, lets CloudWatch Logs
  use it for this stack's log groups only, lets CloudWatch alarms publish to the
  encrypted alarm topic, and lets DynamoDB read the key's metadata;
- each role that reads or writes an encrypted table, queue or secret gets a statement
  allowing the key through that service only (``kms:ViaService``), added by
  ``grant_key_use`` from the role's own statements, so a new role cannot forget it.
Lambda (environment variables) and DynamoDB (tables) create their own grants with the
deployer's permissions when the resource is created.
"""

from __future__ import annotations

import json
from typing import Any

from troposphere import GetAtt, If, Sub, Template, encode_to_dict, kms

from stack.iam import Statement

STACK_KEY = "StackKey"
# Days between the key's automatic rotations (AWS's default; it allows 90 to 2560).
ROTATION_DAYS = 365
# Days a deleted stack's key waits before it is gone (AWS's minimum, 7, so `make
# destroy` leaves nothing for long; during that time the key can be restored).
DELETION_WINDOW_DAYS = 7

# What a role needs of the key to use each encrypted resource, by the service prefix of
# the role's statement, per each service's page:
# - DynamoDB: the actions AWS's key policy example gives the principals using a table
#   (CreateGrant only for whoever creates it: the deployer)
#   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html
# - SQS: a producer needs GenerateDataKey and Decrypt
#   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
# - Secrets Manager: GetSecretValue needs Decrypt
#   https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html
KEY_USE: dict[str, list[str]] = {
    "dynamodb": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
    "sqs": ["kms:Decrypt", "kms:GenerateDataKey"],
    "secretsmanager": ["kms:Decrypt"],
}


LOG_GROUP_ARN = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"


def key_arn() -> GetAtt:
    """The stack key's ARN, for every KmsKeyId / KmsKeyArn / KMSMasterKeyId."""
    return GetAtt(STACK_KEY, "Arn")


def key_use(service: str) -> Statement:
    """Allow what ``service`` needs of the stack key, only through that service."""
    return {
        "Effect": "Allow",
        "Action": sorted(KEY_USE[service]),
        "Resource": [key_arn()],
        "Condition": {
            "StringEquals": {"kms:ViaService": Sub(f"{service}.${{AWS::Region}}.amazonaws.com")}
        },
    }


def _log_group_arns(t: Template) -> list[Sub]:
    """The ARN (without ``:*``) of every log group the template declares."""
    arns = []
    for resource in t.resources.values():
        if resource.resource_type == "AWS::Logs::LogGroup":
            name = resource.to_dict()["Properties"]["LogGroupName"]["Fn::Sub"]
            arns.append(Sub(LOG_GROUP_ARN + name))
    return arns


def key_policy(t: Template) -> dict[str, Any]:
    """The account administers the key through IAM; CloudWatch Logs may use it for this
    stack's log groups; DynamoDB may read its metadata."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                # Without it nobody, not even the account's administrators, could manage
                # the key; with it, IAM policies decide (the roles' key_use statements).
                "Sid": "AccountIamPoliciesDecide",
                "Effect": "Allow",
                "Principal": {"AWS": Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                # Encrypt log data in CloudWatch Logs using AWS KMS, step 2:
                # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
                "Sid": "CloudWatchLogsForThisStacksGroups",
                "Effect": "Allow",
                "Principal": {"Service": Sub("logs.${AWS::Region}.amazonaws.com")},
                "Action": [
                    "kms:Decrypt*",
                    "kms:Describe*",
                    "kms:Encrypt*",
                    "kms:GenerateDataKey*",
                    "kms:ReEncrypt*",
                ],
                "Resource": "*",
                "Condition": {
                    "ArnEquals": {"kms:EncryptionContext:aws:logs:arn": _log_group_arns(t)}
                },
            },
            {
                # CloudWatch alarms publish to AlarmTopic, which this key encrypts: the
                # key policy statement of "Enable compatibility between event sources
                # from AWS services and encrypted topics",
                # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
                "Sid": "CloudWatchAlarmsPublishToTheAlarmTopic",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
            },
            {
                # DynamoDB checks the key it encrypts a table with (the key policy example of
                # encryption.howitworks.html, "Allow DynamoDB to get information about the key").
                "Sid": "DynamoDBReadsKeyMetadata",
                "Effect": "Allow",
                "Principal": {"Service": "dynamodb.amazonaws.com"},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                "Resource": "*",
            },
        ],
    }


def add_stack_key(t: Template) -> None:
    """StackKey, with a policy naming every log group: add it after the other parts."""
    t.add_resource(
        kms.Key(
            STACK_KEY,
            Description=Sub("Serverless chat ${AWS::StackName}: logs, tables, queue, secret, env"),
            EnableKeyRotation=True,
            RotationPeriodInDays=ROTATION_DAYS,
            PendingWindowInDays=DELETION_WINDOW_DAYS,
            KeyPolicy=key_policy(t),
        )
    )


def _derived(statement: Any) -> list[Any]:
    """The key_use statements one role statement implies (kept under the same Fn::If)."""
    if isinstance(statement, If):
        condition, then, otherwise = statement.data["Fn::If"]
        return [If(condition, s, otherwise) for s in _derived(then)]
    actions = statement.get("Action", [])
    services = {a.split(":", 1)[0] for a in ([actions] if isinstance(actions, str) else actions)}
    return [key_use(s) for s in sorted(services) if s in KEY_USE]


def grant_key_use(t: Template) -> None:
    """Give every role the key_use statements its statements imply: a role that may put
    items in a table may use the key through DynamoDB, and so on. A key use the role
    needs unconditionally makes the same one under an Fn::If redundant."""
    for resource in t.resources.values():
        if resource.resource_type != "AWS::IAM::Role":
            continue
        for policy in resource.properties.get("Policies", []):
            statements = policy.PolicyDocument["Statement"]
            derived = [s for stmt in statements for s in _derived(stmt)]
            always = {_text(s) for s in derived if not isinstance(s, If)}
            seen: set[str] = set()
            for statement in derived:
                text = _text(statement)
                inner = _text(statement.data["Fn::If"][1]) if isinstance(statement, If) else text
                if text in seen or (isinstance(statement, If) and inner in always):
                    continue
                seen.add(text)
                statements.append(statement)


def _text(statement: Any) -> str:
    return json.dumps(encode_to_dict(statement), sort_keys=True)
