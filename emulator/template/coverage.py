"""Which properties of each emulated type the emulator honours, so the start-up report
can name every property it ignores (a template written for AWS may rely on any of them).

Naming properties (TableName, FunctionName, ...) are honoured by every type: they give
the local physical names (emulator.template.naming).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from emulator.template.naming import GENERIC_NAME_PROPERTIES, NAME_PROPERTIES

HONOURED: dict[str, frozenset[str]] = {
    "AWS::DynamoDB::Table": frozenset(
        {
            "KeySchema",
            "AttributeDefinitions",
            "BillingMode",
            "ProvisionedThroughput",
            "GlobalSecondaryIndexes",
            "LocalSecondaryIndexes",
            "StreamSpecification",
            "Tags",
            "TimeToLiveSpecification",
        }
    ),
    "AWS::Kinesis::Stream": frozenset({"ShardCount", "RetentionPeriodHours", "StreamModeDetails"}),
    "AWS::SecretsManager::Secret": frozenset(
        {"SecretString", "GenerateSecretString", "Description", "Tags"}
    ),
    "AWS::SQS::Queue": frozenset(
        {
            "DelaySeconds",
            "MaximumMessageSize",
            "MessageRetentionPeriod",
            "ReceiveMessageWaitTimeSeconds",
            "VisibilityTimeout",
            "FifoQueue",
            "ContentBasedDeduplication",
            "DeduplicationScope",
            "FifoThroughputLimit",
            "RedrivePolicy",
            "RedriveAllowPolicy",
        }
    ),
    "AWS::Logs::LogGroup": frozenset({"RetentionInDays"}),
    "AWS::SNS::Topic": frozenset({"DisplayName", "FifoTopic", "ContentBasedDeduplication", "Tags"}),
    "AWS::S3::Bucket": frozenset({"Tags"}),
    "AWS::KinesisFirehose::DeliveryStream": frozenset(
        {
            "DeliveryStreamType",
            "S3DestinationConfiguration",
            "ExtendedS3DestinationConfiguration",
            "Tags",
        }
    ),
    "AWS::StepFunctions::StateMachine": frozenset(
        {"Definition", "DefinitionString", "RoleArn", "StateMachineType"}
    ),
    "AWS::Lambda::Function": frozenset(
        {
            "Code",
            "Handler",
            "Runtime",
            "Role",
            "Environment",
            "Timeout",
            "MemorySize",
            "ReservedConcurrentExecutions",
            "LoggingConfig",
            "Layers",
        }
    ),
    "AWS::Lambda::EventSourceMapping": frozenset(
        {
            "FunctionName",
            "EventSourceArn",
            "Enabled",
            "DestinationConfig",
            "StartingPosition",
            "StartingPositionTimestamp",
            "BatchSize",
            "MaximumBatchingWindowInSeconds",
            "FunctionResponseTypes",
            "BisectBatchOnFunctionError",
            "MaximumRetryAttempts",
            "MaximumRecordAgeInSeconds",
        }
    ),
    "AWS::Lambda::EventInvokeConfig": frozenset(
        {
            "FunctionName",
            "Qualifier",
            "DestinationConfig",
            "MaximumRetryAttempts",
            "MaximumEventAgeInSeconds",
        }
    ),
    "AWS::Lambda::Url": frozenset({"TargetFunctionArn", "AuthType", "Cors"}),
    "AWS::Lambda::LayerVersion": frozenset({"Content", "CompatibleRuntimes"}),
    "AWS::Lambda::Permission": frozenset(
        {
            "FunctionName",
            "Action",
            "Principal",
            "SourceArn",
            "SourceAccount",
            "FunctionUrlAuthType",
            "InvokedViaFunctionUrl",
        }
    ),
    "AWS::IAM::Role": frozenset(
        {
            "AssumeRolePolicyDocument",
            "Policies",
            "ManagedPolicyArns",
            "MaxSessionDuration",
            "PermissionsBoundary",
            "Path",
            "Description",
        }
    ),
    "AWS::IoT::TopicRule": frozenset({"TopicRulePayload"}),
    "AWS::IoT::Authorizer": frozenset(
        {"AuthorizerFunctionArn", "Status", "SigningDisabled", "TokenKeyName"}
    ),
    "AWS::IoT::DomainConfiguration": frozenset(
        {"AuthorizerConfig", "DomainConfigurationName", "DomainConfigurationStatus", "ServiceType"}
    ),
}


def ignored_properties(type_: str, properties: Iterable[str]) -> list[str]:
    """The properties of one resource of ``type_`` that the emulator does not honour."""
    honoured = HONOURED.get(type_, frozenset())
    names = {NAME_PROPERTIES.get(type_), *GENERIC_NAME_PROPERTIES}
    return sorted(p for p in properties if p not in honoured and p not in names)


def ignored_report(resources: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """``Logical.Property`` for every ignored property of the given raw resources."""
    found = []
    for logical_id, declared in resources.items():
        type_ = str(declared.get("Type"))
        if type_ not in HONOURED:
            continue
        for prop in ignored_properties(type_, (declared.get("Properties") or {}).keys()):
            found.append(f"{logical_id}.{prop}")
    return found
