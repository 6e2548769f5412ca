"""What bounds abuse and keeps failures visible: the token endpoint's per-source rate
limit, the queue failed asynchronous invocations land in, and alarms on both failure
queues (docs/deploy.md, "Abuse protection", says what each costs).

The functions' reserved concurrency (<Name>Concurrency) and their asynchronous
invocation settings are declared with the functions (functions.py), the token URL's
CORS origin with the URL (auth.py).
"""

from __future__ import annotations

from troposphere import GetAtt, Parameter, Sub, Template, cloudwatch, sqs
from troposphere import dynamodb as ddb

from stack.data import FAILURE_RETENTION_SECONDS, stack_key_sse
from stack.encryption import key_arn
from stack.findings import RATE_COUNTERS_NOT_BACKED_UP, skipped
from stack.parameters import STREAM_ENABLED

TOKEN_REQUESTS_PER_MINUTE = 30


def add_protection(t: Template) -> None:
    """TokenRequestsPerMinute, RateLimitTable, AsyncFailureQueue and the queues' alarms."""
    t.add_parameter(
        Parameter(
            "TokenRequestsPerMinute",
            Type="Number",
            Default=str(TOKEN_REQUESTS_PER_MINUTE),
            MinValue=1,
            Description="Guest tokens one source address (an IPv6 /64) may get per minute",
        )
    )
    # One counter item per source and minute, gone (TTL) soon after its minute.
    t.add_resource(
        ddb.Table(
            "RateLimitTable",
            TableName=Sub("${AWS::StackName}-rate-limits"),
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[ddb.AttributeDefinition(AttributeName="key", AttributeType="S")],
            KeySchema=[ddb.KeySchema(AttributeName="key", KeyType="HASH")],
            TimeToLiveSpecification=ddb.TimeToLiveSpecification(
                AttributeName="expiresAt", Enabled=True
            ),
            SSESpecification=stack_key_sse(),
            Metadata=skipped(RATE_COUNTERS_NOT_BACKED_UP),
        )
    )
    t.add_resource(
        sqs.Queue(
            "AsyncFailureQueue",
            KmsMasterKeyId=key_arn(),
            MessageRetentionPeriod=FAILURE_RETENTION_SECONDS,
        )
    )
    add_queue_alarm(t, "AsyncFailureAlarm", "AsyncFailureQueue", "a rule's function invocation")
    add_queue_alarm(t, "StreamFailureAlarm", "StreamFailureQueue", "a stream batch", STREAM_ENABLED)


def add_queue_alarm(
    t: Template, title: str, queue: str, what: str, condition: str | None = None
) -> None:
    """In ALARM while ``queue`` holds a message: something failed for good and waits
    there to be looked at. No action is attached; add one (SNS, chat ops) as needed."""
    t.add_resource(
        cloudwatch.Alarm(
            title,
            AlarmDescription=f"{what} failed after its retries: see the queue's messages",
            Namespace="AWS/SQS",
            MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[
                cloudwatch.MetricDimension(Name="QueueName", Value=GetAtt(queue, "QueueName"))
            ],
            Statistic="Maximum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
            **({"Condition": condition} if condition else {}),
        )
    )
