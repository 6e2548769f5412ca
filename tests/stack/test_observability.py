"""Alarms, their topic and the dashboard, as committed in templates/chat.json: every
alarm pinned by its metric, statistic, threshold and target, the topic encrypted, the
e-mail subscription optional."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from stack.functions import FUNCTIONS
from stack.observability import ALARMS
from tests.stack.conftest import of_type

OWN = {"Fn::Sub": "ServerlessChat/${AWS::StackName}"}
TOPIC = [{"Ref": "AlarmTopic"}]
RULE_NAME_PREFIX = {"Fn::Join": ["_", {"Fn::Split": ["-", {"Ref": "AWS::StackName"}]}]}


def _rule(name: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [RULE_NAME_PREFIX, f"_{name}"]]}


def _dims(**dims: Any) -> list[dict[str, Any]]:
    return [{"Name": k, "Value": v} for k, v in dims.items()]


# logical id: (alarm name after "<stack>-", namespace, metric, dimensions, statistic,
#              threshold, condition)
SINGLE: dict[str, tuple[str, Any, str, list[dict[str, Any]], str, float, str | None]] = {
    "RuleErrorsAlarm": ("rule-action-failures", OWN, "RuleActionFailures", [], "Sum", 1, None),
    "AuthorizerFailuresAlarm": (
        "authorizer-failures",
        OWN,
        "AuthorizerErrors",
        _dims(service="authorizer"),
        "Sum",
        1,
        None,
    ),
    "AsyncFailureAlarm": (
        "async-failure-queue",
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        _dims(QueueName={"Fn::GetAtt": ["AsyncFailureQueue", "QueueName"]}),
        "Maximum",
        1,
        None,
    ),
    "StreamFailureAlarm": (
        "stream-failure-queue",
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        _dims(QueueName={"Fn::GetAtt": ["StreamFailureQueue", "QueueName"]}),
        "Maximum",
        1,
        "StreamEnabled",
    ),
    "StreamIteratorAgeAlarm": (
        "stream-iterator-age",
        "AWS/Kinesis",
        "GetRecords.IteratorAgeMilliseconds",
        _dims(StreamName={"Ref": "ChatStream"}),
        "Maximum",
        60_000,
        "StreamEnabled",
    ),
    **{
        f"{f.name}{kind}Alarm": (
            f"{f.short}-function-{kind.lower()}",
            "AWS/Lambda",
            kind,
            _dims(FunctionName={"Ref": f.logical_id}),
            "Sum",
            1,
            None,
        )
        for f in FUNCTIONS
        for kind in ("Errors", "Throttles")
    },
}

# logical id: (alarm name, the metrics summed as (namespace, metric, dimensions))
SUMMED: dict[str, tuple[str, list[tuple[str, str, list[dict[str, Any]]]]]] = {
    "RuleThrottlesAlarm": (
        "rule-messages-throttled",
        [
            ("AWS/IoT", "RuleMessageThrottled", _dims(RuleName=_rule(name)))
            for name in ("lifecycle", "republish", "route", "store", "stream")
        ],
    ),
    **{
        f"{table}Table" + "ThrottlesAlarm": (
            f"{table.lower()}-table-throttles",
            [
                ("AWS/DynamoDB", metric, _dims(TableName={"Ref": f"{table}Table"}))
                for metric in ("ReadThrottleEvents", "WriteThrottleEvents")
            ],
        )
        for table in ("Messages", "Connections", "RateLimit")
    },
}


def _common(props: dict[str, Any], name: str) -> None:
    """Every alarm: named after the stack, described, notifying the topic both ways,
    in ALARM from the threshold up, quiet when nothing happens."""
    assert props["AlarmName"] == {"Fn::Sub": f"${{AWS::StackName}}-{name}"}
    assert len(props["AlarmDescription"]) > 40
    assert props["AlarmActions"] == TOPIC and props["OKActions"] == TOPIC
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert props["EvaluationPeriods"] == 1
    assert props["TreatMissingData"] == "notBreaching"


def test_the_alarms_are_exactly_these(resources: dict[str, Any]):
    assert set(of_type(resources, "AWS::CloudWatch::Alarm")) == set(SINGLE) | set(SUMMED)


@pytest.mark.parametrize("logical_id", sorted(SINGLE))
def test_single_metric_alarm(resources: dict[str, Any], logical_id: str):
    name, namespace, metric, dims, statistic, threshold, condition = SINGLE[logical_id]
    alarm = resources[logical_id]
    props = alarm["Properties"]
    _common(props, name)
    assert props["Namespace"] == namespace and props["MetricName"] == metric
    assert props["Dimensions"] == dims
    assert props["Statistic"] == statistic and props["Period"] == 300
    assert props["Threshold"] == threshold
    assert alarm.get("Condition") == condition


@pytest.mark.parametrize("logical_id", sorted(SUMMED))
def test_summed_alarm(resources: dict[str, Any], logical_id: str):
    name, summed = SUMMED[logical_id]
    alarm = resources[logical_id]
    props = alarm["Properties"]
    _common(props, name)
    assert props["Threshold"] == 1 and "Condition" not in alarm
    *queries, total = props["Metrics"]
    assert total == {
        "Id": "total",
        "Expression": "SUM(METRICS())",
        "Label": "total",
        "ReturnData": True,
    }
    found = []
    for query in queries:
        assert query["ReturnData"] is False
        stat = query["MetricStat"]
        assert stat["Period"] == 300 and stat["Stat"] == "Sum"
        m = stat["Metric"]
        found.append((m["Namespace"], m["MetricName"], m["Dimensions"]))
    assert found == summed


def test_topic_is_encrypted_and_mail_is_optional(template: dict[str, Any]):
    resources = template["Resources"]
    topic = resources["AlarmTopic"]
    assert topic["Type"] == "AWS::SNS::Topic"
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": ["StackKey", "Arn"]}
    subscription = resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "AlarmEmailGiven"
    assert subscription["Properties"] == {
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
        "TopicArn": {"Ref": "AlarmTopic"},
    }
    assert template["Conditions"]["AlarmEmailGiven"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    parameter = template["Parameters"]["AlarmEmail"]
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch("ops@example.com")
    assert not pattern.fullmatch("not an address") and not pattern.fullmatch("a@b")


def test_rule_errors_are_counted_from_the_error_log(resources: dict[str, Any]):
    (mf,) = of_type(resources, "AWS::Logs::MetricFilter").values()
    props = mf["Properties"]
    assert props["LogGroupName"] == {"Ref": "RuleErrorsLogGroup"}
    assert props["FilterPattern"] == ""  # every event: only the error action writes there
    assert props["MetricTransformations"] == [
        {
            "MetricName": "RuleActionFailures",
            "MetricNamespace": OWN,
            "MetricValue": "1",
            "Unit": "Count",
        }
    ]


def _dashboard(resources: dict[str, Any], stream: bool) -> tuple[dict[str, Any], dict]:
    props = resources["Dashboard"]["Properties"]
    assert props["DashboardName"] == {"Fn::Sub": "${AWS::StackName}-chat"}
    condition, with_stream, without = props["DashboardBody"]["Fn::If"]
    assert condition == "StreamEnabled"
    text, variables = (with_stream if stream else without)["Fn::Sub"]
    assert variables == {"RulePrefix": RULE_NAME_PREFIX}
    return json.loads(text), variables


@pytest.mark.parametrize("stream", [True, False])
def test_dashboard_shows_what_an_operator_looks_at_first(resources: dict[str, Any], stream):
    body, _ = _dashboard(resources, stream)
    by_title = {w["properties"]["title"].split(" (")[0]: w for w in body["widgets"]}
    assert set(by_title) == {
        "Connections",
        "Messages in and out",
        "Rule failures",
        "Function errors and throttles",
        "Function duration, p99",
        "Chat activity",
        "Refusals by reason",
        "Failure queues",
    }
    names = {
        tuple(m[:2])
        for w in body["widgets"]
        for m in w["properties"]["metrics"]
        if isinstance(m[0], str)
    }
    assert {
        ("AWS/IoT", "Connect.Success"),
        ("AWS/IoT", "PublishIn.Success"),
        ("AWS/IoT", "PublishOut.Success"),
        ("AWS/IoT", "TopicMatch"),
        ("AWS/IoT", "RuleMessageThrottled"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Duration"),
        (OWN["Fn::Sub"], "RuleActionFailures"),
        (OWN["Fn::Sub"], "Messages"),
        (OWN["Fn::Sub"], "Joins"),
        (OWN["Fn::Sub"], "HistoryPages"),
    } <= names
    durations = by_title["Function duration, p99"]["properties"]
    assert durations["stat"] == "p99"
    assert [m[3] for m in durations["metrics"]] == [
        f"${{AWS::StackName}}-{f.short}" for f in FUNCTIONS
    ]
    text = json.dumps(body)
    # Without the stream, nothing names its resources (they do not exist).
    assert ("ChatStream" in text) is stream and ("StreamFailureQueue" in text) is stream
    assert ("${RulePrefix}_stream" in text) is stream


def test_docs_say_what_every_alarm_means():
    """docs/operations.md has a row for every alarm (the per-function ones as
    ``<function>-function-<kind>``), and names no alarm the template lacks."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    table = page[page.index("## The alarms") : page.index("## The dashboard")]
    documented = set(re.findall(r"^\| `([a-z<>-]+)`", table, re.MULTILINE))
    documented |= set(re.findall(r"`([a-z]+-table-throttles)`", table))
    documented |= {m for m in re.findall(r"`([a-z-]+)` \(with", table)}
    expected = set()
    for alarm in ALARMS:
        name = alarm.name
        for f in FUNCTIONS:
            if name.startswith(f"{f.short}-function-"):
                name = name.replace(f.short, "<function>", 1)
        expected.add(name)
    assert documented == expected
