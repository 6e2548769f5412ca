"""The S3 and CloudWatch metric rule actions against a real moto server ("S3",
https://docs.aws.amazon.com/iot/latest/developerguide/s3-rule-action.html; "CloudWatch
metrics", https://docs.aws.amazon.com/iot/latest/developerguide/cloudwatch-metrics-rule-action.html):
what lands, what fails into the error action, either as the error action, and both as
their role through the IAM gate."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from emulator.aws import AwsServices
from emulator.aws.iam import IOT, EmulatorIam, IamActionTarget
from emulator.aws.provision import provision
from emulator.iot.policy import IotArns
from emulator.rules import BotoClients, RulesEngine, TopicRule
from emulator.rules.actions import (
    CloudwatchMetricAction,
    RuleDefinitionError,
    S3Action,
    build_action,
)
from emulator.rules.target import ActionTarget
from emulator.template import template_from_dict
from tests.emulator.aws.iam.conftest import create_role
from tests.emulator.rules.conftest import RecordingTarget

ROLE = "arn:aws:iam::123456789012:role/rules"
METRIC = {
    "MetricNamespace": "Plant/${topic(2)}",
    "MetricName": "temperature",
    "MetricValue": "${t}",
    "MetricUnit": "None",
    "RoleArn": ROLE,
}


def _engine(target: ActionTarget, *actions: dict[str, Any], **extra: Any) -> RulesEngine:
    payload = {"Sql": "SELECT t, room FROM 'dev/+'", "Actions": list(actions), **extra}
    return RulesEngine([TopicRule("rule", payload)], target)


def _errors(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


async def test_s3_object_lands_under_its_templated_key(boto_clients: BotoClients) -> None:
    s3 = boto_clients("s3")
    s3.create_bucket(Bucket="landing")
    action = {
        "BucketName": "landing",
        "Key": "${topic(2)}/${room}.json",
        "CannedAcl": "public-read",
        "RoleArn": ROLE,
    }
    engine = _engine(RecordingTarget(clients=boto_clients), {"S3": action})
    engine.dispatch("dev/7", b'{"t": 3, "room": "lab", "x": 1}')
    await engine.drain()
    assert (
        s3.get_object(Bucket="landing", Key="7/lab.json")["Body"].read() == b'{"t":3,"room":"lab"}'
    )
    grants = s3.get_object_acl(Bucket="landing", Key="7/lab.json")["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("/AllUsers") for g in grants)
    assert engine.stats.actions_failed == 0
    await engine.close()


async def test_s3_reaches_a_bucket_the_template_declares(boto_clients: BotoClients) -> None:
    template = template_from_dict(
        {
            "Resources": {
                "Landing": {"Type": "AWS::S3::Bucket"},
                "Named": {
                    "Type": "AWS::S3::Bucket",
                    "Properties": {
                        "BucketName": "named-landing",
                        "Tags": [{"Key": "team", "Value": "plant"}],
                    },
                },
            }
        },
        stack_name="plant",
    )
    done = provision(template, boto_clients)
    assert done.created["AWS::S3::Bucket"] == ["plant-landing", "named-landing"]
    landing = template.resource("Landing")
    assert landing.ref == "plant-landing"
    assert template.resolve({"Fn::GetAtt": ["Landing", "Arn"]}) == "arn:aws:s3:::plant-landing"
    s3 = boto_clients("s3")
    assert s3.get_bucket_tagging(Bucket="named-landing")["TagSet"] == [
        {"Key": "team", "Value": "plant"}
    ]
    action = {"BucketName": landing.ref, "Key": "${topic()}", "RoleArn": ROLE}
    engine = _engine(RecordingTarget(clients=boto_clients), {"S3": action})
    engine.dispatch("dev/2", b'{"t": 9}')
    await engine.drain()
    assert s3.get_object(Bucket="plant-landing", Key="dev/2")["Body"].read() == b'{"t":9}'
    await engine.close()


async def test_s3_missing_bucket_runs_the_error_action(boto_clients: BotoClients) -> None:
    sqs = boto_clients("sqs")
    errors = sqs.create_queue(QueueName="errors")["QueueUrl"]
    engine = _engine(
        RecordingTarget(clients=boto_clients),
        {"S3": {"BucketName": "nowhere", "Key": "k", "RoleArn": ROLE}},
        ErrorAction={"Sqs": {"QueueUrl": errors, "RoleArn": ROLE}},
    )
    engine.dispatch("dev/1", b'{"t": 1}')
    await engine.drain()
    ((payload,),) = [[e["failures"][0]] for e in _errors(sqs, errors)]
    assert payload["failedAction"] == "S3Action"
    assert payload["failedResource"] == "nowhere"
    message = payload["errorMessage"]
    assert message.startswith("Failed to put the object into the S3 bucket. The error received")
    assert "(Service: Amazon S3; Status Code: 404; Error Code: NoSuchBucket;" in message
    assert message.endswith("Message arrived on: dev/1, Action: s3, Bucket: nowhere")
    await engine.close()


async def test_metric_is_put_with_its_templates(boto_clients: BotoClients) -> None:
    stamp = int((datetime.now(UTC) - timedelta(minutes=5)).timestamp())
    action = {**METRIC, "MetricTimestamp": "${ts}"}
    engine = RulesEngine(
        [
            TopicRule(
                "rule", {"Sql": "SELECT * FROM 'dev/+'", "Actions": [{"CloudwatchMetric": action}]}
            )
        ],
        RecordingTarget(clients=boto_clients),
    )
    engine.dispatch("dev/7", json.dumps({"t": 21.5, "ts": stamp}).encode())
    await engine.drain()
    assert engine.stats.actions_failed == 0
    cloudwatch = boto_clients("cloudwatch")
    (metric,) = cloudwatch.list_metrics(Namespace="Plant/7")["Metrics"]
    assert metric["MetricName"] == "temperature"
    query = {
        "Id": "t",
        "MetricStat": {
            "Metric": {"Namespace": "Plant/7", "MetricName": "temperature"},
            "Period": 60,
            "Stat": "Maximum",
        },
    }
    data = cloudwatch.get_metric_data(
        MetricDataQueries=[query],
        StartTime=datetime.fromtimestamp(stamp - 60, UTC),
        EndTime=datetime.fromtimestamp(stamp + 60, UTC),
    )["MetricDataResults"][0]
    assert data["Values"] == [21.5]
    await engine.close()


async def test_a_value_that_is_not_a_number_runs_the_error_action(
    boto_clients: BotoClients,
) -> None:
    s3 = boto_clients("s3")
    s3.create_bucket(Bucket="errors")
    engine = _engine(
        RecordingTarget(clients=boto_clients),
        {"CloudwatchMetric": METRIC},
        ErrorAction={"S3": {"BucketName": "errors", "Key": "${newuuid()}", "RoleArn": ROLE}},
    )
    engine.dispatch("dev/1", b'{"t": "hot"}')
    await engine.drain()
    (key,) = [o["Key"] for o in s3.list_objects_v2(Bucket="errors")["Contents"]]
    failure = json.loads(s3.get_object(Bucket="errors", Key=key)["Body"].read())["failures"][0]
    assert failure["failedAction"] == "CloudwatchMetricAction"
    assert failure["failedResource"] == "Plant/1/temperature"
    assert "the metric value 'hot' is not a number" in failure["errorMessage"]
    assert boto_clients("cloudwatch").list_metrics(Namespace="Plant/1")["Metrics"] == []
    await engine.close()


async def test_a_metric_can_be_the_error_action(boto_clients: BotoClients) -> None:
    failing = {"S3": {"BucketName": "nowhere", "Key": "k", "RoleArn": ROLE}}
    error_metric = {
        **METRIC,
        "MetricNamespace": "Rules",
        "MetricName": "failed",
        "MetricValue": "1",
    }
    engine = _engine(
        RecordingTarget(clients=boto_clients),
        failing,
        ErrorAction={"CloudwatchMetric": {**error_metric, "MetricUnit": "Count"}},
    )
    engine.dispatch("dev/1", b'{"t": 1}')
    await engine.drain()
    (metric,) = boto_clients("cloudwatch").list_metrics(Namespace="Rules")["Metrics"]
    assert metric["MetricName"] == "failed"
    await engine.close()


def test_definitions() -> None:
    action = build_action({"S3": {"BucketName": "b", "Key": "${topic()}", "RoleArn": ROLE}})
    assert isinstance(action, S3Action) and action.canned_acl is None
    with pytest.raises(RuleDefinitionError, match="CannedAcl must be one of private"):
        build_action({"S3": {"BucketName": "b", "Key": "k", "CannedAcl": "everyone"}})
    with pytest.raises(RuleDefinitionError, match="S3: missing Key"):
        build_action({"S3": {"BucketName": "b"}})
    metric = build_action({"CloudwatchMetric": METRIC})
    assert isinstance(metric, CloudwatchMetricAction) and metric.timestamp is None
    with pytest.raises(RuleDefinitionError, match="missing MetricUnit"):
        build_action({"CloudwatchMetric": {k: v for k, v in METRIC.items() if k != "MetricUnit"}})


async def test_both_actions_run_as_their_role(aws: AwsServices) -> None:
    """Through the IAM gate: s3:PutObject on the object's ARN, cloudwatch:PutMetricData
    on *; a role without them gets AccessDenied, and the error action runs."""
    aws.reset()
    s3, sqs = aws.client("s3"), aws.client("sqs")
    s3.create_bucket(Bucket="landing")
    errors = sqs.create_queue(QueueName="errors")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=errors, AttributeNames=["QueueArn"])
    iam = aws.client("iam")
    allowed = create_role(
        iam,
        [
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::landing/in/*"},
            {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": queue_arn["Attributes"]["QueueArn"],
            },
        ],
        IOT,
    )
    other = create_role(iam, [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}], IOT)
    target = IamActionTarget(
        _nothing, _nothing, EmulatorIam(aws, template_from_dict({"Resources": {}})), IotArns()
    )
    rules = [
        TopicRule(
            name,
            {
                "Sql": "SELECT t FROM 'dev/+'",
                "Actions": [
                    {
                        "S3": {
                            "BucketName": "landing",
                            "Key": f"{prefix}/${{topic(2)}}",
                            "RoleArn": role,
                        }
                    },
                    {"CloudwatchMetric": {**METRIC, "MetricNamespace": name, "RoleArn": role}},
                ],
                "ErrorAction": {"Sqs": {"QueueUrl": errors, "RoleArn": allowed}},
            },
        )
        for name, prefix, role in (("granted", "in", allowed), ("refused", "out", other))
    ]
    engine = RulesEngine(rules, target)
    engine.dispatch("dev/1", b'{"t": 4}')
    await engine.drain()
    assert s3.get_object(Bucket="landing", Key="in/1")["Body"].read() == b'{"t":4}'
    cloudwatch = aws.client("cloudwatch")
    assert [m["MetricName"] for m in cloudwatch.list_metrics(Namespace="granted")["Metrics"]] == [
        "temperature"
    ]
    assert cloudwatch.list_metrics(Namespace="refused")["Metrics"] == []
    (error,) = _errors(sqs, errors)
    assert error["ruleName"] == "refused"
    failures = {f["failedAction"]: f["errorMessage"] for f in error["failures"]}
    assert set(failures) == {"S3Action", "CloudwatchMetricAction"}
    session = f"assumed-role/{other.rsplit('/', 1)[1]}/refused"
    assert (
        f"{session} is not authorized to perform: s3:PutObject on resource: "
        in failures["S3Action"]
    )
    assert "arn:aws:s3:::landing/out/1" in failures["S3Action"]
    assert "Error Code: AccessDenied;" in failures["S3Action"]
    assert "perform: cloudwatch:PutMetricData because" in failures["CloudwatchMetricAction"]
    assert "Error Code: AccessDenied;" in failures["CloudwatchMetricAction"]
    await engine.close()


async def _nothing(*args: Any) -> None:
    raise AssertionError("neither action publishes nor invokes")
