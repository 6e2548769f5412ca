"""What bounds abuse and keeps failures visible: the token endpoint's per-source rate
limit and the queue failed asynchronous invocations land in (docs/deploy.md, "Abuse
protection", says what each costs). The alarms on both failure queues are with the
other alarms, in observability.py.

The functions' reserved concurrency (<Name>Concurrency) and their asynchronous
invocation settings are declared with the functions (functions.py), the token URL's
CORS origin with the URL (auth.py).
"""

from __future__ import annotations

from troposphere import Parameter, Sub, Template, sqs
from troposphere import dynamodb as ddb

from stack.data import FAILURE_RETENTION_SECONDS, expiring_encrypted
from stack.encryption import key_arn
from stack.findings import RATE_COUNTERS_NOT_BACKED_UP, skipped

TOKEN_REQUESTS_PER_MINUTE = 30


def add_protection(t: Template) -> None:
    """TokenRequestsPerMinute, RateLimitTable and AsyncFailureQueue."""
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
            **expiring_encrypted(backed_up=False),
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
