"""Which IAM action on which resource an API request asks for.

AWS evaluates an action named ``<service prefix>:<operation>`` against the ARN of the
resource the request names (for DynamoDB transactions and batches, one check per
table and kind of write). AWS: "Actions, resources, and condition keys for AWS
services", https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html

Covered: the services moto serves for the emulator (DynamoDB and its streams, Kinesis,
Secrets Manager, SQS, SNS, Firehose, Step Functions, CloudWatch Logs, CloudWatch, S3 (its
REST routes, emulator.aws.iam.s3_requests), STS, IAM). A request whose resource cannot be
told is checked against ``*``, so only a statement with ``"Resource": "*"`` allows it.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from emulator.aws.iam.s3_requests import S3Request

Check = tuple[str, str]  # (action, resource ARN)

ANY = "*"
TOKEN_FIELDS = ("ShardIterator", "NextShardIterator", "NextToken")


@dataclass(frozen=True)
class ApiRequest:
    """An AWS API call as the IAM layer sees it: service, operation and parameters."""

    service: str  # the signing name: dynamodb, kinesis, s3, monitoring, sts, iam, ...
    operation: str  # PutItem, GetRecords, AssumeRole, ...
    params: dict[str, Any]
    json_protocol: bool  # True for X-Amz-Target calls, False for the query protocol
    region: str
    account_id: str
    s3: S3Request | None = None  # an S3 REST call: its bucket and key
    # The client asked for query-protocol error codes (x-amzn-query-mode, sent to the
    # JSON endpoints of services that used to speak the query protocol: SQS, CloudWatch).
    query_compatible: bool = False

    @classmethod
    def parse(
        cls,
        service: str,
        region: str,
        account_id: str,
        *,
        target: str | None,
        path: str,
        body: bytes,
        method: str = "POST",
        headers: Mapping[str, str] | None = None,
    ) -> ApiRequest:
        """From the X-Amz-Target header and JSON body, S3's REST route, an RPC v2 path
        (``/service/<name>/operation/<operation>``, whose CBOR body is not read), or the
        query protocol's Action. ``headers`` are keyed by lower-case name."""
        headers = headers or {}
        compatible = headers.get("x-amzn-query-mode", "").lower() == "true"
        if service == "s3":
            s3 = S3Request.parse(method, path, headers.get("host", ""), headers)
            return cls(service, s3.operation, {}, False, region, account_id, s3, compatible)
        if target:
            try:
                params = json.loads(body or b"{}")
            except ValueError:
                params = {}
            if not isinstance(params, dict):
                params = {}
            operation = target.rsplit(".", 1)[-1]
            return cls(service, operation, params, True, region, account_id, None, compatible)
        route = urlsplit(path).path.split("/")
        if headers.get("smithy-protocol") == "rpc-v2-cbor" and route[1:4:2] == [
            "service",
            "operation",
        ]:
            operation = route[4] if len(route) == 5 else ""
            return cls(service, operation, {}, True, region, account_id, None, compatible)
        form = parse_qs(urlsplit(path).query)
        form.update(parse_qs(body.decode("utf-8", errors="replace")))
        params = {key: values[0] for key, values in form.items()}
        operation = str(params.get("Action", ""))
        return cls(service, operation, params, False, region, account_id, None, compatible)

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:aws:{service}:{region}:{self.account_id}:{resource}"


