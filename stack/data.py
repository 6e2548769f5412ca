"""What the chat keeps: its tables (messages, people, connections), the stream and its
failure queue, the signing key.

Keys, index and TTL attribute are the ones docs/internals.md fixes and lambdas/chatlib
reads and writes.
"""

from __future__ import annotations

from typing import Any

from troposphere import Ref, Sub, Template, kinesis, sqs
from troposphere import dynamodb as ddb
from troposphere import secretsmanager as sm

from stack.encryption import key_arn
from stack.findings import PRESENCE_NOT_BACKED_UP, skipped
from stack.parameters import STREAM_ENABLED

# How long a failed stream batch waits in the queue for someone to look at it: 14 days,
# the most SQS keeps a message.
FAILURE_RETENTION_SECONDS = 14 * 24 * 3600


def stack_key_sse() -> ddb.SSESpecification:
    """A table encrypted with the stack key rather than DynamoDB's AWS owned key."""
    return ddb.SSESpecification(SSEEnabled=True, SSEType="KMS", KMSMasterKeyId=key_arn())


def expiring_encrypted(backed_up: bool) -> dict[str, Any]:
    """A table's common properties: items expire at their ``expiresAt`` (TTL), the stack
    key encrypts it, and point-in-time recovery follows EnablePointInTimeRecovery when
    its items are worth restoring."""
    props: dict[str, Any] = {
        "TimeToLiveSpecification": ddb.TimeToLiveSpecification(
            AttributeName="expiresAt", Enabled=True
        ),
        "SSESpecification": stack_key_sse(),
    }
    if backed_up:
        props["PointInTimeRecoverySpecification"] = ddb.PointInTimeRecoverySpecification(
            PointInTimeRecoveryEnabled=Ref("EnablePointInTimeRecovery")
        )
    return props


def add_data(t: Template) -> None:
    """MessagesTable, PeopleTable, ConnectionsTable, ChatStream, StreamFailureQueue,
    TokenSecret: all encrypted with the stack key but the stream (the AWS managed
    aws/kinesis key)."""
    t.add_resource(
        ddb.Table(
            "MessagesTable",
            TableName=Sub("${AWS::StackName}-messages"),
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                ddb.AttributeDefinition(AttributeName="room", AttributeType="S"),
                ddb.AttributeDefinition(AttributeName="sk", AttributeType="S"),
                ddb.AttributeDefinition(AttributeName="id", AttributeType="S"),
            ],
            KeySchema=[
                ddb.KeySchema(AttributeName="room", KeyType="HASH"),
                ddb.KeySchema(AttributeName="sk", KeyType="RANGE"),
            ],
            # Edits and deletes find a message by its id (clients know no sort key).
            GlobalSecondaryIndexes=[
                ddb.GlobalSecondaryIndex(
                    IndexName="id-index",
                    KeySchema=[ddb.KeySchema(AttributeName="id", KeyType="HASH")],
                    Projection=ddb.Projection(ProjectionType="KEYS_ONLY"),
                )
            ],
            **expiring_encrypted(backed_up=True),
        )
    )
    # Profiles, private rooms and memberships (lambdas/chatlib/people.py).
    t.add_resource(
        ddb.Table(
            "PeopleTable",
            TableName=Sub("${AWS::StackName}-people"),
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                ddb.AttributeDefinition(AttributeName="pk", AttributeType="S"),
                ddb.AttributeDefinition(AttributeName="sk", AttributeType="S"),
            ],
            KeySchema=[
                ddb.KeySchema(AttributeName="pk", KeyType="HASH"),
                ddb.KeySchema(AttributeName="sk", KeyType="RANGE"),
            ],
            **expiring_encrypted(backed_up=True),
        )
    )
    t.add_resource(
        ddb.Table(
            "ConnectionsTable",
            TableName=Sub("${AWS::StackName}-connections"),
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                ddb.AttributeDefinition(AttributeName="clientId", AttributeType="S"),
                ddb.AttributeDefinition(AttributeName="room", AttributeType="S"),
                ddb.AttributeDefinition(AttributeName="sender", AttributeType="S"),
            ],
            KeySchema=[ddb.KeySchema(AttributeName="clientId", KeyType="HASH")],
            GlobalSecondaryIndexes=[
                ddb.GlobalSecondaryIndex(
                    IndexName="room-index",
                    KeySchema=[
                        ddb.KeySchema(AttributeName="room", KeyType="HASH"),
                        ddb.KeySchema(AttributeName="clientId", KeyType="RANGE"),
                    ],
                    Projection=ddb.Projection(ProjectionType="ALL"),
                ),
                # A removed member's connections, to close them (DeleteConnection).
                ddb.GlobalSecondaryIndex(
                    IndexName="sender-index",
                    KeySchema=[
                        ddb.KeySchema(AttributeName="sender", KeyType="HASH"),
                        ddb.KeySchema(AttributeName="clientId", KeyType="RANGE"),
                    ],
                    Projection=ddb.Projection(
                        ProjectionType="INCLUDE", NonKeyAttributes=["status"]
                    ),
                ),
            ],
            **expiring_encrypted(backed_up=False),
            Metadata=skipped(PRESENCE_NOT_BACKED_UP),
        )
    )
    t.add_resource(
        kinesis.Stream(
            "ChatStream",
            Condition=STREAM_ENABLED,
            StreamModeDetails=kinesis.StreamModeDetails(StreamMode="ON_DEMAND"),
            StreamEncryption=kinesis.StreamEncryption(
                EncryptionType="KMS", KeyId="alias/aws/kinesis"
            ),
            RetentionPeriodHours=24,
        )
    )
    t.add_resource(
        sqs.Queue(
            "StreamFailureQueue",
            Condition=STREAM_ENABLED,
            KmsMasterKeyId=key_arn(),
            MessageRetentionPeriod=FAILURE_RETENTION_SECONDS,
        )
    )
    # The secret string is the HS256 key; CloudFormation generates it, nobody sees it.
    t.add_resource(
        sm.Secret(
            "TokenSecret",
            Name=Sub("${AWS::StackName}/token-signing-key"),
            Description="HS256 key signing the chat's guest tokens",
            KmsKeyId=key_arn(),
            GenerateSecretString=sm.GenerateSecretString(
                PasswordLength=64, ExcludePunctuation=True
            ),
        )
    )
