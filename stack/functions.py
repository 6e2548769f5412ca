"""The four Lambda functions: code location, log group, role and function for each.

``FUNCTIONS`` is the one list of functions; everything a function owns is derived from
its entry, so adding a function is adding an entry (and its handler in lambdas/). The
emulator and the deploy tool find functions in the template by type, never by a second
list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from troposphere import GetAtt, If, Parameter, Ref, Sub, Template
from troposphere import awslambda as lam

from chatlib import contract
from iot_rules import RULES
from iot_rules.spec import Lambda
from stack.encryption import key_arn
from stack.findings import FAILURE_DESTINATION, NOT_IN_VPC, skipped
from stack.iam import Statement, arn, role, statement, topic_arn
from stack.layers import add_layers, jwks_layer_when_configured, powertools_layer
from stack.logs import log_group
from stack.parameters import STREAM_ENABLED

# Functions the topic rules invoke asynchronously: Lambda retries a failed event twice,
# then sends it to AsyncFailureQueue (stack/protection.py) instead of dropping it.
RULE_INVOKED = frozenset(
    action.function for rule in RULES for action in rule.actions if isinstance(action, Lambda)
)
ASYNC_RETRIES = 2
ASYNC_MAX_EVENT_AGE_SECONDS = 3600  # a join or lifecycle event older than this is stale

# The CloudWatch namespace of the functions' own metrics (chatlib.metrics writes them as
# embedded metric format log lines; stack/observability.py alarms on and charts them).
METRICS_NAMESPACE = "ServerlessChat/${AWS::StackName}"

RUNTIME = "python3.12"
ARCHITECTURE = "arm64"
SOURCE = "lambdas"
PYJWT = "lambdas/requirements/pyjwt.txt"


@dataclass(frozen=True)
class Function:
    """One Lambda function, as data.

    ``name`` prefixes every logical id the function owns (``ChatFunction``,
    ``ChatFunctionRole``, ``ChatLogGroup``, the ``ChatCodeKey`` parameter); ``short``
    names it at run time (``<stack>-chat``, its log group, POWERTOOLS_SERVICE_NAME).
    """

    name: str
    short: str
    handler: str
    memory_mb: int
    timeout_seconds: int
    # The default of its <Name>Concurrency parameter: its reserved concurrency, the most
    # instances it may run at once (and, for a function URL, 10 x this per second).
    concurrency: int
    # Besides TOPIC_ROOT, LOG_LEVEL and the POWERTOOLS_ service name and metrics namespace,
    # which every function gets.
    environment: Mapping[str, Any]
    # Least privilege besides writing its own log group: statements, or Fn::If of one.
    statements: tuple[Statement | If, ...]
    # What its zip carries besides the modules its handler imports (boto3 comes with
    # the runtime, Powertools with its layer): a requirements file, or nothing.
    requirements: str | None = None
    # Powertools for every function; the authorizer adds JwksLayer when JwksUrl is set.
    layers: tuple[Ref | If, ...] = (powertools_layer(),)

    @property
    def build_metadata(self) -> dict[str, dict[str, str]]:
        """Where its code and dependencies come from: `make deploy` packages from it,
        the emulator imports the handler from it."""
        build = {"Source": SOURCE}
        if self.requirements:
            build["Requirements"] = self.requirements
        return {"Build": build}

    @property
    def logical_id(self) -> str:
        """The AWS::Lambda::Function, e.g. ``ChatFunction``."""
        return f"{self.name}Function"

    @property
    def role_id(self) -> str:
        """Its execution role, e.g. ``ChatFunctionRole``."""
        return f"{self.name}FunctionRole"

    @property
    def log_group_id(self) -> str:
        """Its log group, e.g. ``ChatLogGroup``."""
        return f"{self.name}LogGroup"

    @property
    def code_key(self) -> str:
        """The parameter holding its zip's S3 key, e.g. ``ChatCodeKey``."""
        return f"{self.name}CodeKey"

    @property
    def concurrency_parameter(self) -> str:
        """The parameter holding its reserved concurrency, e.g. ``ChatConcurrency``."""
        return f"{self.name}Concurrency"


# ------------------------------------------------------------- shared permissions

STREAM_READ_ACTIONS = [
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
]
READ_TOKEN_SECRET = statement(["secretsmanager:GetSecretValue"], [Ref("TokenSecret")])
# connections.py only updates items by key and queries the room index: no GetItem,
# PutItem or Query on the table itself (emulator IAM tests prove each is needed).
CONNECTIONS_RW = (
    statement(["dynamodb:UpdateItem"], [GetAtt("ConnectionsTable", "Arn")]),
    statement(["dynamodb:Query"], [Sub("${ConnectionsTable.Arn}/index/room-index")]),
)

