"""Create in moto what the template declares, translating CloudFormation properties.

Property names mostly match the API shapes; the differences (TTL, stream mode, SQS
attributes, secret generation, role policies) are spelled out here so a template
change shows up as a clear failure rather than a silently different table.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulator.aws.secret_values import generate_secret_string
from emulator.template import Resource, Template

log = logging.getLogger("emulator.aws")

ClientFactory = Callable[[str], Any]


class NotEmulated(Exception):
    """A resource the emulator cannot create as declared: ``what`` it is, and why not."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(why)
        self.what = what


_PROVISIONED_TYPES = (
    "AWS::IAM::Role",
    "AWS::DynamoDB::Table",
    "AWS::Kinesis::Stream",
    "AWS::SecretsManager::Secret",
    "AWS::SQS::Queue",
    "AWS::Logs::LogGroup",
    "AWS::SNS::Topic",
    "AWS::StepFunctions::StateMachine",
    "AWS::S3::Bucket",
    "AWS::KinesisFirehose::DeliveryStream",  # after the buckets it delivers to
)


@dataclass
class Provisioned:
    """What was created, by type, for the startup report and for tests."""

    created: dict[str, list[str]] = field(default_factory=dict)

    def add(self, resource: Resource) -> None:
        """Record one created resource under its type."""
        self.created.setdefault(resource.type, []).append(resource.physical_id)


def _throughput(spec: dict[str, Any] | None) -> dict[str, int]:
    spec = spec or {}
    return {
        "ReadCapacityUnits": int(spec.get("ReadCapacityUnits", 5)),
        "WriteCapacityUnits": int(spec.get("WriteCapacityUnits", 5)),
    }


def _index(spec: dict[str, Any], on_demand: bool) -> dict[str, Any]:
    index = {k: spec[k] for k in ("IndexName", "KeySchema", "Projection") if k in spec}
    if not on_demand:
        index["ProvisionedThroughput"] = _throughput(spec.get("ProvisionedThroughput"))
    return index


def create_table(dynamodb: Any, resource: Resource) -> None:
    """CreateTable with keys, indexes, billing and stream, then TTL."""
    props = resource.properties
    on_demand = props.get("BillingMode", "PROVISIONED") == "PAY_PER_REQUEST"
    request: dict[str, Any] = {
        "TableName": resource.physical_id,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST" if on_demand else "PROVISIONED",
    }
    if not on_demand:
        request["ProvisionedThroughput"] = _throughput(props.get("ProvisionedThroughput"))
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if props.get(key):
            request[key] = [
                _index(i, on_demand or key == "LocalSecondaryIndexes") for i in props[key]
            ]
    stream = props.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, **stream}
    if props.get("Tags"):
        request["Tags"] = props["Tags"]
    dynamodb.create_table(**request)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and str(ttl.get("Enabled", False)).lower() == "true":
        dynamodb.update_time_to_live(
            TableName=resource.physical_id,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )


def create_stream(kinesis: Any, resource: Resource) -> None:
    """CreateStream in ON_DEMAND or provisioned mode, and the retention period."""
    props = resource.properties
    mode = (props.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
    if mode == "ON_DEMAND":
        kinesis.create_stream(
            StreamName=resource.physical_id, StreamModeDetails={"StreamMode": "ON_DEMAND"}
        )
    else:
        kinesis.create_stream(
            StreamName=resource.physical_id, ShardCount=int(props.get("ShardCount", 1))
        )
    hours = int(props.get("RetentionPeriodHours", 24))
    if hours > 24:
        kinesis.increase_stream_retention_period(
            StreamName=resource.physical_id, RetentionPeriodHours=hours
        )


def create_secret(secretsmanager: Any, resource: Resource) -> None:
    """CreateSecret with the given SecretString or one generated locally."""
    props = resource.properties
    if "SecretString" in props:
        value = str(props["SecretString"])
    else:
        value = generate_secret_string(props.get("GenerateSecretString") or {})
    request: dict[str, Any] = {"Name": resource.physical_id, "SecretString": value}
    if props.get("Description"):
        request["Description"] = props["Description"]
    if props.get("Tags"):
        request["Tags"] = props["Tags"]
    secretsmanager.create_secret(**request)


_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)


