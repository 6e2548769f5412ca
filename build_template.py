"""Build templates/chat.json, the chat's one CloudFormation stack, with troposphere.

The template is the single source of truth for AWS, for the local emulator and for the
deploy tool, which all read it by the names docs/internals.md fixes. Output is
deterministic (sorted keys, indent 2, trailing newline), so the committed file can be
checked against this script: ``python build_template.py --check``.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
# Rules import chatlib.limits, as Lambda does: lambdas/ must be importable.
for _path in (ROOT, ROOT / "lambdas"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from troposphere import (  # noqa: E402
    AWSProperty,
    Equals,
    GetAtt,
    If,
    Join,
    Output,
    Parameter,
    Ref,
    Split,
    Sub,
    Template,
    iam,
    iot,
    kinesis,
    logs,
    s3,
    sqs,
)
from troposphere import awslambda as lam  # noqa: E402
from troposphere import cloudfront as cf  # noqa: E402
from troposphere import dynamodb as ddb  # noqa: E402
from troposphere import secretsmanager as sm  # noqa: E402

from iot_rules import RULES  # noqa: E402
from iot_rules import spec as rule_spec  # noqa: E402

OUTPUT = ROOT / "templates" / "chat.json"

STREAM_ENABLED = "StreamEnabled"
LOG_RETENTION_DAYS = 30
BUILD_METADATA = {"Build": {"Source": "lambdas", "Requirements": "lambdas/requirements.txt"}}

# CloudFront managed policies (fixed ids published by AWS).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' wss://*.amazonaws.com https://*.on.aws; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

# Viewer-request function: a room path (/lobby) serves the single-page client, while
# real files (last path segment has a dot: /app.js, /config.json) are served as is.
SITE_REWRITE_CODE = """\
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var last = uri.substring(uri.lastIndexOf('/') + 1);
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
"""


# troposphere 4.11.1's TopicRule Action predates the CloudwatchLogs action.
class CloudwatchLogsAction(AWSProperty):
    """AWS::IoT::TopicRule CloudwatchLogsAction (missing from troposphere)."""

    props = {
        "BatchMode": (bool, False),
        "LogGroupName": (str, True),
        "RoleArn": (str, True),
    }


class RuleAction(iot.Action):
    """iot.Action plus CloudwatchLogs."""

    props = {**iot.Action.props, "CloudwatchLogs": (CloudwatchLogsAction, False)}


# --------------------------------------------------------------------------- helpers


def arn(service: str, resource: str) -> Sub:
    """An ARN in this stack's partition, region and account."""
    return Sub(f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}")


def topic_arn(rule_text: str) -> Sub:
    """ARN of an IoT topic (or topic pattern) written with rule placeholders."""
    return arn("iot", "topic/" + rule_spec.to_sub(rule_text))


def rule_text(text: str) -> str | Sub:
    """A rule text for the template: plain (IoT templates as is) unless it names a
    parameter, then Fn::Sub with the IoT templates escaped."""
    return Sub(rule_spec.to_sub(text)) if rule_spec.has_placeholders(text) else text


def statement(actions: list[str], resources: list[Any]) -> dict[str, Any]:
    """One Allow statement."""
    return {"Effect": "Allow", "Action": sorted(actions), "Resource": resources}


