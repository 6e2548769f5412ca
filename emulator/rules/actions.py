"""Rule actions built from CloudFormation's TopicRulePayload shapes.

Each action renders its substitution templates against the original message, sends
the rule's output through the ActionTarget as the action's ``roleArn``, and raises on
failure; the engine turns failures into the error action's message. Blocking boto3
calls (and making a client, which may fetch the role's credentials) go through
``env.run_blocking`` (a thread pool), never straight onto the event loop.

A service's refusal becomes the error message AWS documents: "Failed to <what>. The
error received was <message> (Service: ...; Status Code: ...; Error Code: ...;
Request ID: ...). Message arrived on: <topic>, Action: <action>, <resource>".
"Error handling (error action)",
https://docs.aws.amazon.com/iot/latest/developerguide/rule-error-handling.html
"""

from __future__ import annotations

import base64
import functools
import json
import math
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from emulator.rules.item_batches import ItemBatches
from emulator.rules.sql.context import RuleMessage, encode_output
from emulator.rules.substitution import SubstitutionTemplate
from emulator.rules.target import ActionTarget, ServiceError


class ActionError(Exception):
    """An action that could not complete; ``str()`` is the error action's errorMessage."""


class RuleDefinitionError(ValueError):
    """An action definition that is missing a required field."""


@dataclass(frozen=True)
class ActionEnv:
    """What an action may use: the target, the thread pool, the rule's name."""

    target: ActionTarget
    run_blocking: Callable[..., Awaitable[Any]]
    rule_name: str


class RuleAction(ABC):
    """One entry of Actions (or the ErrorAction)."""

    failed_action: ClassVar[str] = "Action"
    # For the error message: "Failed to <failure>. ... Action: <kind>, <label>: <resource>"
    failure: ClassVar[str] = "run the action"
    service: ClassVar[str] = "AWS"
    action_name: ClassVar[str] = "action"
    label: ClassVar[str] = "Resource"
    role_arn: str | None = None  # the roleArn AWS IoT assumes to run the action

    @abstractmethod
    def resource(self, msg: RuleMessage) -> str:
        """The error message's failedResource (table, stream, topic, ...)."""

    @abstractmethod
    async def run(self, output: Any, msg: RuleMessage, env: ActionEnv) -> None:
        """Deliver ``output``; raise on failure."""

    async def calling(self, msg: RuleMessage, call: Awaitable[Any]) -> Any:
        """Await a call to AWS; a refusal becomes an ActionError with AWS's message."""
        try:
            return await call
        except ClientError as exc:
            error = exc.response.get("Error", {})
            meta = exc.response.get("ResponseMetadata", {})
            raise ActionError(
                self.failure_message(
                    msg,
                    service=self.service,
                    status=meta.get("HTTPStatusCode", 0),
                    code=error.get("Code", "Unknown"),
                    message=error.get("Message", str(exc)),
                    request_id=meta.get("RequestId", ""),
                )
            ) from exc
        except ServiceError as exc:
            message = self.failure_message(
                msg, exc.service, exc.status, exc.code, exc.message, str(uuid.uuid4())
            )
            raise ActionError(message) from exc

    def failure_message(
        self, msg: RuleMessage, service: str, status: int, code: str, message: str, request_id: str
    ) -> str:
        """The errorMessage AWS writes for a refused call."""
        return (
            f"Failed to {self.failure}. The error received was {message} (Service: {service}; "
            f"Status Code: {status}; Error Code: {code}; Request ID: {request_id}). "
            f"Message arrived on: {msg.topic}, Action: {self.action_name}, "
            f"{self.label}: {_safe(self.resource, msg)}"
        )


def _safe(resource: Callable[[RuleMessage], str], msg: RuleMessage) -> str:
    try:
        return resource(msg)
    except Exception:
        return ""


