"""The Firehose and Step Functions rule actions against a real moto server ("Firehose",
https://docs.aws.amazon.com/iot/latest/developerguide/kinesis-firehose-rule-action.html;
"Step Functions",
https://docs.aws.amazon.com/iot/latest/developerguide/stepfunctions-rule-action.html),
the state machine a template declares, and the IAM checks of both calls."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator.aws.iam.operations import ApiRequest, ContinuationTokens, checks
from emulator.aws.provision import provision
from emulator.rules import BotoClients, RulesEngine, TopicRule
from emulator.rules.actions import RuleDefinitionError, build_action
from emulator.template import template_from_dict
from tests.emulator.rules.conftest import RecordingTarget

ROLE = "arn:aws:iam::123456789012:role/rules"


def _engine(clients: BotoClients, sql: str, action: dict[str, Any]) -> RulesEngine:
    payload = {"Sql": sql, "Actions": [action]}
    return RulesEngine([TopicRule("rule", payload)], RecordingTarget(clients=clients))


def _delivery_stream(clients: BotoClients) -> Any:
    s3 = clients("s3")
    s3.create_bucket(Bucket="landing")
    clients("firehose").create_delivery_stream(
        DeliveryStreamName="readings",
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE,
            "BucketARN": "arn:aws:s3:::landing",
        },
    )
    return s3


def _landed(s3: Any) -> bytes:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="landing").get("Contents", [])]
    return b"".join(s3.get_object(Bucket="landing", Key=k)["Body"].read() for k in keys)


async def test_firehose_record_lands_with_its_separator(boto_clients: BotoClients) -> None:
    s3 = _delivery_stream(boto_clients)
    action = {"DeliveryStreamName": "readings", "Separator": "\n", "RoleArn": ROLE}
    engine = _engine(boto_clients, "SELECT t FROM 'dev/+'", {"Firehose": action})
    engine.dispatch("dev/1", b'{"t": 3, "x": 1}')
    await engine.drain()
    assert _landed(s3) == b'{"t":3}\n'
    assert engine.stats.actions_failed == 0
    await engine.close()


async def test_firehose_batch_mode_sends_each_element(boto_clients: BotoClients) -> None:
    s3 = _delivery_stream(boto_clients)
    action = {"DeliveryStreamName": "readings", "BatchMode": True, "Separator": ","}
    engine = _engine(boto_clients, "SELECT VALUE items FROM 'dev/+'", {"Firehose": action})
    engine.dispatch("dev/1", b'{"items": [1, {"a": 2}]}')
    engine.dispatch("dev/1", b'{"items": "not a list"}')
    await engine.drain()
    assert _landed(s3) == b'1,{"a":2},'
    assert engine.stats.actions_failed == 1
    await engine.close()


async def test_step_functions_execution_starts(boto_clients: BotoClients) -> None:
    template = template_from_dict(
        {
            "Resources": {
                "Flow": {
                    "Type": "AWS::StepFunctions::StateMachine",
                    "Properties": {
                        "StateMachineName": "flow",
                        "RoleArn": ROLE,
                        "Definition": {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}},
                    },
                }
            }
        }
    )
    provision(template, boto_clients)
    flow = template.resource("Flow")
    assert flow.ref == "arn:aws:states:us-east-1:123456789012:stateMachine:flow"
    action = {"StateMachineName": "flow", "ExecutionNamePrefix": "iot-", "RoleArn": ROLE}
    engine = _engine(boto_clients, "SELECT t FROM 'dev/+'", {"StepFunctions": action})
    engine.dispatch("dev/1", b'{"t": 7}')
    await engine.drain()
    sfn = boto_clients("stepfunctions")
    (execution,) = sfn.list_executions(stateMachineArn=flow.ref)["executions"]
    assert execution["name"].startswith("iot-")
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"]) == {"t": 7}
    await engine.close()


async def test_a_missing_state_machine_fails_the_action(boto_clients: BotoClients) -> None:
    action = {"StateMachineName": "nowhere", "RoleArn": ROLE}
    engine = _engine(boto_clients, "SELECT t FROM 'dev/+'", {"StepFunctions": action})
    engine.dispatch("dev/1", b'{"t": 7}')
    await engine.drain()
    assert engine.stats.actions_failed == 1
    await engine.close()


def test_definitions() -> None:
    with pytest.raises(RuleDefinitionError, match="Separator must be one of"):
        build_action({"Firehose": {"DeliveryStreamName": "s", "Separator": ";"}})
    with pytest.raises(RuleDefinitionError, match="missing StateMachineName"):
        build_action({"StepFunctions": {"RoleArn": ROLE}})


def test_iam_checks_name_the_stream_and_the_state_machine() -> None:
    def call(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
        request = ApiRequest.parse(
            service,
            "us-east-1",
            "123456789012",
            target=f"X_20150804.{operation}",
            path="/",
            body=json.dumps(params).encode(),
        )
        return checks(request, ContinuationTokens())

    assert call("firehose", "PutRecord", {"DeliveryStreamName": "s"}) == [
        ("firehose:PutRecord", "arn:aws:firehose:us-east-1:123456789012:deliverystream/s")
    ]
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:flow"
    assert call("states", "StartExecution", {"stateMachineArn": machine}) == [
        ("states:StartExecution", machine)
    ]