def create_queue(sqs: Any, resource: Resource) -> None:
    """CreateQueue; CloudFormation's typed properties become string attributes."""
    props = resource.properties
    attributes = {
        k: str(props[k]).lower() if isinstance(props[k], bool) else str(props[k])
        for k in _QUEUE_ATTRIBUTES
        if k in props
    }
    for key in ("RedrivePolicy", "RedriveAllowPolicy"):
        if key in props:
            value = props[key]
            attributes[key] = value if isinstance(value, str) else json.dumps(value)
    sqs.create_queue(QueueName=resource.physical_id, Attributes=attributes)


def create_log_group(logs: Any, resource: Resource) -> None:
    """CreateLogGroup and its retention."""
    logs.create_log_group(logGroupName=resource.physical_id)
    days = resource.properties.get("RetentionInDays")
    if days is not None:
        logs.put_retention_policy(logGroupName=resource.physical_id, retentionInDays=int(days))


def _document(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def create_role(iam: Any, resource: Resource) -> None:
    """CreateRole with its trust policy, then its inline and managed policies.

    CloudFormation's AWS::IAM::Role: Policies become PutRolePolicy, ManagedPolicyArns
    AttachRolePolicy. A permissions boundary is not evaluated: the role may do more here
    than on AWS, which the log says.
    """
    props = resource.properties
    if props.get("PermissionsBoundary"):
        log.warning("%s: its PermissionsBoundary is not evaluated", resource.logical_id)
    request: dict[str, Any] = {
        "RoleName": resource.physical_id,
        "AssumeRolePolicyDocument": _document(props["AssumeRolePolicyDocument"]),
    }
    for key in ("Path", "Description", "Tags"):
        if props.get(key):
            request[key] = props[key]
    if props.get("MaxSessionDuration"):
        request["MaxSessionDuration"] = int(props["MaxSessionDuration"])
    iam.create_role(**request)
    for policy in props.get("Policies") or []:
        iam.put_role_policy(
            RoleName=resource.physical_id,
            PolicyName=policy["PolicyName"],
            PolicyDocument=_document(policy["PolicyDocument"]),
        )
    for arn in props.get("ManagedPolicyArns") or []:
        iam.attach_role_policy(RoleName=resource.physical_id, PolicyArn=arn)


def uses_aws_managed_policies(template: Template) -> bool:
    """Whether a role attaches an AWS managed policy (moto loads those only on request)."""
    return any(
        ":iam::aws:policy/" in str(arn)
        for role in template.resources(type="AWS::IAM::Role")
        for arn in role.properties.get("ManagedPolicyArns") or []
    )


def create_topic(sns: Any, resource: Resource) -> None:
    """CreateTopic (FIFO attributes and tags kept); its subscriptions are not created."""
    props = resource.properties
    attributes = {
        k: str(props[k]).lower() if isinstance(props[k], bool) else str(props[k])
        for k in ("DisplayName", "FifoTopic", "ContentBasedDeduplication")
        if k in props
    }
    request: dict[str, Any] = {"Name": resource.physical_id, "Attributes": attributes}
    if props.get("Tags"):
        request["Tags"] = props["Tags"]
    sns.create_topic(**request)


def create_state_machine(stepfunctions: Any, resource: Resource) -> None:
    """CreateStateMachine from Definition (an object) or DefinitionString; moto records
    executions but does not run their states."""
    props = resource.properties
    definition = props.get("DefinitionString")
    if definition is None:
        definition = json.dumps(props.get("Definition") or {})
    request: dict[str, Any] = {
        "name": resource.physical_id,
        "definition": str(definition),
        "roleArn": str(props.get("RoleArn", "")),
    }
    if props.get("StateMachineType"):
        request["type"] = props["StateMachineType"]
    stepfunctions.create_state_machine(**request)


def create_bucket(s3: Any, resource: Resource) -> None:
    """CreateBucket (outside us-east-1 with its LocationConstraint, as the CreateBucket API
    requires), then its tags; an empty bucket that a rule's s3 action or a function can
    write to. Its other properties (encryption, versioning, lifecycle, public access
    block, notifications, ...) are reported as ignored."""
    region = s3.meta.region_name
    request: dict[str, Any] = {"Bucket": resource.physical_id}
    if region != "us-east-1":
        request["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**request)
    tags = resource.properties.get("Tags")
    if tags:
        s3.put_bucket_tagging(Bucket=resource.physical_id, Tagging={"TagSet": tags})


# The S3 destinations' properties CreateDeliveryStream takes as CloudFormation names them.
_S3_DESTINATION_KEYS = (
    "BucketARN",
    "RoleARN",
    "Prefix",
    "ErrorOutputPrefix",
    "BufferingHints",
    "CompressionFormat",
)


def create_delivery_stream(firehose: Any, resource: Resource) -> None:
    """CreateDeliveryStream, direct put, to its S3 (or extended S3) destination: what a
    rule's firehose action writes reaches the template's bucket. A stream with another
    destination (Redshift, OpenSearch, Splunk, HTTP endpoint, ...) or fed by a Kinesis
    stream is not created (the start-up report says why); moto 5.2.5 delivers to S3 only.
    "AWS::KinesisFirehose::DeliveryStream",
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kinesisfirehose-deliverystream.html
    """
    props = resource.properties
    if props.get("DeliveryStreamType", "DirectPut") != "DirectPut":
        why = f"DeliveryStreamType {props['DeliveryStreamType']} (only DirectPut is emulated)"
        raise NotEmulated("delivery stream", why)
    request: dict[str, Any] = {"DeliveryStreamName": resource.physical_id}
    for name in ("ExtendedS3DestinationConfiguration", "S3DestinationConfiguration"):
        config = props.get(name)
        if isinstance(config, dict):
            request[name] = {k: config[k] for k in _S3_DESTINATION_KEYS if k in config}
            break
    else:
        raise NotEmulated("delivery stream", "no S3 destination (moto delivers to S3 only)")
    if props.get("Tags"):
        request["Tags"] = props["Tags"]
    firehose.create_delivery_stream(**request)


_CREATORS: dict[str, tuple[str, Callable[[Any, Resource], None]]] = {
    "AWS::IAM::Role": ("iam", create_role),
    "AWS::DynamoDB::Table": ("dynamodb", create_table),
    "AWS::Kinesis::Stream": ("kinesis", create_stream),
    "AWS::SecretsManager::Secret": ("secretsmanager", create_secret),
    "AWS::SQS::Queue": ("sqs", create_queue),
    "AWS::Logs::LogGroup": ("logs", create_log_group),
    "AWS::SNS::Topic": ("sns", create_topic),
    "AWS::StepFunctions::StateMachine": ("stepfunctions", create_state_machine),
    "AWS::S3::Bucket": ("s3", create_bucket),
    "AWS::KinesisFirehose::DeliveryStream": ("firehose", create_delivery_stream),
}


def provision(template: Template, client: ClientFactory) -> Provisioned:
    """Create every role, table, stream, secret, queue, log group, topic, state machine,
    bucket and (S3) delivery stream the template declares."""
    done = Provisioned()
    for resource_type in _PROVISIONED_TYPES:
        service, create = _CREATORS[resource_type]
        for resource in template.resources(type=resource_type):
            try:
                create(client(service), resource)
            except NotEmulated as exc:
                log.warning("%s %s not created: %s", exc.what, resource.logical_id, exc)
                continue
            log.debug("created %s %s", resource_type, resource.physical_id)
            done.add(resource)
    return done
