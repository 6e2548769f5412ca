"""Physical ids, ARNs and GetAtt values for the resource types the template uses.

Names come from the resource's own name property when it has one, else
`<stack>-<LogicalId>` as CloudFormation would generate (minus the random suffix, so
names are stable across emulator restarts).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.template.errors import TemplateError

# Property that names the resource, per type; others fall back to the generic list.
NAME_PROPERTIES: dict[str, str] = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::IoT::Authorizer": "AuthorizerName",
    "AWS::IoT::TopicRule": "RuleName",
    "AWS::IoT::Policy": "PolicyName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::IAM::Role": "RoleName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
}
# Types whose name-like properties name another resource (FunctionName of a mapping).
NAMELESS_TYPES = frozenset(
    {
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::Permission",
        "AWS::Lambda::Url",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::Lambda::Version",
        "AWS::Lambda::Alias",
        "AWS::S3::BucketPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::IoT::PolicyPrincipalAttachment",
        "AWS::IoT::ThingPrincipalAttachment",
    }
)
GENERIC_NAME_PROPERTIES = (
    "TableName",
    "FunctionName",
    "StreamName",
    "Name",
    "AuthorizerName",
    "QueueName",
    "LogGroupName",
    "BucketName",
    "RuleName",
    "RoleName",
    "PolicyName",
)
_UPPER_ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class Identity:
    """Where a resource lives: enough to build its ARNs and attributes."""

    logical_id: str
    type: str
    name: str
    region: str
    account_id: str
    partition: str
    properties: dict[str, Any]


def _digest(*parts: str, length: int = 32, alphabet: str = "0123456789abcdef") -> str:
    raw = hashlib.sha256("/".join(parts).encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in raw * 2)[:length]


def generated_name(stack_name: str, logical_id: str, resource_type: str) -> str:
    """The name CloudFormation would make up when the template gives none."""
    if resource_type == "AWS::IoT::TopicRule":
        return re.sub(r"[^A-Za-z0-9_]", "_", f"{stack_name}_{logical_id}")
    if resource_type == "AWS::S3::Bucket":
        return re.sub(r"[^a-z0-9.-]", "-", f"{stack_name}-{logical_id}".lower())[:63]
    # A KMS key has no name: AWS gives it a key id, a UUID (what Ref returns, "Return
    # values" of https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kms-key.html).
    if resource_type in ("AWS::Lambda::EventSourceMapping", "AWS::KMS::Key"):
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{stack_name}/{logical_id}"))
    if resource_type == "AWS::CloudFront::Distribution":
        return "E" + _digest(stack_name, logical_id, length=13, alphabet=_UPPER_ALNUM)
    return f"{stack_name}-{logical_id}"


def _arn(i: Identity, service: str, resource: str, *, regional: bool = True) -> str:
    region = i.region if regional else ""
    account = i.account_id if service != "s3" else ""
    return f"arn:{i.partition}:{service}:{region}:{account}:{resource}"


def arn_of(i: Identity) -> str | None:
    """The resource's ARN, or None for types that have none."""
    builders: dict[str, Callable[[], str]] = {
        "AWS::DynamoDB::Table": lambda: _arn(i, "dynamodb", f"table/{i.name}"),
        "AWS::Kinesis::Stream": lambda: _arn(i, "kinesis", f"stream/{i.name}"),
        # The random six-character suffix AWS appends is left out: moto resolves the
        # partial ARN to the secret, whatever suffix it gave it.
        "AWS::SecretsManager::Secret": lambda: _arn(i, "secretsmanager", f"secret:{i.name}"),
        "AWS::SQS::Queue": lambda: _arn(i, "sqs", i.name),
        "AWS::Logs::LogGroup": lambda: _arn(i, "logs", f"log-group:{i.name}:*"),
        "AWS::Lambda::Function": lambda: _arn(i, "lambda", f"function:{i.name}"),
        "AWS::Lambda::EventSourceMapping": lambda: _arn(
            i, "lambda", f"event-source-mapping:{i.name}"
        ),
        "AWS::IAM::Role": lambda: _arn(i, "iam", f"role/{i.name}", regional=False),
        "AWS::KMS::Key": lambda: _arn(i, "kms", f"key/{i.name}"),
        "AWS::IoT::TopicRule": lambda: _arn(i, "iot", f"rule/{i.name}"),
        "AWS::IoT::Authorizer": lambda: _arn(i, "iot", f"authorizer/{i.name}"),
        "AWS::SNS::Topic": lambda: _arn(i, "sns", i.name),
        "AWS::StepFunctions::StateMachine": lambda: _arn(i, "states", f"stateMachine:{i.name}"),
        "AWS::KinesisFirehose::DeliveryStream": lambda: _arn(
            i, "firehose", f"deliverystream/{i.name}"
        ),
        "AWS::IoT::Policy": lambda: _arn(i, "iot", f"policy/{i.name}"),
        "AWS::S3::Bucket": lambda: _arn(i, "s3", i.name, regional=False),
        "AWS::CloudFront::Distribution": lambda: _arn(
            i, "cloudfront", f"distribution/{i.name}", regional=False
        ),
    }
    builder = builders.get(i.type)
    return builder() if builder else None