def role(
    title: str, service: str, policy: str, statements: list[Any], condition: str | None = None
) -> iam.Role:
    """A role trusted by one service, with one inline policy and nothing else."""
    kwargs: dict[str, Any] = {}
    if condition:
        kwargs["Condition"] = condition
    return iam.Role(
        title,
        AssumeRolePolicyDocument={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        Policies=[
            iam.Policy(
                PolicyName=policy,
                PolicyDocument={"Version": "2012-10-17", "Statement": statements},
            )
        ],
        **kwargs,
    )


# ------------------------------------------------------------------------ parameters


def add_parameters(t: Template) -> None:
    """Parameters, names and defaults per docs/internals.md."""
    t.add_parameter(
        Parameter(
            "TopicRoot",
            Type="String",
            Default="chat",
            AllowedPattern="^[A-Za-z0-9_-]{1,32}$",
            Description="First level of every topic; lets several stacks share an endpoint",
        )
    )
    t.add_parameter(
        Parameter(
            "MessageRetentionDays",
            Type="Number",
            Default="7",
            MinValue=1,
            MaxValue=3650,
            Description="Days a stored message lives (DynamoDB TTL)",
        )
    )
    t.add_parameter(
        Parameter(
            "EnableStream",
            Type="String",
            Default="true",
            AllowedValues=["true", "false"],
            Description="false leaves out the Kinesis stream, its rule and its mapping",
        )
    )
    for name, what in (
        ("JwksUrl", "JWKS URL of an external identity provider (RS256/ES256), optional"),
        ("JwtIssuer", "Issuer (iss) of the external provider's tokens, optional"),
        ("JwtAudience", "Audience (aud) of the external provider's tokens, optional"),
    ):
        t.add_parameter(Parameter(name, Type="String", Default="", Description=what))
    t.add_parameter(
        Parameter("ArtifactsBucket", Type="String", Description="Bucket holding the function zips")
    )
    for name in ("Authorizer", "Token", "Chat", "Presence"):
        t.add_parameter(
            Parameter(
                f"{name}CodeKey",
                Type="String",
                Description=f"S3 key of the {name.lower()} function zip (content hash)",
            )
        )
    t.add_condition(STREAM_ENABLED, Equals(Ref("EnableStream"), "true"))


# ------------------------------------------------------------------------------ data


def add_data(t: Template) -> None:
    """Tables, the stream, its failure queue and the token signing secret."""
    t.add_resource(
        ddb.Table(
            "MessagesTable",
            TableName=Sub("${AWS::StackName}-messages"),
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                ddb.AttributeDefinition(AttributeName="room", AttributeType="S"),
                ddb.AttributeDefinition(AttributeName="sk", AttributeType="S"),
            ],
            KeySchema=[
                ddb.KeySchema(AttributeName="room", KeyType="HASH"),
                ddb.KeySchema(AttributeName="sk", KeyType="RANGE"),
            ],
            TimeToLiveSpecification=ddb.TimeToLiveSpecification(
                AttributeName="expiresAt", Enabled=True
            ),
        )
    )
    t.add_resource(
        ddb.Table(
            "ConnectionsTable",
            TableName=Sub("${AWS::StackName}-connections"),
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                ddb.AttributeDefinition(AttributeName="clientId", AttributeType="S"),
                ddb.AttributeDefinition(AttributeName="room", AttributeType="S"),
            ],
            KeySchema=[ddb.KeySchema(AttributeName="clientId", KeyType="HASH")],
            GlobalSecondaryIndexes=[
                ddb.GlobalSecondaryIndex(
                    IndexName="room-index",
                    KeySchema=[
                        ddb.KeySchema(AttributeName="room", KeyType="HASH"),
                        ddb.KeySchema(AttributeName="clientId", KeyType="RANGE"),
                    ],
                    Projection=ddb.Projection(ProjectionType="ALL"),
                )
            ],
            TimeToLiveSpecification=ddb.TimeToLiveSpecification(
                AttributeName="expiresAt", Enabled=True
            ),
        )
    )
    t.add_resource(
        kinesis.Stream(
            "ChatStream",
            Condition=STREAM_ENABLED,
            StreamModeDetails=kinesis.StreamModeDetails(StreamMode="ON_DEMAND"),
            StreamEncryption=kinesis.StreamEncryption(
                EncryptionType="KMS", KeyId="alias/aws/kinesis"
            ),
            RetentionPeriodHours=24,
        )
    )
    t.add_resource(
        sqs.Queue(
            "StreamFailureQueue",
            Condition=STREAM_ENABLED,
            SqsManagedSseEnabled=True,
            MessageRetentionPeriod=1209600,
        )
    )
    # The secret string is the HS256 key; CloudFormation generates it, nobody sees it.
    t.add_resource(
        sm.Secret(
            "TokenSecret",
            Name=Sub("${AWS::StackName}/token-signing-key"),
            Description="HS256 key signing the chat's guest tokens",
            GenerateSecretString=sm.GenerateSecretString(
                PasswordLength=64, ExcludePunctuation=True
            ),
        )
    )