# The topics the functions publish to: every client's inbox, every room, every user
# topic, every private room.
INBOXES = contract.topic("inbox", "{root}", client_id="*")
ROOMS = contract.topic("room", "{root}", room="*")
USERS = contract.topic("user", "{root}", principal="*")
PRIVATE_ROOMS = contract.topic("private", "{root}", room="*")

# Who issues guest tokens and who accepts them: the token function signs, the
# authorizer verifies, both with this stack's key, issuer and audience.
GUEST_TOKENS = {
    "TOKEN_SECRET_ARN": Ref("TokenSecret"),
    "GUEST_ISSUER": Sub("${AWS::StackName}/guest"),
    "GUEST_AUDIENCE": Sub("${AWS::StackName}/iot"),
}


def when_streaming(stmt: Statement) -> If:
    """A statement that exists only with EnableStream=true."""
    return If(STREAM_ENABLED, stmt, Ref("AWS::NoValue"))


# ---------------------------------------------------------------------- the list

FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="Authorizer",
        short="authorizer",
        handler="authorizer.handler",
        memory_mb=256,
        timeout_seconds=5,
        concurrency=10,
        environment={
            **GUEST_TOKENS,
            "JWKS_URL": Ref("JwksUrl"),
            "JWT_ISSUER": Ref("JwtIssuer"),
            "JWT_AUDIENCE": Ref("JwtAudience"),
            "PEOPLE_TABLE": Ref("PeopleTable"),
        },
        # Memberships: one Query on the principal's own partition.
        statements=(
            READ_TOKEN_SECRET,
            statement(["dynamodb:Query"], [GetAtt("PeopleTable", "Arn")]),
        ),
        requirements=PYJWT,
        layers=(powertools_layer(), jwks_layer_when_configured()),
    ),
    Function(
        name="Token",
        short="token",
        handler="guest_token.handler",
        memory_mb=256,
        timeout_seconds=5,
        concurrency=5,
        environment={
            **GUEST_TOKENS,
            "TOKEN_LIFETIME_SECONDS": "3600",
            "RATE_LIMIT_TABLE": Ref("RateLimitTable"),
            "TOKEN_REQUESTS_PER_MINUTE": Ref("TokenRequestsPerMinute"),
        },
        statements=(
            READ_TOKEN_SECRET,
            statement(["dynamodb:UpdateItem"], [GetAtt("RateLimitTable", "Arn")]),
        ),
        requirements=PYJWT,
    ),
    Function(
        name="Chat",
        short="chat",
        handler="chat.handler",
        memory_mb=512,
        timeout_seconds=30,
        concurrency=20,
        environment={
            "MESSAGES_TABLE": Ref("MessagesTable"),
            "CONNECTIONS_TABLE": Ref("ConnectionsTable"),
            "PEOPLE_TABLE": Ref("PeopleTable"),
            "MESSAGE_RETENTION_DAYS": Ref("MessageRetentionDays"),
        },
        statements=(
            # Pages; DMs and private rooms' messages (public ones: the store rule);
            # edits and deletes, found by id.
            statement(
                ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"],
                [GetAtt("MessagesTable", "Arn")],
            ),
            statement(["dynamodb:Query"], [Sub("${MessagesTable.Arn}/index/id-index")]),
            statement(
                [
                    "dynamodb:DeleteItem",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:Query",
                    "dynamodb:UpdateItem",
                ],
                [GetAtt("PeopleTable", "Arn")],
            ),
            *CONNECTIONS_RW,
            statement(["dynamodb:Query"], [Sub("${ConnectionsTable.Arn}/index/sender-index")]),
            statement(
                ["iot:Publish"],
                [
                    topic_arn(INBOXES),
                    topic_arn(ROOMS),
                    topic_arn(USERS),
                    topic_arn(PRIVATE_ROOMS),
                ],
            ),
            # A removed member's connections: closed, so its new policy lacks the room.
            statement(["iot:DeleteConnection"], [arn("iot", "client/*")]),
            when_streaming(statement(STREAM_READ_ACTIONS, [GetAtt("ChatStream", "Arn")])),
            when_streaming(statement(["sqs:SendMessage"], [GetAtt("StreamFailureQueue", "Arn")])),
        ),
    ),
    Function(
        name="Presence",
        short="presence",
        handler="presence.handler",
        memory_mb=256,
        timeout_seconds=15,
        concurrency=10,
        environment={"CONNECTIONS_TABLE": Ref("ConnectionsTable")},
        statements=(*CONNECTIONS_RW, statement(["iot:Publish"], [topic_arn(ROOMS)])),
    ),
)