class ContinuationTokens:
    """Resources behind shard iterators and page tokens this layer has seen handed out.

    ``GetRecords`` names its stream only through its shard iterator, and a paged call
    only through its token, so the resource is remembered when the token is issued.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._resources: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, response: Any, resources: tuple[str, ...]) -> None:
        """Note the resources of every token found in a JSON response."""
        if not isinstance(response, dict):
            return
        with self._lock:
            for key in TOKEN_FIELDS:
                token = response.get(key)
                if isinstance(token, str) and token:
                    self._resources[token] = resources
                    self._resources.move_to_end(token)
            while len(self._resources) > self._capacity:
                self._resources.popitem(last=False)

    def resources(self, token: Any) -> tuple[str, ...] | None:
        """The resources a token was issued for, if this layer saw it issued."""
        if not isinstance(token, str):
            return None
        with self._lock:
            return self._resources.get(token)


def _named(request: ApiRequest, value: Any, make: Callable[[str], str]) -> str:
    if not isinstance(value, str) or not value:
        return ANY
    return value if value.startswith("arn:") else make(value)


def _dynamodb_table(request: ApiRequest, name: Any, index: Any = None) -> str:
    arn = _named(request, name, lambda n: request.arn("dynamodb", f"table/{n}"))
    if arn != ANY and isinstance(index, str) and index:
        arn = f"{arn}/index/{index}"
    return arn


_TRANSACT_ACTIONS = {
    "ConditionCheck": "ConditionCheckItem",
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "Get": "GetItem",
}


def _dynamodb(request: ApiRequest, tokens: ContinuationTokens) -> Iterator[Check]:
    p, op = request.params, request.operation
    if op in ("TransactWriteItems", "TransactGetItems"):
        for item in p.get("TransactItems") or []:
            for kind, spec in (item or {}).items():
                if kind in _TRANSACT_ACTIONS and isinstance(spec, dict):
                    action = f"dynamodb:{_TRANSACT_ACTIONS[kind]}"
                    yield action, _dynamodb_table(request, spec.get("TableName"))
        return
    action = f"dynamodb:{op}"
    if isinstance(p.get("RequestItems"), dict):  # BatchGetItem, BatchWriteItem
        for table in p["RequestItems"]:
            yield action, _dynamodb_table(request, table)
        return
    if "StreamArn" in p:  # DynamoDB Streams
        yield action, str(p["StreamArn"])
        return
    if "ShardIterator" in p:
        yield from ((action, r) for r in tokens.resources(p["ShardIterator"]) or (ANY,))
        return
    yield action, _dynamodb_table(request, p.get("TableName"), p.get("IndexName"))


def _kinesis(request: ApiRequest, tokens: ContinuationTokens) -> Iterator[Check]:
    p = request.params
    action = f"kinesis:{request.operation}"
    if isinstance(p.get("StreamARN"), str):
        yield action, p["StreamARN"]
    elif isinstance(p.get("StreamName"), str):
        yield action, request.arn("kinesis", f"stream/{p['StreamName']}")
    elif isinstance(p.get("ConsumerARN"), str):
        yield action, p["ConsumerARN"]
    else:
        token = p.get("ShardIterator", p.get("NextToken"))
        yield from ((action, r) for r in tokens.resources(token) or (ANY,))


def _secretsmanager(request: ApiRequest, tokens: ContinuationTokens) -> Iterator[Check]:
    # A name is checked as the ARN the emulator gives the secret in the template
    # (arn:...:secret:<name>), without the random suffix AWS appends.
    secret = request.params.get("SecretId")
    yield (
        f"secretsmanager:{request.operation}",
        _named(request, secret, lambda n: request.arn("secretsmanager", f"secret:{n}")),
    )


def _firehose(request: ApiRequest, tokens: ContinuationTokens) -> Iterator[Check]:
    name = request.params.get("DeliveryStreamName")
    resource = request.arn("firehose", f"deliverystream/{name}") if isinstance(name, str) else ANY
    yield f"firehose:{request.operation}", resource


def _states(request: ApiRequest, tokens: ContinuationTokens) -> Iterator[Check]:
    arn = request.params.get("stateMachineArn") or request.params.get("executionArn")
    yield f"states:{request.operation}", arn if isinstance(arn, str) and arn else ANY


def _sns(request: ApiRequest, tokens: ContinuationTokens) -> Iterator[Check]:
    """Publish and the topic calls name the topic by ARN (TopicArn, or TargetArn)."""
    p = request.params
    arn = p.get("TopicArn") or p.get("TargetArn")
    yield f"sns:{request.operation}", arn if isinstance(arn, str) and arn else ANY


def _sqs(request: ApiRequest, tokens: ContinuationTokens) -> Iterator[Check]:
    p = request.params
    action = f"sqs:{request.operation}"
    url = p.get("QueueUrl")
    if isinstance(url, str) and url:
        parts = urlsplit(url).path.strip("/").split("/")
        account = parts[-2] if len(parts) >= 2 and parts[-2].isdigit() else request.account_id
        yield action, f"arn:aws:sqs:{request.region}:{account}:{parts[-1]}"
    elif isinstance(p.get("QueueName"), str):
        account = str(p.get("QueueOwnerAWSAccountId") or request.account_id)
        yield action, f"arn:aws:sqs:{request.region}:{account}:{p['QueueName']}"
    else:
        yield action, ANY


def _logs(request: ApiRequest, tokens: ContinuationTokens) -> Iterator[Check]:
    # Log group actions are checked against the group's ARN with its ":*" suffix, the
    # form AWS documents for IAM policies (LogGroup.arn in the CloudWatch Logs API
    # reference); stream actions against the log stream's ARN.
    p = request.params
    action = f"logs:{request.operation}"
    group = p.get("logGroupName") or p.get("logGroupIdentifier")
    if not isinstance(group, str) or not group:
        yield action, ANY
        return
    if group.startswith("arn:"):
        group = group.split(":log-group:", 1)[-1].removesuffix(":*")
    stream = p.get("logStreamName")
    if isinstance(stream, str) and stream:
        yield action, request.arn("logs", f"log-group:{group}:log-stream:{stream}")
    else:
        yield action, request.arn("logs", f"log-group:{group}:*")


def _s3(request: ApiRequest, tokens: ContinuationTokens) -> Iterator[Check]:
    if request.s3 is not None:
        yield from request.s3.checks()
    else:
        yield "s3:*", ANY


def _cloudwatch(request: ApiRequest, tokens: ContinuationTokens) -> Iterator[Check]:
    """CloudWatch signs as ``monitoring`` but its IAM prefix is ``cloudwatch``. Metric
    calls (PutMetricData, ListMetrics, GetMetricData, ...) name no resource: IAM checks
    them on ``*``; alarms are named by ARN ("Actions, resources, and condition keys for
    Amazon CloudWatch",
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html)."""
    p = request.params
    action = f"cloudwatch:{request.operation}"
    names = p.get("AlarmNames") or ([p["AlarmName"]] if "AlarmName" in p else [])
    if not isinstance(names, list) or not names:
        yield action, ANY
        return
    for name in names:
        yield action, request.arn("cloudwatch", f"alarm:{name}")


def _sts(request: ApiRequest, tokens: ContinuationTokens) -> Iterator[Check]:
    if request.operation == "GetCallerIdentity":
        return  # needs no permission: "GetCallerIdentity", AWS STS API reference
    yield f"sts:{request.operation}", str(request.params.get("RoleArn") or ANY)


def _iam(request: ApiRequest, tokens: ContinuationTokens) -> Iterator[Check]:
    p = request.params
    action = f"iam:{request.operation}"
    if p.get("RoleName"):
        yield action, request.arn("iam", f"role/{p['RoleName']}", regional=False)
    elif p.get("UserName"):
        yield action, request.arn("iam", f"user/{p['UserName']}", regional=False)
    else:
        yield action, str(p.get("PolicyArn") or ANY)


_RESOLVERS: dict[str, Callable[[ApiRequest, ContinuationTokens], Iterator[Check]]] = {
    "dynamodb": _dynamodb,
    "kinesis": _kinesis,
    "secretsmanager": _secretsmanager,
    "sqs": _sqs,
    "sns": _sns,
    "firehose": _firehose,
    "states": _states,
    "logs": _logs,
    "s3": _s3,
    "monitoring": _cloudwatch,
    "sts": _sts,
    "iam": _iam,
}


def checks(request: ApiRequest, tokens: ContinuationTokens) -> list[Check]:
    """The (action, resource) pairs that must all be allowed for the request to run."""
    resolver = _RESOLVERS.get(request.service)
    if resolver is None:
        return [(f"{request.service}:{request.operation}", ANY)]
    return list(resolver(request, tokens))
