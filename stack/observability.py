"""Knowing when the chat is broken: alarms that notify one SNS topic, the dashboard an
operator opens first, and the namespace the functions' own metrics go to.

``ALARMS`` is the one list of alarms, as data; each becomes an AWS::CloudWatch::Alarm
named ``<stack>-<name>`` that notifies AlarmTopic when it goes into ALARM and when it
recovers. docs/operations.md says what each one means and what to do. Metric names and
dimensions follow each service's CloudWatch page:
- AWS IoT: https://docs.aws.amazon.com/iot/latest/developerguide/metrics_dimensions.html
- Lambda: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
- SQS: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
- Kinesis: https://docs.aws.amazon.com/streams/latest/dev/monitoring-with-cloudwatch.html
- DynamoDB: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from troposphere import GetAtt, If, Ref, Sub, Template, cloudwatch, logs, sns

from iot_rules import RULES
from stack.encryption import key_arn
from stack.functions import FUNCTIONS, METRICS_NAMESPACE
from stack.parameters import STREAM_ENABLED, add_optional
from stack.rules import rule_name, rule_prefix

# The functions' business metrics (chatlib.metrics, through POWERTOOLS_METRICS_NAMESPACE)
# and the rule-error count go here: one namespace per stack.
NAMESPACE = METRICS_NAMESPACE
ALARM_TOPIC = "AlarmTopic"
ALARM_EMAIL_GIVEN = "AlarmEmailGiven"
PERIOD_SECONDS = 300
RULE_ERRORS_METRIC = "RuleActionFailures"
# Records waiting longer than this in the stream: the chat function is behind.
STREAM_LAG_MS = 60_000
TABLES = ("MessagesTable", "ConnectionsTable", "RateLimitTable")


def metrics_namespace() -> Sub:
    """The stack's own CloudWatch namespace."""
    return Sub(NAMESPACE)


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric: namespace, name, dimensions, statistic."""

    namespace: Any
    name: str
    dimensions: dict[str, Any] = field(default_factory=dict)
    statistic: str = "Sum"

    def dimension_list(self) -> list[cloudwatch.MetricDimension]:
        return [cloudwatch.MetricDimension(Name=k, Value=v) for k, v in self.dimensions.items()]


@dataclass(frozen=True)
class Alarm:
    """One alarm, as data: ``name`` (kebab case) becomes ``<stack>-<name>``; in ALARM
    when the metric (or the sum of ``metrics``) reaches ``threshold`` in a 5-minute
    period. Missing data (nothing happened) is not breaching."""

    title: str
    name: str
    description: str
    threshold: float
    metric: Metric | None = None
    metrics: tuple[Metric, ...] = ()  # summed: SUM(METRICS())
    condition: str | None = None

    def resource(self) -> cloudwatch.Alarm:
        props: dict[str, Any] = {
            "AlarmName": Sub(f"${{AWS::StackName}}-{self.name}"),
            "AlarmDescription": self.description,
            "AlarmActions": [Ref(ALARM_TOPIC)],
            "OKActions": [Ref(ALARM_TOPIC)],
            "EvaluationPeriods": 1,
            "Threshold": self.threshold,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
        }
        if self.metric is not None:
            props.update(
                Namespace=self.metric.namespace,
                MetricName=self.metric.name,
                Dimensions=self.metric.dimension_list(),
                Statistic=self.metric.statistic,
                Period=PERIOD_SECONDS,
            )
        else:
            props["Metrics"] = [_query(f"m{i}", m) for i, m in enumerate(self.metrics)] + [
                cloudwatch.MetricDataQuery(
                    Id="total", Expression="SUM(METRICS())", Label="total", ReturnData=True
                )
            ]
        if self.condition:
            props["Condition"] = self.condition
        return cloudwatch.Alarm(self.title, **props)


def _query(query_id: str, m: Metric) -> cloudwatch.MetricDataQuery:
    return cloudwatch.MetricDataQuery(
        Id=query_id,
        MetricStat=cloudwatch.MetricStat(
            Metric=cloudwatch.Metric(
                Namespace=m.namespace, MetricName=m.name, Dimensions=m.dimension_list()
            ),
            Period=PERIOD_SECONDS,
            Stat=m.statistic,
        ),
        ReturnData=False,
    )


def _queue_alarm(title: str, name: str, queue: str, what: str, condition: str | None) -> Alarm:
    return Alarm(
        title,
        name,
        f"{what} failed after its retries and waits in {queue}: read its messages, fix the "
        "cause, then delete them (docs/operations.md)",
        threshold=1,
        metric=Metric(
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": GetAtt(queue, "QueueName")},
            "Maximum",
        ),
        condition=condition,
    )


def _function_alarms() -> list[Alarm]:
    alarms = []
    for f in FUNCTIONS:
        dims = {"FunctionName": Ref(f.logical_id)}
        alarms.append(
            Alarm(
                f"{f.name}ErrorsAlarm",
                f"{f.short}-function-errors",
                f"The {f.short} function failed (raised, timed out or ran out of memory) at "
                "least once in 5 minutes: see its log group",
                threshold=1,
                metric=Metric("AWS/Lambda", "Errors", dims),
            )
        )
        alarms.append(
            Alarm(
                f"{f.name}ThrottlesAlarm",
                f"{f.short}-function-throttles",
                f"The {f.short} function was refused a run: its reserved concurrency "
                f"({f.concurrency_parameter}) or the account's limit is reached",
                threshold=1,
                metric=Metric("AWS/Lambda", "Throttles", dims),
            )
        )
    return alarms


def _alarms() -> tuple[Alarm, ...]:
    own = metrics_namespace()
    return (
        Alarm(
            "RuleErrorsAlarm",
            "rule-action-failures",
            "A topic rule's action failed (republish, DynamoDB, Lambda or Kinesis): the "
            "rules' error log group has the rule, the action and AWS's error message",
            threshold=1,
            metric=Metric(own, RULE_ERRORS_METRIC),
        ),
        Alarm(
            "RuleThrottlesAlarm",
            "rule-messages-throttled",
            "AWS IoT throttled messages on their way to the topic rules (RuleMessageThrottled): "
            "they were neither stored nor delivered by the rules, and no error action ran",
            threshold=1,
            metrics=tuple(
                Metric("AWS/IoT", "RuleMessageThrottled", {"RuleName": rule_name(r)}) for r in RULES
            ),
        ),
        *_function_alarms(),
        Alarm(
            "AuthorizerFailuresAlarm",
            "authorizer-failures",
            "The custom authorizer could not check a token (secret or JWKS unreachable, a "
            "bug) and denied the connection: valid users cannot connect",
            threshold=1,
            metric=Metric(own, "AuthorizerErrors", {"service": "authorizer"}),
        ),
        _queue_alarm(
            "AsyncFailureAlarm",
            "async-failure-queue",
            "AsyncFailureQueue",
            "A rule's function invocation (join, command, lifecycle event)",
            None,
        ),
        _queue_alarm(
            "StreamFailureAlarm",
            "stream-failure-queue",
            "StreamFailureQueue",
            "A batch of stream records",
            STREAM_ENABLED,
        ),
        Alarm(
            "StreamIteratorAgeAlarm",
            "stream-iterator-age",
            f"Records wait over {STREAM_LAG_MS // 1000} s in ChatStream before the chat "
            "function reads them: messages from the stream path arrive late",
            threshold=STREAM_LAG_MS,
            metric=Metric(
                "AWS/Kinesis",
                "GetRecords.IteratorAgeMilliseconds",
                {"StreamName": Ref("ChatStream")},
                "Maximum",
            ),
            condition=STREAM_ENABLED,
        ),
        *(
            Alarm(
                f"{table}ThrottlesAlarm",
                f"{table.removesuffix('Table').lower()}-table-throttles",
                f"DynamoDB throttled reads or writes on {table}: requests failed or were "
                "retried (on-demand tables throttle above their partition or account limits)",
                threshold=1,
                metrics=(
                    Metric("AWS/DynamoDB", "ReadThrottleEvents", {"TableName": Ref(table)}),
                    Metric("AWS/DynamoDB", "WriteThrottleEvents", {"TableName": Ref(table)}),
                ),
            )
            for table in TABLES
        ),
    )


ALARMS: tuple[Alarm, ...] = _alarms()


def add_observability(t: Template) -> None:
    """AlarmEmail, AlarmTopic (and its subscription), the rule-error metric filter, the
    alarms and the dashboard."""
    add_optional(
        t,
        "AlarmEmail",
        ALARM_EMAIL_GIVEN,
        pattern="[^@\\s]+@[^@\\s]+\\.[^@\\s]+",
        description="Address the alarms notify, optional (AWS mails a confirmation link "
        "first; the alarms go to the AlarmTopic SNS topic either way)",
    )
    t.add_resource(
        sns.Topic(
            ALARM_TOPIC,
            DisplayName=Sub("Chat ${AWS::StackName} alarms"),
            KmsMasterKeyId=key_arn(),
        )
    )
    t.add_resource(
        sns.SubscriptionResource(
            "AlarmEmailSubscription",
            Condition=ALARM_EMAIL_GIVEN,
            TopicArn=Ref(ALARM_TOPIC),
            Protocol="email",
            Endpoint=Ref("AlarmEmail"),
        )
    )
    # Only the error action writes to this group, one event per failed action: count
    # every event (an empty pattern matches all, CloudWatch Logs "Example: Count log
    # events", https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CountingLogEventsExample.html).
    t.add_resource(
        logs.MetricFilter(
            "RuleErrorsMetricFilter",
            LogGroupName=Ref("RuleErrorsLogGroup"),
            FilterPattern="",
            MetricTransformations=[
                logs.MetricTransformation(
                    MetricNamespace=metrics_namespace(),
                    MetricName=RULE_ERRORS_METRIC,
                    MetricValue="1",
                    Unit="Count",
                )
            ],
        )
    )
    for alarm in ALARMS:
        t.add_resource(alarm.resource())
    t.add_resource(
        cloudwatch.Dashboard(
            "Dashboard",
            DashboardName=Sub("${AWS::StackName}-chat"),
            # The stream's widgets may name its resources only when they exist.
            DashboardBody=If(STREAM_ENABLED, _body(stream=True), _body(stream=False)),
        )
    )


# -------------------------------------------------------------------- dashboard


def _body(*, stream: bool) -> Sub:
    return Sub(json.dumps(dashboard(stream=stream), sort_keys=True), RulePrefix=rule_prefix())


OWN = NAMESPACE  # inside the dashboard's Fn::Sub text


def _widget(title: str, metrics: list[list[Any]], x: int, y: int, stat: str = "Sum") -> dict:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "view": "timeSeries",
            "stat": stat,
            "period": PERIOD_SECONDS,
            "metrics": metrics,
        },
    }


def _search(query: str, label_id: str, stat: str = "Sum") -> list[Any]:
    return [{"expression": f"SEARCH('{query}', '{stat}', {PERIOD_SECONDS})", "id": label_id}]


def dashboard(*, stream: bool) -> dict[str, Any]:
    """The widgets, as a dict whose strings are Fn::Sub text (``${RulePrefix}`` is the
    rules' name prefix): connections, messages, rule failures, functions, chat activity,
    failure queues (and the stream's, with ``stream``)."""
    functions = [f"${{AWS::StackName}}-{f.short}" for f in FUNCTIONS]
    per_rule = [f"${{RulePrefix}}_{r.name}" for r in RULES if stream or r.condition is None]
    queues = ["${AsyncFailureQueue.QueueName}"] + (["${StreamFailureQueue.QueueName}"] * stream)
    lag = "GetRecords.IteratorAgeMilliseconds"
    widgets = [
        _widget(
            "Connections (IoT account-wide; presence events this stack)",
            [
                ["AWS/IoT", "Connect.Success", "Protocol", "MQTT"],
                ["AWS/IoT", "Connect.AuthError", "Protocol", "MQTT"],
                ["AWS/IoT", "Connect.Throttle", "Protocol", "MQTT"],
                [OWN, "Connected", "service", "presence"],
                [OWN, "Disconnected", "service", "presence"],
            ],
            0,
            0,
        ),
        _widget(
            "Messages in and out (IoT account-wide; rule matches this stack)",
            [
                ["AWS/IoT", "PublishIn.Success", "Protocol", "MQTT"],
                ["AWS/IoT", "PublishOut.Success", "Protocol", "MQTT"],
                *[["AWS/IoT", "TopicMatch", "RuleName", name] for name in per_rule],
            ],
            12,
            0,
        ),
        _widget(
            "Rule failures",
            [
                [OWN, RULE_ERRORS_METRIC],
                *[["AWS/IoT", "RuleMessageThrottled", "RuleName", name] for name in per_rule],
                _search('{AWS/IoT,ActionType,RuleName} MetricName="Failure" ${RulePrefix}', "f"),
            ],
            0,
            6,
        ),
        _widget(
            "Function errors and throttles",
            [
                *[["AWS/Lambda", "Errors", "FunctionName", name] for name in functions],
                *[["AWS/Lambda", "Throttles", "FunctionName", name] for name in functions],
                [OWN, "AuthorizerErrors", "service", "authorizer"],
            ],
            12,
            6,
        ),
        _widget(
            "Function duration, p99 (ms)",
            [["AWS/Lambda", "Duration", "FunctionName", name] for name in functions],
            0,
            12,
            stat="p99",
        ),
        _widget(
            "Chat activity",
            [
                [OWN, "Messages", "service", "chat"],
                [OWN, "Joins", "service", "chat"],
                [OWN, "HistoryPages", "service", "chat"],
                [OWN, "TokensIssued", "service", "token"],
                [OWN, "Authorized", "service", "authorizer"],
            ],
            12,
            12,
        ),
        _widget(
            "Refusals by reason",
            [_search("{" + OWN + ',reason,service} MetricName="Refused"', "r")],
            0,
            18,
        ),
        _widget(
            "Failure queues (messages) and stream lag (ms)",
            [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q] for q in queues]
            + [["AWS/Kinesis", lag, "StreamName", "${ChatStream}"]] * stream,
            12,
            18,
            stat="Maximum",
        ),
    ]
    return {"widgets": widgets}