# ------------------------------------------------------------------------- functions

TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
STREAM_READ_ACTIONS = [
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
]


def _table_resources(table: str, *, indexes: bool = False) -> list[Any]:
    """A table's ARN, and its indexes' ARNs when it has any (Query on room-index)."""
    out: list[Any] = [GetAtt(table, "Arn")]
    if indexes:
        out.append(Sub(f"${{{table}.Arn}}/index/*"))
    return out


def _function_statements() -> dict[str, list[Any]]:
    """Least-privilege statements per function, besides writing its own logs."""
    secret = statement(["secretsmanager:GetSecretValue"], [Ref("TokenSecret")])
    return {
        "Authorizer": [secret],
        "Token": [secret],
        "Chat": [
            # DeleteItem: a stream message stored but not published is unstored again,
            # so the retried record goes through whole.
            statement([*TABLE_ACTIONS, "dynamodb:DeleteItem"], _table_resources("MessagesTable")),
            statement(TABLE_ACTIONS, _table_resources("ConnectionsTable", indexes=True)),
            statement(["iot:Publish"], [topic_arn("{root}/in/*"), topic_arn("{root}/pub/*")]),
            If(
                STREAM_ENABLED,
                statement(STREAM_READ_ACTIONS, [GetAtt("ChatStream", "Arn")]),
                Ref("AWS::NoValue"),
            ),
            If(
                STREAM_ENABLED,
                statement(["sqs:SendMessage"], [GetAtt("StreamFailureQueue", "Arn")]),
                Ref("AWS::NoValue"),
            ),
        ],
        "Presence": [
            statement(TABLE_ACTIONS, _table_resources("ConnectionsTable", indexes=True)),
            statement(["iot:Publish"], [topic_arn("{root}/pub/*")]),
        ],
    }


FUNCTIONS: dict[str, dict[str, Any]] = {
    # short name -> handler, memory (MB), timeout (s), service name, extra environment
    "Authorizer": {
        "short": "authorizer",
        "handler": "authorizer.handler",
        "memory": 256,
        "timeout": 5,
        "env": {
            "TOKEN_SECRET_ARN": Ref("TokenSecret"),
            "GUEST_ISSUER": Sub("${AWS::StackName}/guest"),
            "GUEST_AUDIENCE": Sub("${AWS::StackName}/iot"),
            "JWKS_URL": Ref("JwksUrl"),
            "JWT_ISSUER": Ref("JwtIssuer"),
            "JWT_AUDIENCE": Ref("JwtAudience"),
        },
    },
    "Token": {
        "short": "token",
        "handler": "guest_token.handler",
        "memory": 256,
        "timeout": 5,
        "env": {
            "TOKEN_SECRET_ARN": Ref("TokenSecret"),
            "GUEST_ISSUER": Sub("${AWS::StackName}/guest"),
            "GUEST_AUDIENCE": Sub("${AWS::StackName}/iot"),
            "TOKEN_LIFETIME_SECONDS": "3600",
        },
    },
    "Chat": {
        "short": "chat",
        "handler": "chat.handler",
        "memory": 512,
        "timeout": 30,
        "env": {
            "MESSAGES_TABLE": Ref("MessagesTable"),
            "CONNECTIONS_TABLE": Ref("ConnectionsTable"),
            "MESSAGE_RETENTION_DAYS": Ref("MessageRetentionDays"),
        },
    },
    "Presence": {
        "short": "presence",
        "handler": "presence.handler",
        "memory": 256,
        "timeout": 15,
        "env": {"CONNECTIONS_TABLE": Ref("ConnectionsTable")},
    },
}


