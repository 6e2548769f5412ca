"""How each iot_rules action becomes template: one table, ``ACTIONS``.

A row per action dataclass of iot_rules.spec says
- ``key``/``build``: which property of the TopicRule's Action it fills, and with what;
- ``grant``: what the rule's role must allow for it (None: IoT needs no role for it);
- ``permission``: the resource policy that lets IoT use it instead (Lambda's invoke
  permission).

The emulator reads the same properties back from the template (emulator/rules/), so
the template is the only place both sides meet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from troposphere import AWSProperty, GetAtt, Ref, Sub, iot
from troposphere import awslambda as lam

from iot_rules import spec as rule_spec
from stack.iam import Statement, statement, topic_arn


# troposphere 4.11.1's TopicRule Action predates the CloudwatchLogs action: declared here
# the way troposphere declares its own properties.
class TopicRuleCloudwatchLogs(AWSProperty):
    """AWS::IoT::TopicRule CloudwatchLogsAction."""

    props = {
        "BatchMode": (bool, False),
        "LogGroupName": (str, True),
        "RoleArn": (str, True),
    }


class TopicRuleAction(iot.Action):
    """AWS::IoT::TopicRule Action, with CloudwatchLogs."""

    props = {**iot.Action.props, "CloudwatchLogs": (TopicRuleCloudwatchLogs, False)}


def rule_text(text: str) -> str | Sub:
    """An iot_rules text (SQL, topic, partition key) for the template: as is unless it
    names a parameter, then Fn::Sub with the IoT substitution templates escaped."""
    return Sub(rule_spec.to_sub(text)) if rule_spec.has_placeholders(text) else text


@dataclass(frozen=True)
class ActionTranslation:
    """One row of ACTIONS (see the module docstring)."""

    key: str
    build: Callable[[Any, Any], AWSProperty]  # (action, role ARN) -> property
    grant: Callable[[Any], Statement] | None = None
    permission: Callable[[rule_spec.Rule, Any], lam.Permission] | None = None


def _invoke_permission(rule: rule_spec.Rule, action: rule_spec.Lambda) -> lam.Permission:
    """IoT may invoke the function, for this rule of this account only."""
    return lam.Permission(
        f"{rule.logical_id}InvokePermission",
        FunctionName=GetAtt(action.function, "Arn"),
        Action="lambda:InvokeFunction",
        Principal="iot.amazonaws.com",
        SourceArn=GetAtt(rule.logical_id, "Arn"),
        SourceAccount=Ref("AWS::AccountId"),
        **({"Condition": rule.condition} if rule.condition else {}),
    )


ACTIONS: dict[type, ActionTranslation] = {
    rule_spec.Lambda: ActionTranslation(
        "Lambda",
        lambda a, role_arn: iot.LambdaAction(FunctionArn=GetAtt(a.function, "Arn")),
        permission=_invoke_permission,
    ),
    rule_spec.Republish: ActionTranslation(
        "Republish",
        lambda a, role_arn: iot.RepublishAction(
            Topic=rule_text(a.topic), Qos=a.qos, RoleArn=role_arn
        ),
        # ${room} is per message: allow the topic pattern with a wildcard in its place.
        grant=lambda a: statement(["iot:Publish"], [topic_arn(a.topic.replace("${room}", "*"))]),
    ),
    rule_spec.DynamoDBv2: ActionTranslation(
        "DynamoDBv2",
        lambda a, role_arn: iot.DynamoDBv2Action(
            PutItem=iot.PutItemInput(TableName=Ref(a.table)), RoleArn=role_arn
        ),
        grant=lambda a: statement(["dynamodb:PutItem"], [GetAtt(a.table, "Arn")]),
    ),
    rule_spec.Kinesis: ActionTranslation(
        "Kinesis",
        lambda a, role_arn: iot.KinesisAction(
            StreamName=Ref(a.stream), PartitionKey=rule_text(a.partition_key), RoleArn=role_arn
        ),
        grant=lambda a: statement(["kinesis:PutRecord"], [GetAtt(a.stream, "Arn")]),
    ),
    rule_spec.CloudwatchLogs: ActionTranslation(
        "CloudwatchLogs",
        lambda a, role_arn: TopicRuleCloudwatchLogs(
            LogGroupName=Ref(a.log_group), RoleArn=role_arn
        ),
        grant=lambda a: statement(
            ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            [GetAtt(a.log_group, "Arn")],
        ),
    ),
}


def translation(action: rule_spec.Action) -> ActionTranslation:
    """The row for an action; a TypeError naming the table for an action it lacks."""
    row = ACTIONS.get(type(action))
    if row is None:
        raise TypeError(
            f"no template translation for rule action {action!r}: "
            "add a row for its type to stack.rule_actions.ACTIONS"
        )
    return row


def action_property(action: rule_spec.Action, role_arn: Any) -> TopicRuleAction:
    """The TopicRule Action entry for one action (``role_arn``: the role IoT acts as)."""
    row = translation(action)
    return TopicRuleAction(**{row.key: row.build(action, role_arn)})


def role_statement(action: rule_spec.Action) -> Statement | None:
    """What a rule's role must allow for one action (None: no role needed)."""
    row = translation(action)
    return row.grant(action) if row.grant else None


def resource_permission(rule: rule_spec.Rule, action: rule_spec.Action) -> lam.Permission | None:
    """The resource policy one action needs in ``rule`` (None: its role is enough)."""
    row = translation(action)
    return row.permission(rule, action) if row.permission else None