def _param(params: Mapping[str, Any], name: str, default: Any = ...) -> Any:
    """A parameter by name, ignoring case (CloudFormation ``Topic`` or API ``topic``)."""
    for key, value in params.items():
        if key.lower() == name.lower():
            return value
    if default is ...:
        raise RuleDefinitionError(f"missing {name}")
    return default


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _check_republish_topic(topic: str) -> None:
    """AWS refuses empty topics, wildcards and reserved topics other than shadows."""
    if not topic:
        raise ActionError("republish topic is empty")
    if "+" in topic or "#" in topic:
        raise ActionError(f"republish topic contains a wildcard: {topic!r}")
    if topic.startswith("$"):
        levels = topic.split("/")
        shadow = len(levels) >= 4 and levels[:2] == ["$aws", "things"] and levels[3] == "shadow"
        if not shadow:
            raise ActionError(f"republishing to the reserved topic {topic!r} is not allowed")


def _role(params: Mapping[str, Any]) -> str | None:
    role = _param(params, "RoleArn", None)
    return str(role) if role else None


@dataclass(frozen=True)
class RepublishAction(RuleAction):
    """Publish the output to another topic through the broker."""

    topic: SubstitutionTemplate
    qos: int = 0
    role_arn: str | None = None
    failed_action: ClassVar[str] = "RepublishAction"
    failure = "republish the message"
    service = "AWS IoT"
    action_name = "republish"
    label = "Topic"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> RepublishAction:
        qos = int(_param(params, "Qos", 0))
        if qos not in (0, 1):
            raise RuleDefinitionError(f"republish Qos must be 0 or 1, not {qos}")
        return cls(SubstitutionTemplate.parse(str(_param(params, "Topic"))), qos, _role(params))

    def resource(self, msg: RuleMessage) -> str:
        return self.topic.render(msg)

    async def run(self, output: Any, msg: RuleMessage, env: ActionEnv) -> None:
        topic = self.topic.render(msg)
        _check_republish_topic(topic)
        publish = env.target.republish(
            topic, encode_output(output), self.qos, self.role_arn, env.rule_name
        )
        await self.calling(msg, publish)


@dataclass(frozen=True)
class LambdaAction(RuleAction):
    """Invoke a function asynchronously with the output as its event.

    The action has no role: Lambda checks the function's resource-based policy for
    ``iot.amazonaws.com`` and the rule's ARN.
    """

    function_arn: SubstitutionTemplate
    failed_action: ClassVar[str] = "LambdaAction"
    failure = "invoke the Lambda function"
    service = "AWS Lambda"
    action_name = "lambda"
    label = "Function"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> LambdaAction:
        return cls(SubstitutionTemplate.parse(str(_param(params, "FunctionArn"))))

    def resource(self, msg: RuleMessage) -> str:
        return self.function_arn.render(msg)

    async def run(self, output: Any, msg: RuleMessage, env: ActionEnv) -> None:
        if isinstance(output, bytes):
            raise ActionError("the Lambda action needs JSON; use encode(*, 'base64')")
        event = json.loads(encode_output(output) or b"null")  # the function gets a copy
        invoke = env.target.invoke_lambda(self.function_arn.render(msg), event, env.rule_name)
        await self.calling(msg, invoke)