def add_functions(t: Template) -> None:
    """The four functions, each with its own role and log group."""
    statements = _function_statements()
    for name, f in FUNCTIONS.items():
        short = f["short"]
        log_group = t.add_resource(
            logs.LogGroup(
                f"{name}LogGroup",
                LogGroupName=Sub(f"/aws/lambda/${{AWS::StackName}}-{short}"),
                RetentionInDays=LOG_RETENTION_DAYS,
            )
        )
        # No logs:CreateLogGroup: the group above exists before the function runs.
        write_logs = statement(
            ["logs:CreateLogStream", "logs:PutLogEvents"], [GetAtt(log_group, "Arn")]
        )
        t.add_resource(
            role(
                f"{name}FunctionRole",
                "lambda.amazonaws.com",
                f"{short}-function",
                [write_logs, *statements[name]],
            )
        )
        environment = {
            "TOPIC_ROOT": Ref("TopicRoot"),
            "LOG_LEVEL": "INFO",
            "POWERTOOLS_SERVICE_NAME": short,
            **f["env"],
        }
        t.add_resource(
            lam.Function(
                f"{name}Function",
                FunctionName=Sub(f"${{AWS::StackName}}-{short}"),
                Description=f"Serverless chat: {short}",
                Runtime="python3.12",
                Architectures=["arm64"],
                Handler=f["handler"],
                Code=lam.Code(S3Bucket=Ref("ArtifactsBucket"), S3Key=Ref(f"{name}CodeKey")),
                MemorySize=f["memory"],
                Timeout=f["timeout"],
                Role=GetAtt(f"{name}FunctionRole", "Arn"),
                Environment=lam.Environment(Variables=environment),
                Metadata=BUILD_METADATA,
                DependsOn=[log_group.title],
            )
        )

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


# ------------------------------------------------------------------------------ auth


def add_auth(t: Template) -> None:
    """Custom authorizer and the public guest-token URL."""
    t.add_resource(
        iot.Authorizer(
            "ChatAuthorizer",
            AuthorizerName=Sub("${AWS::StackName}-authorizer"),
            AuthorizerFunctionArn=GetAtt("AuthorizerFunction", "Arn"),
            SigningDisabled=True,
            Status="ACTIVE",
            TokenKeyName="token",
            EnableCachingForHttp=False,
        )
    )
    t.add_resource(
        lam.Permission(
            "AuthorizerInvokePermission",
            FunctionName=GetAtt("AuthorizerFunction", "Arn"),
            Action="lambda:InvokeFunction",
            Principal="iot.amazonaws.com",
            SourceArn=GetAtt("ChatAuthorizer", "Arn"),
            SourceAccount=Ref("AWS::AccountId"),
        )
    )
    t.add_resource(
        lam.Url(
            "TokenFunctionUrl",
            TargetFunctionArn=GetAtt("TokenFunction", "Arn"),
            AuthType="NONE",
            Cors=lam.Cors(AllowOrigins=["*"], AllowMethods=["POST"], AllowHeaders=["content-type"]),
        )
    )
    # A public URL needs both: InvokeFunctionUrl, and (since AWS's 2025 change)
    # InvokeFunction, here limited to calls that come through the URL.
    t.add_resource(
        lam.Permission(
            "TokenUrlInvokeUrlPermission",
            FunctionName=Ref("TokenFunction"),
            Action="lambda:InvokeFunctionUrl",
            Principal="*",
            FunctionUrlAuthType="NONE",
        )
    )
    t.add_resource(
        lam.Permission(
            "TokenUrlInvokeFunctionPermission",
            FunctionName=Ref("TokenFunction"),
            Action="lambda:InvokeFunction",
            Principal="*",
            InvokedViaFunctionUrl=True,
        )
    )


# ----------------------------------------------------------------------------- rules