def ref_of(i: Identity, arn: str | None) -> str:
    """What Ref answers for the type: mostly the name, for some the ARN or URL."""
    if i.type in (
        "AWS::SecretsManager::Secret",
        "AWS::SNS::Topic",
        "AWS::StepFunctions::StateMachine",
    ):
        return arn or i.name
    if i.type == "AWS::SQS::Queue":
        return f"https://sqs.{i.region}.amazonaws.com/{i.account_id}/{i.name}"
    if i.type == "AWS::Lambda::Url":
        return str(i.properties.get("TargetFunctionArn", i.name))
    return i.name


def _attributes(i: Identity, arn: str | None) -> dict[str, Any]:
    """GetAtt values by type; `Arn` is added for every type with an ARN."""
    url_id = _digest(i.region, i.account_id, i.logical_id)
    by_type: dict[str, dict[str, Any]] = {
        "AWS::DynamoDB::Table": {"StreamArn": f"{arn}/stream/1970-01-01T00:00:00.000"},
        "AWS::SQS::Queue": {"QueueName": i.name, "QueueUrl": ref_of(i, arn)},
        "AWS::SNS::Topic": {"TopicName": i.name, "TopicArn": arn},
        "AWS::StepFunctions::StateMachine": {"Name": i.name},
        "AWS::SecretsManager::Secret": {"Id": arn},
        "AWS::Lambda::EventSourceMapping": {"Id": i.name, "EventSourceMappingArn": arn},
        "AWS::Lambda::Url": {
            "FunctionUrl": f"https://{url_id}.lambda-url.{i.region}.on.aws/",
            "FunctionArn": i.properties.get("TargetFunctionArn"),
        },
        "AWS::IAM::Role": {"RoleId": "AROA" + _digest(i.name, length=17).upper()},
        "AWS::KMS::Key": {"KeyId": i.name},
        "AWS::S3::Bucket": {
            "DomainName": f"{i.name}.s3.amazonaws.com",
            "RegionalDomainName": f"{i.name}.s3.{i.region}.amazonaws.com",
            "DualStackDomainName": f"{i.name}.s3.dualstack.{i.region}.amazonaws.com",
            "WebsiteURL": f"http://{i.name}.s3-website-{i.region}.amazonaws.com",
        },
        "AWS::CloudFront::Distribution": {
            "Id": i.name,
            "DomainName": f"d{_digest(i.name, length=13)}.cloudfront.net",
        },
    }
    attributes = {"Name": i.name, **by_type.get(i.type, {})}
    if arn is not None:
        attributes["Arn"] = arn
    return attributes


def get_att(i: Identity, arn: str | None, attribute: str, *, strict: bool) -> Any:
    """Fn::GetAtt; unknown attributes fail for emulated types, else get a placeholder."""
    attributes = _attributes(i, arn)
    if attribute in attributes:
        return attributes[attribute]
    if strict:
        raise TemplateError(
            f"Fn::GetAtt {i.logical_id}.{attribute}: {i.type} has no attribute {attribute} "
            f"in the emulator (known: {', '.join(sorted(attributes))})"
        )
    return f"{i.name}-{attribute}"