def _dynamo_safe(value: Any) -> Any:
    """Floats become Decimals (DynamoDB numbers); containers are converted deeply."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _dynamo_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dynamo_safe(v) for v in value]
    return value


_SERIALIZER = TypeSerializer()


async def _client(action: RuleAction, service: str, env: ActionEnv) -> Any:
    """The target's client for ``service`` acting as the action's role (made off the loop)."""
    return await env.run_blocking(env.target.aws_client, service, action.role_arn, env.rule_name)


@dataclass(frozen=True)
class DynamoDBv2Action(RuleAction):
    """PutItem with each output column as an attribute.

    AWS IoT assumes the action's role to perform ``dynamodb:PutItem``: each item is
    authorized as that PutItem (the role's policies, on the table's ARN), then written
    with the items of a short window in one BatchWriteItem (emulator.rules.item_batches):
    same outcome per message, a fraction of the requests. "DynamoDBv2",
    https://docs.aws.amazon.com/iot/latest/developerguide/dynamodb-v2-rule-action.html
    """

    table: SubstitutionTemplate
    role_arn: str | None = None
    _batches: ItemBatches = field(default_factory=ItemBatches, compare=False, repr=False)
    failed_action: ClassVar[str] = "DynamoDBv2Action"
    failure = "put the item into the DynamoDB table"
    service = "Amazon DynamoDB"
    action_name = "dynamoDBv2"
    label = "Table"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> DynamoDBv2Action:
        put_item = _param(params, "PutItem")
        return cls(SubstitutionTemplate.parse(str(_param(put_item, "TableName"))), _role(params))

    def resource(self, msg: RuleMessage) -> str:
        return self.table.render(msg)

    async def run(self, output: Any, msg: RuleMessage, env: ActionEnv) -> None:
        if not isinstance(output, dict):
            raise ActionError("DynamoDBv2 needs the rule output to be a JSON object")
        item = {k: _SERIALIZER.serialize(_dynamo_safe(v)) for k, v in output.items()}
        table = self.table.render(msg)
        resource = table if table.startswith("arn:") else f"table/{table}"
        allowed = env.target.authorize(
            self.role_arn, env.rule_name, "dynamodb:PutItem", resource, self.service
        )
        await self.calling(msg, allowed)
        client = functools.partial(env.target.own_client, "dynamodb")
        await self.calling(msg, self._batches.put(table, item, client, env.run_blocking))


@dataclass(frozen=True)
class KinesisAction(RuleAction):
    """PutRecord of the output (JSON bytes) with a templated partition key."""

    stream: SubstitutionTemplate
    partition_key: SubstitutionTemplate | None
    role_arn: str | None = None
    failed_action: ClassVar[str] = "KinesisAction"
    failure = "put the record into the Kinesis stream"
    service = "Amazon Kinesis"
    action_name = "kinesis"
    label = "Stream"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> KinesisAction:
        key = _param(params, "PartitionKey", None)
        return cls(
            SubstitutionTemplate.parse(str(_param(params, "StreamName"))),
            SubstitutionTemplate.parse(str(key)) if key is not None else None,
            _role(params),
        )

    def resource(self, msg: RuleMessage) -> str:
        return self.stream.render(msg)

    async def run(self, output: Any, msg: RuleMessage, env: ActionEnv) -> None:
        key = self.partition_key.render(msg) if self.partition_key else str(uuid.uuid4())
        client = await self.calling(msg, _client(self, "kinesis", env))
        put = env.run_blocking(
            client.put_record,
            StreamName=self.stream.render(msg),
            Data=encode_output(output),
            PartitionKey=key,
        )
        await self.calling(msg, put)


@dataclass(frozen=True)
class SqsAction(RuleAction):
    """SendMessage of the output, base64-encoded when UseBase64 is true."""

    queue_url: SubstitutionTemplate
    use_base64: bool = False
    role_arn: str | None = None
    failed_action: ClassVar[str] = "SqsAction"
    failure = "send the message to the SQS queue"
    service = "Amazon SQS"
    action_name = "sqs"
    label = "Queue"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> SqsAction:
        return cls(
            SubstitutionTemplate.parse(str(_param(params, "QueueUrl"))),
            _flag(_param(params, "UseBase64", False)),
            _role(params),
        )

    def resource(self, msg: RuleMessage) -> str:
        return self.queue_url.render(msg)

    async def run(self, output: Any, msg: RuleMessage, env: ActionEnv) -> None:
        data = encode_output(output)
        body = (
            base64.b64encode(data).decode("ascii")
            if self.use_base64
            else data.decode("utf-8", errors="replace")
        )
        client = await self.calling(msg, _client(self, "sqs", env))
        send = env.run_blocking(
            client.send_message, QueueUrl=self.queue_url.render(msg), MessageBody=body
        )
        await self.calling(msg, send)


@dataclass(frozen=True)
class CloudwatchLogsAction(RuleAction):
    """PutLogEvents of the output into a stream named after the rule (created on demand)."""

    log_group: SubstitutionTemplate
    role_arn: str | None = None
    failed_action: ClassVar[str] = "CloudwatchLogsAction"
    failure = "put the log events into CloudWatch Logs"
    service = "Amazon CloudWatch Logs"
    action_name = "cloudwatchLogs"
    label = "Log group"
    _streams: set[tuple[str, str]] = field(default_factory=set, compare=False, repr=False)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> CloudwatchLogsAction:
        return cls(SubstitutionTemplate.parse(str(_param(params, "LogGroupName"))), _role(params))

    def resource(self, msg: RuleMessage) -> str:
        return self.log_group.render(msg)

    async def run(self, output: Any, msg: RuleMessage, env: ActionEnv) -> None:
        group, stream = self.log_group.render(msg), env.rule_name
        client = await self.calling(msg, _client(self, "logs", env))
        if (group, stream) not in self._streams:
            await self.calling(msg, env.run_blocking(_ensure_stream, client, group, stream))
            self._streams.add((group, stream))
        event = {
            "timestamp": int(time.time() * 1000),
            "message": encode_output(output).decode("utf-8", errors="replace"),
        }
        put = env.run_blocking(
            client.put_log_events, logGroupName=group, logStreamName=stream, logEvents=[event]
        )
        await self.calling(msg, put)


def _ensure_stream(client: Any, group: str, stream: str) -> None:
    """Create the log stream unless it exists (the log group itself must exist)."""
    try:
        client.create_log_stream(logGroupName=group, logStreamName=stream)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceAlreadyExistsException":
            raise


def _key_value(text: str, key_type: str) -> dict[str, str]:
    if key_type == "NUMBER":
        try:
            Decimal(text)
        except ArithmeticError:
            raise ActionError(f"the NUMBER key value {text!r} is not a number") from None
        return {"N": text}
    return {"S": text}


def _key_type(params: Mapping[str, Any], name: str) -> str:
    key_type = str(_param(params, name, "STRING")).upper()
    if key_type not in ("STRING", "NUMBER"):
        raise RuleDefinitionError(f"{name} must be STRING or NUMBER, not {key_type}")
    return key_type


@dataclass(frozen=True)
class DynamoDBAction(RuleAction):
    """The hash/range form ("DynamoDB" rule action,
    https://docs.aws.amazon.com/iot/latest/developerguide/dynamodb-rule-action.html): the
    keys from substitution templates, the whole output in one attribute (``PayloadField``,
    default ``payload``; a map for JSON, binary otherwise); ``Operation`` INSERT (PutItem,
    the default), UPDATE (UpdateItem) or DELETE (DeleteItem)."""

    table: SubstitutionTemplate
    hash_field: str
    hash_value: SubstitutionTemplate
    hash_type: str = "STRING"
    range_field: str | None = None
    range_value: SubstitutionTemplate | None = None
    range_type: str = "STRING"
    payload_field: str = "payload"
    operation: SubstitutionTemplate | None = None
    role_arn: str | None = None
    failed_action: ClassVar[str] = "DynamoDBAction"
    failure = "put the item into the DynamoDB table"
    service = "Amazon DynamoDB"
    action_name = "dynamoDB"
    label = "Table"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> DynamoDBAction:
        range_field = _param(params, "RangeKeyField", None)
        range_value = _param(params, "RangeKeyValue", None)
        if (range_field is None) != (range_value is None):
            raise RuleDefinitionError("RangeKeyField and RangeKeyValue go together")
        operation = _param(params, "Operation", None)
        return cls(
            table=SubstitutionTemplate.parse(str(_param(params, "TableName"))),
            hash_field=str(_param(params, "HashKeyField")),
            hash_value=SubstitutionTemplate.parse(str(_param(params, "HashKeyValue"))),
            hash_type=_key_type(params, "HashKeyType"),
            range_field=str(range_field) if range_field is not None else None,
            range_value=SubstitutionTemplate.parse(str(range_value))
            if range_value is not None
            else None,
            range_type=_key_type(params, "RangeKeyType"),
            payload_field=str(_param(params, "PayloadField", "payload")),
            operation=SubstitutionTemplate.parse(str(operation)) if operation is not None else None,
            role_arn=_role(params),
        )

    def resource(self, msg: RuleMessage) -> str:
        return self.table.render(msg)

    async def run(self, output: Any, msg: RuleMessage, env: ActionEnv) -> None:
        key = {self.hash_field: _key_value(self.hash_value.render(msg), self.hash_type)}
        if self.range_field is not None and self.range_value is not None:
            key[self.range_field] = _key_value(self.range_value.render(msg), self.range_type)
        operation = self.operation.render(msg).upper() if self.operation else "INSERT"
        if isinstance(output, bytes):
            payload: dict[str, Any] = {"B": output}
        else:
            payload = _SERIALIZER.serialize(_dynamo_safe(output))
        table = self.table.render(msg)
        client = await self.calling(msg, _client(self, "dynamodb", env))
        if operation == "INSERT":
            call = env.run_blocking(
                client.put_item, TableName=table, Item={**key, self.payload_field: payload}
            )
        elif operation == "UPDATE":
            call = env.run_blocking(
                client.update_item,
                TableName=table,
                Key=key,
                UpdateExpression="SET #p = :p",
                ExpressionAttributeNames={"#p": self.payload_field},
                ExpressionAttributeValues={":p": payload},
            )
        elif operation == "DELETE":
            call = env.run_blocking(client.delete_item, TableName=table, Key=key)
        else:
            raise ActionError(f"operation must be INSERT, UPDATE or DELETE, not {operation!r}")
        await self.calling(msg, call)


@dataclass(frozen=True)
class SnsAction(RuleAction):
    """Publish the output to an SNS topic ("Amazon SNS" rule action,
    https://docs.aws.amazon.com/iot/latest/developerguide/sns-rule-action.html):
    ``MessageFormat`` RAW (default) sends it as it is, JSON as a JSON message structure."""

    target_arn: str
    json_format: bool = False
    role_arn: str | None = None
    failed_action: ClassVar[str] = "SnsAction"
    failure = "publish the message to the SNS topic"
    service = "Amazon SNS"
    action_name = "sns"
    label = "Target"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> SnsAction:
        message_format = str(_param(params, "MessageFormat", "RAW")).upper()
        if message_format not in ("RAW", "JSON"):
            raise RuleDefinitionError(f"MessageFormat must be RAW or JSON, not {message_format}")
        return cls(str(_param(params, "TargetArn")), message_format == "JSON", _role(params))

    def resource(self, msg: RuleMessage) -> str:
        return self.target_arn

    async def run(self, output: Any, msg: RuleMessage, env: ActionEnv) -> None:
        message = encode_output(output).decode("utf-8", errors="replace")
        extra = {"MessageStructure": "json"} if self.json_format else {}
        client = await self.calling(msg, _client(self, "sns", env))
        publish = env.run_blocking(
            client.publish, TargetArn=self.target_arn, Message=message, **extra
        )
        await self.calling(msg, publish)


_SEPARATORS = ("\n", "\t", "\r\n", ",")


@dataclass(frozen=True)
class FirehoseAction(RuleAction):
    """PutRecord of the output, with its ``Separator`` appended; ``BatchMode`` sends each
    element of a JSON array output as one record of a PutRecordBatch ("Firehose" rule
    action, https://docs.aws.amazon.com/iot/latest/developerguide/kinesis-firehose-rule-action.html)."""

    stream: SubstitutionTemplate
    separator: str = ""
    batch_mode: bool = False
    role_arn: str | None = None
    failed_action: ClassVar[str] = "FirehoseAction"
    failure = "put the record into the Firehose stream"
    service = "Amazon Kinesis Firehose"
    action_name = "firehose"
    label = "Delivery stream"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> FirehoseAction:
        separator = str(_param(params, "Separator", ""))
        if separator and separator not in _SEPARATORS:
            raise RuleDefinitionError(f"Separator must be one of {_SEPARATORS!r}")
        return cls(
            SubstitutionTemplate.parse(str(_param(params, "DeliveryStreamName"))),
            separator,
            _flag(_param(params, "BatchMode", False)),
            _role(params),
        )

    def resource(self, msg: RuleMessage) -> str:
        return self.stream.render(msg)

    async def run(self, output: Any, msg: RuleMessage, env: ActionEnv) -> None:
        name, tail = self.stream.render(msg), self.separator.encode()
        client = await self.calling(msg, _client(self, "firehose", env))
        if self.batch_mode:
            if not isinstance(output, list) or not 1 <= len(output) <= 500:
                raise ActionError("BatchMode needs a JSON array of 1 to 500 records")
            records = [{"Data": encode_output(item) + tail} for item in output]
            call = env.run_blocking(
                client.put_record_batch, DeliveryStreamName=name, Records=records
            )
        else:
            record = {"Data": encode_output(output) + tail}
            call = env.run_blocking(client.put_record, DeliveryStreamName=name, Record=record)
        await self.calling(msg, call)


@dataclass(frozen=True)
class StepFunctionsAction(RuleAction):
    """StartExecution of a state machine with the output as its input, the execution named
    ``ExecutionNamePrefix`` plus a UUID ("Step Functions" rule action,
    https://docs.aws.amazon.com/iot/latest/developerguide/stepfunctions-rule-action.html)."""

    state_machine: SubstitutionTemplate
    prefix: SubstitutionTemplate | None = None
    role_arn: str | None = None
    failed_action: ClassVar[str] = "StepFunctionsAction"
    failure = "start the Step Functions execution"
    service = "AWS Step Functions"
    action_name = "stepFunctions"
    label = "State machine"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> StepFunctionsAction:
        prefix = _param(params, "ExecutionNamePrefix", None)
        return cls(
            SubstitutionTemplate.parse(str(_param(params, "StateMachineName"))),
            SubstitutionTemplate.parse(str(prefix)) if prefix else None,
            _role(params),
        )

    def resource(self, msg: RuleMessage) -> str:
        return self.state_machine.render(msg)

    async def run(self, output: Any, msg: RuleMessage, env: ActionEnv) -> None:
        if isinstance(output, bytes):
            raise ActionError("the Step Functions action needs JSON")
        client = await self.calling(msg, _client(self, "stepfunctions", env))
        region = client.meta.region_name
        arn = f"arn:aws:states:{region}:{msg.account_id}:stateMachine:{self.resource(msg)}"
        prefix = self.prefix.render(msg) if self.prefix else ""
        start = env.run_blocking(
            client.start_execution,
            stateMachineArn=arn,
            name=f"{prefix}{uuid.uuid4()}"[:80],
            input=encode_output(output).decode(),
        )
        await self.calling(msg, start)


_CANNED_ACLS = (
    "private",
    "public-read",
    "public-read-write",
    "aws-exec-read",
    "authenticated-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
    "log-delivery-write",
)


@dataclass(frozen=True)
class S3Action(RuleAction):
    """PutObject of the output under a templated key, with the optional ``CannedAcl``
    ("S3" rule action, https://docs.aws.amazon.com/iot/latest/developerguide/s3-rule-action.html;
    its fields, https://docs.aws.amazon.com/iot/latest/apireference/API_S3Action.html)."""

    bucket: SubstitutionTemplate
    key: SubstitutionTemplate
    canned_acl: str | None = None
    role_arn: str | None = None
    failed_action: ClassVar[str] = "S3Action"
    failure = "put the object into the S3 bucket"
    service = "Amazon S3"
    action_name = "s3"
    label = "Bucket"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> S3Action:
        acl = _param(params, "CannedAcl", None)
        if acl is not None and acl not in _CANNED_ACLS:
            raise RuleDefinitionError(f"CannedAcl must be one of {', '.join(_CANNED_ACLS)}")
        return cls(
            SubstitutionTemplate.parse(str(_param(params, "BucketName"))),
            SubstitutionTemplate.parse(str(_param(params, "Key"))),
            acl,
            _role(params),
        )

    def resource(self, msg: RuleMessage) -> str:
        return self.bucket.render(msg)

    async def run(self, output: Any, msg: RuleMessage, env: ActionEnv) -> None:
        key = self.key.render(msg)
        if not key:
            raise ActionError("the S3 object key is empty")
        extra = {"ACL": self.canned_acl} if self.canned_acl else {}
        client = await self.calling(msg, _client(self, "s3", env))
        put = env.run_blocking(
            client.put_object,
            Bucket=self.bucket.render(msg),
            Key=key,
            Body=encode_output(output),
            **extra,
        )
        await self.calling(msg, put)


@dataclass(frozen=True)
class CloudwatchMetricAction(RuleAction):
    """PutMetricData of one datum whose namespace, name, value, unit and timestamp (Unix
    seconds, default now) are substitution templates ("CloudWatch metrics" rule action,
    https://docs.aws.amazon.com/iot/latest/developerguide/cloudwatch-metrics-rule-action.html)."""

    namespace: SubstitutionTemplate
    name: SubstitutionTemplate
    value: SubstitutionTemplate
    unit: SubstitutionTemplate
    timestamp: SubstitutionTemplate | None = None
    role_arn: str | None = None
    failed_action: ClassVar[str] = "CloudwatchMetricAction"
    failure = "put the metric data into CloudWatch"
    service = "Amazon CloudWatch"
    action_name = "cloudwatchMetric"
    label = "Metric"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> CloudwatchMetricAction:
        def template(name: str) -> SubstitutionTemplate:
            return SubstitutionTemplate.parse(str(_param(params, name)))

        stamp = _param(params, "MetricTimestamp", None)
        return cls(
            template("MetricNamespace"),
            template("MetricName"),
            template("MetricValue"),
            template("MetricUnit"),
            SubstitutionTemplate.parse(str(stamp)) if stamp is not None else None,
            _role(params),
        )

    def resource(self, msg: RuleMessage) -> str:
        return f"{self.namespace.render(msg)}/{self.name.render(msg)}"

    async def run(self, output: Any, msg: RuleMessage, env: ActionEnv) -> None:
        datum: dict[str, Any] = {
            "MetricName": self.name.render(msg),
            "Value": _number(self.value.render(msg), "metric value"),
            "Unit": self.unit.render(msg),
        }
        stamp = self.timestamp.render(msg) if self.timestamp else ""
        seconds = _number(stamp, "metric timestamp") if stamp else time.time()
        datum["Timestamp"] = datetime.fromtimestamp(seconds, UTC)
        client = await self.calling(msg, _client(self, "cloudwatch", env))
        put = env.run_blocking(
            client.put_metric_data, Namespace=self.namespace.render(msg), MetricData=[datum]
        )
        await self.calling(msg, put)


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ActionError(f"the {what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ActionError(f"the {what} {text!r} is not a finite number")
    return value


@dataclass(frozen=True)
class UnsupportedAction(RuleAction):
    """An action type the emulator does not implement: it fails, so the error action runs."""

    kind: str
    failed_action: ClassVar[str] = "UnsupportedAction"

    def resource(self, msg: RuleMessage) -> str:
        return self.kind

    async def run(self, output: Any, msg: RuleMessage, env: ActionEnv) -> None:
        raise ActionError(f"the emulator does not implement the {self.kind} action")


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], RuleAction]] = {
    "republish": RepublishAction.from_params,
    "lambda": LambdaAction.from_params,
    "dynamodbv2": DynamoDBv2Action.from_params,
    "kinesis": KinesisAction.from_params,
    "sqs": SqsAction.from_params,
    "cloudwatchlogs": CloudwatchLogsAction.from_params,
    "sns": SnsAction.from_params,
    "dynamodb": DynamoDBAction.from_params,
    "firehose": FirehoseAction.from_params,
    "stepfunctions": StepFunctionsAction.from_params,
    "s3": S3Action.from_params,
    "cloudwatchmetric": CloudwatchMetricAction.from_params,
}

SUPPORTED_ACTIONS = (
    "Republish",
    "Lambda",
    "DynamoDBv2",
    "Kinesis",
    "Sqs",
    "CloudwatchLogs",
    "Sns",
    "DynamoDB",
    "Firehose",
    "StepFunctions",
    "S3",
    "CloudwatchMetric",
)


def build_action(spec: Mapping[str, Any]) -> RuleAction:
    """One action from ``{"Republish": {...}}``; unknown kinds become UnsupportedAction.

    Raises RuleDefinitionError (or SqlSyntaxError for a bad template) for a malformed
    definition of a supported kind.
    """
    if len(spec) != 1:
        raise RuleDefinitionError(f"an action has exactly one type, got {sorted(spec)}")
    ((kind, params),) = spec.items()
    builder = _BUILDERS.get(kind.lower())
    if builder is None:
        return UnsupportedAction(kind)
    if not isinstance(params, Mapping):
        raise RuleDefinitionError(f"{kind}: parameters must be an object")
    try:
        return builder(params)
    except RuleDefinitionError as exc:
        raise RuleDefinitionError(f"{kind}: {exc}") from None