def _rule_action(
    t: Template, rule: rule_spec.Rule, action: rule_spec.Action, role_arn: Any
) -> RuleAction:
    """Translate one spec action; Lambda actions also get their invoke permission."""
    if isinstance(action, rule_spec.LambdaAction):
        t.add_resource(
            lam.Permission(
                f"{rule.logical_id}InvokePermission",
                FunctionName=GetAtt(action.function, "Arn"),
                Action="lambda:InvokeFunction",
                Principal="iot.amazonaws.com",
                SourceArn=GetAtt(rule.logical_id, "Arn"),
                SourceAccount=Ref("AWS::AccountId"),
                **({"Condition": rule.condition} if rule.condition else {}),
            )
        )
        return RuleAction(Lambda=iot.LambdaAction(FunctionArn=GetAtt(action.function, "Arn")))
    if isinstance(action, rule_spec.RepublishAction):
        return RuleAction(
            Republish=iot.RepublishAction(
                Topic=rule_text(action.topic), Qos=action.qos, RoleArn=role_arn
            )
        )
    if isinstance(action, rule_spec.DynamoDBv2Action):
        return RuleAction(
            DynamoDBv2=iot.DynamoDBv2Action(
                PutItem=iot.PutItemInput(TableName=Ref(action.table)), RoleArn=role_arn
            )
        )
    if isinstance(action, rule_spec.KinesisAction):
        return RuleAction(
            Kinesis=iot.KinesisAction(
                StreamName=Ref(action.stream),
                PartitionKey=rule_text(action.partition_key),
                RoleArn=role_arn,
            )
        )
    if isinstance(action, rule_spec.CloudwatchLogsAction):
        return RuleAction(
            CloudwatchLogs=CloudwatchLogsAction(
                LogGroupName=Ref(action.log_group), RoleArn=role_arn
            )
        )
    raise TypeError(f"unknown rule action {action!r}")


def _action_statement(action: rule_spec.Action) -> dict[str, Any] | None:
    """What a rule's role must allow for one action (None: no role needed)."""
    if isinstance(action, rule_spec.LambdaAction):
        return None  # resource policy (lambda Permission), not a role
    if isinstance(action, rule_spec.RepublishAction):
        # ${room} is per message: allow the topic pattern with a wildcard in its place.
        pattern = action.topic.replace("${room}", "*")
        return statement(["iot:Publish"], [topic_arn(pattern)])
    if isinstance(action, rule_spec.DynamoDBv2Action):
        return statement(["dynamodb:PutItem"], [GetAtt(action.table, "Arn")])
    if isinstance(action, rule_spec.KinesisAction):
        return statement(["kinesis:PutRecord"], [GetAtt(action.stream, "Arn")])
    if isinstance(action, rule_spec.CloudwatchLogsAction):
        return statement(
            ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            [GetAtt(action.log_group, "Arn")],
        )
    raise TypeError(f"unknown rule action {action!r}")


def rule_name(rule: rule_spec.Rule) -> Join:
    """<StackName>_<rule>, with the stack name's '-' as '_' (rule names: [A-Za-z0-9_])."""
    return Join("", [Join("_", Split("-", Ref("AWS::StackName"))), f"_{rule.name}"])


def add_rules(t: Template) -> None:
    """One TopicRule per iot_rules module, each with a role for exactly its actions."""
    t.add_resource(
        logs.LogGroup(
            "RuleErrorsLogGroup",
            LogGroupName=Sub("/aws/iot/${AWS::StackName}/rule-errors"),
            RetentionInDays=LOG_RETENTION_DAYS,
        )
    )
    error_statements = {
        str(rule.error_action): _action_statement(rule.error_action) for rule in RULES
    }
    t.add_resource(
        role(
            "RuleErrorsRole",
            "iot.amazonaws.com",
            "rule-errors",
            [s for s in error_statements.values() if s is not None],
        )
    )
    for rule in RULES:
        cond = {"Condition": rule.condition} if rule.condition else {}
        needs = [s for a in rule.actions if (s := _action_statement(a)) is not None]
        role_arn: Any = None
        if needs:
            role_title = f"{rule.logical_id}Role"
            t.add_resource(
                role(role_title, "iot.amazonaws.com", f"{rule.name}-rule", needs, rule.condition)
            )
            role_arn = GetAtt(role_title, "Arn")
        actions = [_rule_action(t, rule, a, role_arn) for a in rule.actions]
        error = _rule_action(t, rule, rule.error_action, GetAtt("RuleErrorsRole", "Arn"))
        t.add_resource(
            iot.TopicRule(
                rule.logical_id,
                RuleName=rule_name(rule),
                TopicRulePayload=iot.TopicRulePayload(
                    Description=rule.description,
                    Sql=rule_text(rule.sql),
                    AwsIotSqlVersion=rule.sql_version,
                    RuleDisabled=False,
                    Actions=actions,
                    ErrorAction=error,
                ),
                **cond,
            )
        )


