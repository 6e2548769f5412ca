"""The SNS rule action against a real moto server ("Amazon SNS" rule action,
https://docs.aws.amazon.com/iot/latest/developerguide/sns-rule-action.html), and an
unsupported action beside it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator.rules import BotoClients, RulesEngine, TopicRule
from emulator.rules.actions import RuleDefinitionError, SnsAction, build_action
from tests.emulator.rules.conftest import RecordingTarget

ROLE = "arn:aws:iam::123456789012:role/rules"


def _engine(clients: BotoClients, *actions: dict[str, Any], **extra: Any) -> RulesEngine:
    payload = {"Sql": "SELECT t FROM 'dev/+'", "Actions": list(actions), **extra}
    return RulesEngine([TopicRule("rule", payload)], RecordingTarget(clients=clients))


def _watched_topic(clients: BotoClients) -> tuple[str, str]:
    """A topic and an SQS queue receiving what is published to it, raw."""
    sns, sqs = clients("sns"), clients("sqs")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    url = sqs.create_queue(QueueName="watch")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    return topic, url


async def test_sns_publish_lands_raw(boto_clients: BotoClients) -> None:
    topic, url = _watched_topic(boto_clients)
    engine = _engine(boto_clients, {"Sns": {"TargetArn": topic, "RoleArn": ROLE}})
    engine.dispatch("dev/1", b'{"t": 70}')
    await engine.drain()
    (message,) = boto_clients("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert json.loads(message["Body"]) == {"t": 70}
    assert engine.stats.actions_failed == 0
    await engine.close()


async def test_sns_missing_topic_runs_the_error_action(boto_clients: BotoClients) -> None:
    sqs = boto_clients("sqs")
    errors = sqs.create_queue(QueueName="errors")["QueueUrl"]
    missing = "arn:aws:sns:us-east-1:123456789012:missing"
    engine = _engine(
        boto_clients,
        {"Sns": {"TargetArn": missing, "RoleArn": ROLE}},
        ErrorAction={"Sqs": {"QueueUrl": errors, "RoleArn": ROLE}},
    )
    engine.dispatch("dev/1", b'{"t": 1}')
    await engine.drain()
    (message,) = sqs.receive_message(QueueUrl=errors, WaitTimeSeconds=1)["Messages"]
    failure = json.loads(message["Body"])["failures"][0]
    assert failure["failedAction"] == "SnsAction"
    assert failure["failedResource"] == missing
    assert "Failed to publish the message to the SNS topic" in failure["errorMessage"]
    await engine.close()


def test_sns_definition() -> None:
    action = build_action({"Sns": {"TargetArn": "arn:t", "MessageFormat": "JSON"}})
    assert isinstance(action, SnsAction) and action.json_format
    with pytest.raises(RuleDefinitionError, match="MessageFormat must be RAW or JSON"):
        build_action({"Sns": {"TargetArn": "arn:t", "MessageFormat": "XML"}})
    with pytest.raises(RuleDefinitionError, match="missing TargetArn"):
        build_action({"Sns": {}})


async def test_an_unsupported_action_is_reported_and_the_others_still_run(
    boto_clients: BotoClients,
) -> None:
    topic, url = _watched_topic(boto_clients)
    engine = _engine(
        boto_clients,
        {"Timestream": {"DatabaseName": "db", "TableName": "t"}},
        {"Sns": {"TargetArn": topic, "RoleArn": ROLE}},
    )
    assert engine.warnings == ["rule rule: action Timestream is not emulated"]
    engine.dispatch("dev/1", b'{"t": 5}')
    await engine.drain()
    (message,) = boto_clients("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert json.loads(message["Body"]) == {"t": 5}
    await engine.close()
