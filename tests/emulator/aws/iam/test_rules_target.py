"""Rule actions as their roles: republish, AWS clients, and Lambda invoke permissions."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.aws import AwsServices
from emulator.aws.iam import IOT, LAMBDA, EmulatorIam, IamActionTarget
from emulator.iot.policy import IotArns
from emulator.rules.target import ServiceError
from emulator.template import template_from_dict
from tests.emulator.aws.iam.conftest import create_role

FN = "arn:aws:lambda:us-east-1:123456789012:function:f"


def role_trusting(aws: AwsServices, service: str, statements: list[dict[str, Any]]) -> str:
    return create_role(aws.client("iam"), statements, service)


def target(
    aws: AwsServices, template: dict[str, Any] | None = None
) -> tuple[IamActionTarget, list]:
    done: list[tuple[str, Any]] = []

    async def publish(topic: str, payload: bytes, qos: int) -> None:
        done.append(("publish", topic))

    async def invoke(function_arn: str, event: Any) -> None:
        done.append(("invoke", function_arn))

    iam = EmulatorIam(aws, template_from_dict(template or {"Resources": {}}))
    return IamActionTarget(publish, invoke, iam, IotArns()), done


async def test_republish_needs_iot_publish_on_the_topic(aws: AwsServices) -> None:
    pub = "arn:aws:iot:us-east-1:123456789012:topic/chat/pub/*"
    role = role_trusting(aws, IOT, [{"Effect": "Allow", "Action": "iot:Publish", "Resource": pub}])
    made, done = target(aws)
    await made.republish("chat/pub/lobby", b"{}", 1, role, "republish")
    with pytest.raises(ServiceError) as denied:
        await made.republish("chat/in/x", b"{}", 1, role, "republish")
    assert denied.value.code == "AccessDeniedException"
    assert f"assumed-role/{role.rsplit('/', 1)[1]}/republish is not authorized" in str(denied.value)
    assert "iot:Publish on resource: arn:aws:iot:us-east-1:123456789012:topic/chat/in/x" in str(
        denied.value
    )
    assert done == [("publish", "chat/pub/lobby")]


async def test_an_action_needs_a_role_iot_may_assume(aws: AwsServices) -> None:
    made, done = target(aws)
    with pytest.raises(ServiceError, match="names no roleArn"):
        await made.republish("t", b"{}", 0, None, "r")
    lambda_only = role_trusting(aws, LAMBDA, [{"Effect": "Allow", "Action": "*", "Resource": "*"}])
    with pytest.raises(ServiceError, match=r"cannot be assumed by iot\.amazonaws\.com"):
        await made.republish("t", b"{}", 0, lambda_only, "r")
    with pytest.raises(ServiceError, match="cannot be assumed"):
        made.aws_client("sqs", lambda_only, "r")
    with pytest.raises(ServiceError, match="names no roleArn"):
        made.aws_client("sqs", None, "r")
    assert done == []


def test_aws_clients_act_as_the_role(aws: AwsServices) -> None:
    role = role_trusting(
        aws, IOT, [{"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"}]
    )
    made, _ = target(aws)
    sqs = made.aws_client("sqs", role, "store")
    sqs.list_queues()
    with pytest.raises(Exception, match="sqs:CreateQueue"):
        sqs.create_queue(QueueName="q")


async def test_authorize_decides_as_iam_does_for_the_role(aws: AwsServices) -> None:
    """The DynamoDB action's per-item check: dynamodb:PutItem on the table, for the role."""
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/Messages"
    role = role_trusting(
        aws, IOT, [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table}]
    )
    made, _ = target(aws)
    await made.authorize(role, "store", "dynamodb:PutItem", "table/Messages", "Amazon DynamoDB")
    await made.authorize(role, "store", "dynamodb:PutItem", table, "Amazon DynamoDB")
    with pytest.raises(ServiceError) as denied:
        await made.authorize(role, "store", "dynamodb:PutItem", "table/Other", "Amazon DynamoDB")
    assert (denied.value.service, denied.value.code, denied.value.status) == (
        "Amazon DynamoDB",
        "AccessDeniedException",
        400,
    )
    assert str(denied.value) == (
        f"User: arn:aws:sts::123456789012:assumed-role/{role.rsplit('/', 1)[1]}/store is not "
        "authorized to perform: dynamodb:PutItem on resource: "
        "arn:aws:dynamodb:us-east-1:123456789012:table/Other because no identity-based "
        "policy allows the dynamodb:PutItem action"
    )
    with pytest.raises(ServiceError, match="dynamodb:DeleteItem"):
        await made.authorize(role, "store", "dynamodb:DeleteItem", table, "Amazon DynamoDB")
    lambda_only = role_trusting(aws, LAMBDA, [{"Effect": "Allow", "Action": "*", "Resource": "*"}])
    with pytest.raises(ServiceError, match="cannot be assumed"):
        await made.authorize(lambda_only, "store", "dynamodb:PutItem", table, "Amazon DynamoDB")
    with pytest.raises(ServiceError, match="names no roleArn"):
        await made.authorize(None, "store", "dynamodb:PutItem", table, "Amazon DynamoDB")


async def test_a_lambda_action_needs_the_functions_permission(aws: AwsServices) -> None:
    permission = {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": FN,
            "Principal": IOT,
            "SourceArn": "arn:aws:iot:us-east-1:123456789012:rule/route",
            "SourceAccount": "123456789012",
        },
    }
    made, done = target(aws, {"Resources": {"P": permission}})
    await made.invoke_lambda(FN, {}, "route")
    with pytest.raises(ServiceError) as denied:
        await made.invoke_lambda(FN, {}, "other")
    assert denied.value.service == "AWS Lambda" and denied.value.status == 403
    assert str(denied.value) == (
        f"User: {IOT} is not authorized to perform: lambda:InvokeFunction on resource: {FN} "
        "because no resource-based policy allows the lambda:InvokeFunction action"
    )
    assert done == [("invoke", FN)]