# ------------------------------------------------------------------------------ site


def add_site(t: Template) -> None:
    """Private bucket behind CloudFront (OAC), SPA rewrite, strict security headers."""
    t.add_resource(
        s3.Bucket(
            "SiteBucket",
            PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
                BlockPublicAcls=True,
                BlockPublicPolicy=True,
                IgnorePublicAcls=True,
                RestrictPublicBuckets=True,
            ),
            BucketEncryption=s3.BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    s3.ServerSideEncryptionRule(
                        ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                            SSEAlgorithm="AES256"
                        )
                    )
                ]
            ),
            OwnershipControls=s3.OwnershipControls(
                Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
            ),
        )
    )
    t.add_resource(
        cf.OriginAccessControl(
            "SiteOriginAccessControl",
            OriginAccessControlConfig=cf.OriginAccessControlConfig(
                Name=Sub("${AWS::StackName}-site"),
                OriginAccessControlOriginType="s3",
                SigningBehavior="always",
                SigningProtocol="sigv4",
            ),
        )
    )
    t.add_resource(
        cf.Function(
            "SiteRewriteFunction",
            Name=Sub("${AWS::StackName}-site-rewrite"),
            AutoPublish=True,
            FunctionCode=SITE_REWRITE_CODE,
            FunctionConfig=cf.FunctionConfig(
                Comment="Room paths serve /index.html", Runtime="cloudfront-js-2.0"
            ),
        )
    )
    t.add_resource(
        cf.ResponseHeadersPolicy(
            "SiteHeadersPolicy",
            ResponseHeadersPolicyConfig=cf.ResponseHeadersPolicyConfig(
                Name=Sub("${AWS::StackName}-site-headers"),
                SecurityHeadersConfig=cf.SecurityHeadersConfig(
                    ContentSecurityPolicy=cf.ContentSecurityPolicy(
                        ContentSecurityPolicy=CONTENT_SECURITY_POLICY, Override=True
                    ),
                    ContentTypeOptions=cf.ContentTypeOptions(Override=True),
                    FrameOptions=cf.FrameOptions(FrameOption="DENY", Override=True),
                    ReferrerPolicy=cf.ReferrerPolicy(ReferrerPolicy="no-referrer", Override=True),
                    StrictTransportSecurity=cf.StrictTransportSecurity(
                        AccessControlMaxAgeSec=63072000,
                        IncludeSubdomains=True,
                        Override=True,
                    ),
                ),
            ),
        )
    )
    behaviour: dict[str, Any] = {
        "TargetOriginId": "site",
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": ["GET", "HEAD"],
        "CachedMethods": ["GET", "HEAD"],
        "Compress": True,
        "ResponseHeadersPolicyId": Ref("SiteHeadersPolicy"),
    }
    t.add_resource(
        cf.Distribution(
            "SiteDistribution",
            DistributionConfig=cf.DistributionConfig(
                Comment=Sub("Serverless chat site (${AWS::StackName})"),
                Enabled=True,
                DefaultRootObject="index.html",
                HttpVersion="http2and3",
                IPV6Enabled=True,
                PriceClass="PriceClass_100",
                Origins=[
                    cf.Origin(
                        Id="site",
                        DomainName=GetAtt("SiteBucket", "RegionalDomainName"),
                        OriginAccessControlId=GetAtt("SiteOriginAccessControl", "Id"),
                        S3OriginConfig=cf.S3OriginConfig(OriginAccessIdentity=""),
                    )
                ],
                DefaultCacheBehavior=cf.DefaultCacheBehavior(
                    CachePolicyId=CACHING_OPTIMIZED,
                    FunctionAssociations=[
                        cf.FunctionAssociation(
                            EventType="viewer-request",
                            FunctionARN=GetAtt(
                                "SiteRewriteFunction", "FunctionMetadata.FunctionARN"
                            ),
                        )
                    ],
                    **behaviour,
                ),
                # config.json is rewritten on every deploy: never cache it.
                CacheBehaviors=[
                    cf.CacheBehavior(
                        PathPattern="/config.json", CachePolicyId=CACHING_DISABLED, **behaviour
                    )
                ],
            ),
        )
    )
    t.add_resource(
        s3.BucketPolicy(
            "SiteBucketPolicy",
            Bucket=Ref("SiteBucket"),
            PolicyDocument={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "CloudFrontReadOnly",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": Sub("${SiteBucket.Arn}/*"),
                        "Condition": {
                            "StringEquals": {
                                "AWS:SourceArn": Sub(
                                    "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}"
                                    ":distribution/${SiteDistribution}"
                                )
                            }
                        },
                    },
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [GetAtt("SiteBucket", "Arn"), Sub("${SiteBucket.Arn}/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ],
            },
        )
    )


# --------------------------------------------------------------------------- outputs


def add_outputs(t: Template) -> None:
    """Outputs per docs/internals.md (read by the deploy tool)."""
    outputs = {
        "SiteUrl": (Sub("https://${SiteDistribution.DomainName}/lobby"), "The chat, lobby room"),
        # The function URL ends in '/'; the token function answers on /api/token as
        # the emulator does.
        "TokenUrl": (
            Sub("${TokenFunctionUrl.FunctionUrl}api/token"),
            'POST {"name"} here for a guest token',
        ),
        "AuthorizerName": (Ref("ChatAuthorizer"), "IoT custom authorizer name"),
        "TopicRoot": (Ref("TopicRoot"), "First level of every topic"),
        "MessagesTableName": (Ref("MessagesTable"), "Messages table"),
        "ConnectionsTableName": (Ref("ConnectionsTable"), "Connections table"),
        "SiteBucketName": (Ref("SiteBucket"), "Bucket the web client is uploaded to"),
        "DistributionId": (Ref("SiteDistribution"), "CloudFront distribution (invalidations)"),
    }
    for name, (value, description) in outputs.items():
        t.add_output(Output(name, Value=value, Description=description))


# ----------------------------------------------------------------------------- build


# Types whose data a replacement or deletion destroys.
STATEFUL_TYPES = frozenset(
    {
        "AWS::DynamoDB::Table",
        "AWS::Kinesis::Stream",
        "AWS::Logs::LogGroup",
        "AWS::S3::Bucket",
        "AWS::SecretsManager::Secret",
        "AWS::SQS::Queue",
    }
)


def set_deletion_policies(t: Template) -> None:
    """Say explicitly that stateful resources go with the stack.

    Chat history is short-lived (TTL) and `make destroy` must leave nothing behind, so
    Delete is the intended policy, not an accident of the default.
    """
    for resource in t.resources.values():
        if resource.resource_type in STATEFUL_TYPES:
            resource.DeletionPolicy = "Delete"
            resource.UpdateReplacePolicy = "Delete"


def build() -> Template:
    """The whole stack."""
    t = Template(
        Description="Serverless real-time chat on AWS IoT Core (generated by build_template.py)"
    )
    t.set_version("2010-09-09")
    add_parameters(t)
    add_data(t)
    add_functions(t)
    add_auth(t)
    add_rules(t)
    add_site(t)
    add_outputs(t)
    set_deletion_policies(t)
    return t


def render() -> str:
    """The template as committed: sorted keys, indent 2, trailing newline."""
    return build().to_json(indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write templates/chat.json, or with --check compare it with a fresh build."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current == text:
            return 0
        diff = difflib.unified_diff(
            current.splitlines(), text.splitlines(), str(args.output), "build", lineterm="", n=1
        )
        print("\n".join(list(diff)[:40]))
        print(f"{args.output} is out of date: run `python build_template.py`", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