# -------------------------------------------------------------------- resources


def add_functions(t: Template) -> None:
    """Code parameters and layers, then per function its log group, role and function;
    then the stream's event source mapping into the chat function."""
    t.add_parameter(
        Parameter("ArtifactsBucket", Type="String", Description="Bucket holding the function zips")
    )
    add_layers(t, RUNTIME, ARCHITECTURE)
    for f in FUNCTIONS:
        add_function(t, f)
    t.add_resource(
        lam.EventSourceMapping(
            "ChatStreamMapping",
            Condition=STREAM_ENABLED,
            EventSourceArn=GetAtt("ChatStream", "Arn"),
            FunctionName=Ref("ChatFunction"),
            BatchSize=100,
            MaximumBatchingWindowInSeconds=1,
            BisectBatchOnFunctionError=True,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            MaximumRetryAttempts=3,
            StartingPosition="LATEST",
            DestinationConfig=lam.DestinationConfig(
                OnFailure=lam.OnFailure(Destination=GetAtt("StreamFailureQueue", "Arn"))
            ),
        )
    )


def add_function(t: Template, f: Function) -> None:
    """One function with everything it owns; for one a rule invokes, its asynchronous
    invocation settings too."""
    t.add_parameter(
        Parameter(
            f.code_key,
            Type="String",
            Description=f"S3 key of the {f.short} function zip (content hash)",
        )
    )
    t.add_parameter(
        Parameter(
            f.concurrency_parameter,
            Type="Number",
            Default=str(f.concurrency),
            MinValue=1,
            Description=f"Reserved concurrency of the {f.short} function: its most instances "
            "at once, and a ceiling on what abuse can cost (docs/deploy.md)",
        )
    )
    group = t.add_resource(log_group(f.log_group_id, f"/aws/lambda/${{AWS::StackName}}-{f.short}"))
    # No logs:CreateLogGroup: the group above exists before the function runs.
    write_logs = statement(["logs:CreateLogStream", "logs:PutLogEvents"], [GetAtt(group, "Arn")])
    statements = [write_logs, *f.statements]
    if f.logical_id in RULE_INVOKED:
        # Lambda sends a failed event to the destination with the function's role.
        statements.append(statement(["sqs:SendMessage"], [GetAtt("AsyncFailureQueue", "Arn")]))
        add_event_invoke_config(t, f)
    t.add_resource(role(f.role_id, "lambda.amazonaws.com", f"{f.short}-function", statements))
    t.add_resource(
        lam.Function(
            f.logical_id,
            FunctionName=Sub(f"${{AWS::StackName}}-{f.short}"),
            Description=f"Serverless chat: {f.short}",
            Runtime=RUNTIME,
            Architectures=[ARCHITECTURE],
            Handler=f.handler,
            Code=lam.Code(S3Bucket=Ref("ArtifactsBucket"), S3Key=Ref(f.code_key)),
            MemorySize=f.memory_mb,
            Timeout=f.timeout_seconds,
            ReservedConcurrentExecutions=Ref(f.concurrency_parameter),
            Role=GetAtt(f.role_id, "Arn"),
            Environment=lam.Environment(
                Variables={
                    "TOPIC_ROOT": Ref("TopicRoot"),
                    "LOG_LEVEL": "INFO",
                    "POWERTOOLS_SERVICE_NAME": f.short,
                    "POWERTOOLS_METRICS_NAMESPACE": Sub(METRICS_NAMESPACE),
                    **f.environment,
                }
            ),
            KmsKeyArn=key_arn(),
            Layers=list(f.layers),
            Metadata={**f.build_metadata, **skipped(NOT_IN_VPC, FAILURE_DESTINATION)},
            DependsOn=[group.title],
        )
    )


def add_event_invoke_config(t: Template, f: Function) -> None:
    """Retries and an on-failure destination for the asynchronous invocations a rule
    makes, so a failed join or lifecycle event lands in a queue instead of a log line."""
    t.add_resource(
        lam.EventInvokeConfig(
            f"{f.name}EventInvokeConfig",
            FunctionName=Ref(f.logical_id),
            Qualifier="$LATEST",
            MaximumRetryAttempts=ASYNC_RETRIES,
            MaximumEventAgeInSeconds=ASYNC_MAX_EVENT_AGE_SECONDS,
            DestinationConfig=lam.DestinationConfig(
                OnFailure=lam.OnFailure(Destination=GetAtt("AsyncFailureQueue", "Arn"))
            ),
        )
    )
