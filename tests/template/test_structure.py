"""Structural promises of the template that cfn-lint cannot know about."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from iot_rules import RULES

FUNCTION_ENV = {
    # logical id: (Handler, environment besides the common three), per docs/internals.md
    "AuthorizerFunction": (
        "authorizer.handler",
        {
            "TOKEN_SECRET_ARN",
            "GUEST_ISSUER",
            "GUEST_AUDIENCE",
            "JWKS_URL",
            "JWT_ISSUER",
            "JWT_AUDIENCE",
        },
    ),
    "TokenFunction": (
        "guest_token.handler",
        {"TOKEN_SECRET_ARN", "GUEST_ISSUER", "GUEST_AUDIENCE", "TOKEN_LIFETIME_SECONDS"},
    ),
    "ChatFunction": (
        "chat.handler",
        {"MESSAGES_TABLE", "CONNECTIONS_TABLE", "MESSAGE_RETENTION_DAYS"},
    ),
    "PresenceFunction": ("presence.handler", {"CONNECTIONS_TABLE"}),
}
COMMON_ENV = {"TOPIC_ROOT", "LOG_LEVEL", "POWERTOOLS_SERVICE_NAME"}
BUILD = {"Build": {"Source": "lambdas", "Requirements": "lambdas/requirements.txt"}}


def of_type(resources: dict[str, Any], type_: str) -> dict[str, Any]:
    """Resources of one CloudFormation type, by logical id."""
    return {k: v for k, v in resources.items() if v["Type"] == type_}


def test_parameters_follow_internals(template: dict[str, Any]) -> None:
    """Names and defaults the deploy tool and emulator pass."""
    params = template["Parameters"]
    assert params["TopicRoot"]["Default"] == "chat"
    assert params["TopicRoot"]["AllowedPattern"] == "^[A-Za-z0-9_-]{1,32}$"
    assert params["MessageRetentionDays"]["Default"] == "7"
    assert params["EnableStream"]["AllowedValues"] == ["true", "false"]
    assert params["EnableStream"]["Default"] == "true"
    for name in ("JwksUrl", "JwtIssuer", "JwtAudience"):
        assert params[name]["Default"] == ""
    for name in (
        "ArtifactsBucket",
        *(f"{n}CodeKey" for n in ("Authorizer", "Token", "Chat", "Presence")),
    ):
        assert "Default" not in params[name], name


def test_outputs_follow_internals(template: dict[str, Any]) -> None:
    """The deploy tool reads exactly these outputs."""
    assert set(template["Outputs"]) == {
        "SiteUrl",
        "TokenUrl",
        "AuthorizerName",
        "TopicRoot",
        "MessagesTableName",
        "ConnectionsTableName",
        "SiteBucketName",
        "DistributionId",
    }
    assert template["Outputs"]["SiteUrl"]["Value"] == {
        "Fn::Sub": "https://${SiteDistribution.DomainName}/lobby"
    }


def test_one_topic_rule_per_iot_rules_module(resources: dict[str, Any]) -> None:
    """The emulator finds rules by type: exactly the iot_rules modules, no more."""
    assert set(of_type(resources, "AWS::IoT::TopicRule")) == {r.logical_id for r in RULES}
    assert {r.name for r in RULES} == {"route", "republish", "store", "stream", "lifecycle"}


def test_every_rule_has_an_error_action(resources: dict[str, Any]) -> None:
    """A failed action is never silent."""
    for name, rule in of_type(resources, "AWS::IoT::TopicRule").items():
        error = rule["Properties"]["TopicRulePayload"].get("ErrorAction")
        assert error, f"{name} has no ErrorAction"
        assert error["CloudwatchLogs"]["LogGroupName"] == {"Ref": "RuleErrorsLogGroup"}
    assert resources["RuleErrorsLogGroup"]["Properties"]["RetentionInDays"] > 0


def test_rule_names_carry_the_stack_name(resources: dict[str, Any]) -> None:
    """Rule names allow only [A-Za-z0-9_]: the stack name's '-' become '_'."""
    for rule in RULES:
        name = resources[rule.logical_id]["Properties"]["RuleName"]
        assert name == {
            "Fn::Join": [
                "",
                [
                    {"Fn::Join": ["_", {"Fn::Split": ["-", {"Ref": "AWS::StackName"}]}]},
                    f"_{rule.name}",
                ],
            ]
        }


@pytest.mark.parametrize("logical_id", sorted(FUNCTION_ENV))
def test_function_contract(resources: dict[str, Any], logical_id: str) -> None:
    """Handler, runtime, code location, Metadata.Build and environment per internals."""
    fn = resources[logical_id]
    props = fn["Properties"]
    handler, env = FUNCTION_ENV[logical_id]
    assert fn["Metadata"] == BUILD
    assert props["Handler"] == handler
    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["arm64"]
    key = logical_id.removesuffix("Function") + "CodeKey"
    assert props["Code"] == {"S3Bucket": {"Ref": "ArtifactsBucket"}, "S3Key": {"Ref": key}}
    assert set(props["Environment"]["Variables"]) == env | COMMON_ENV
    assert props["Environment"]["Variables"]["TOPIC_ROOT"] == {"Ref": "TopicRoot"}
    assert props["Environment"]["Variables"]["LOG_LEVEL"] == "INFO"
    assert "${AWS::StackName}-" in props["FunctionName"]["Fn::Sub"]
    short = props["FunctionName"]["Fn::Sub"].removeprefix("${AWS::StackName}-")
    group = resources[logical_id.removesuffix("Function") + "LogGroup"]["Properties"]
    assert group["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}-{short}"}
    assert group["RetentionInDays"] > 0


def test_authorizer_is_fast(resources: dict[str, Any]) -> None:
    """Every MQTT connect waits for it."""
    props = resources["AuthorizerFunction"]["Properties"]
    assert 128 <= props["MemorySize"] <= 256
    assert props["Timeout"] <= 5


def test_guest_token_identity(resources: dict[str, Any]) -> None:
    """Issuer/audience of guest tokens are stack-specific: one stack's token is no good
    for another's authorizer."""
    for fn in ("AuthorizerFunction", "TokenFunction"):
        env = resources[fn]["Properties"]["Environment"]["Variables"]
        assert env["GUEST_ISSUER"] == {"Fn::Sub": "${AWS::StackName}/guest"}
        assert env["GUEST_AUDIENCE"] == {"Fn::Sub": "${AWS::StackName}/iot"}
        assert env["TOKEN_SECRET_ARN"] == {"Ref": "TokenSecret"}


def test_tables_follow_internals(resources: dict[str, Any]) -> None:
    """Keys, index and TTL the functions and the store rule rely on."""
    messages = resources["MessagesTable"]["Properties"]
    assert messages["KeySchema"] == [
        {"AttributeName": "room", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert messages["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert messages["BillingMode"] == "PAY_PER_REQUEST"
    connections = resources["ConnectionsTable"]["Properties"]
    assert connections["KeySchema"] == [{"AttributeName": "clientId", "KeyType": "HASH"}]
    (index,) = connections["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "room-index"
    assert index["KeySchema"][0] == {"AttributeName": "room", "KeyType": "HASH"}
    assert index["Projection"] == {"ProjectionType": "ALL"}
    assert connections["TimeToLiveSpecification"]["AttributeName"] == "expiresAt"


def test_no_secret_value_in_template(template: dict[str, Any], resources: dict[str, Any]) -> None:
    """The signing key is generated by Secrets Manager, never written down."""
    secret = resources["TokenSecret"]["Properties"]
    assert "SecretString" not in secret
    assert secret["GenerateSecretString"] == {"ExcludePunctuation": True, "PasswordLength": 64}


def test_site_is_private_behind_cloudfront(resources: dict[str, Any]) -> None:
    """Only the distribution (OAC) reads the bucket; viewers are sent to HTTPS."""
    bucket = resources["SiteBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    policy = resources["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allows = [s for s in policy if s["Effect"] == "Allow"]
    assert len(allows) == 1
    assert allows[0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allows[0]["Action"] == "s3:GetObject"
    assert "${SiteDistribution}" in json.dumps(allows[0]["Condition"])
    config = resources["SiteDistribution"]["Properties"]["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["Origins"][0]["OriginAccessControlId"] == {
        "Fn::GetAtt": ["SiteOriginAccessControl", "Id"]
    }
    csp = resources["SiteHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"
    ]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "connect-src 'self' wss://*.amazonaws.com https://*.on.aws",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ):
        assert directive in csp


def test_token_url_is_public_only_through_the_url(resources: dict[str, Any]) -> None:
    """A public function URL needs both permissions; the direct-invoke one is tied to
    the URL so the function is not invocable by anyone through the Lambda API."""
    url = resources["TokenFunctionUrl"]["Properties"]
    assert url["AuthType"] == "NONE"
    assert url["Cors"]["AllowMethods"] == ["POST"]
    perms = [p["Properties"] for p in of_type(resources, "AWS::Lambda::Permission").values()]
    public = [p for p in perms if p["Principal"] == "*"]
    assert {p["Action"] for p in public} == {"lambda:InvokeFunction", "lambda:InvokeFunctionUrl"}
    for p in public:
        assert p["FunctionName"] == {"Ref": "TokenFunction"}
        if p["Action"] == "lambda:InvokeFunction":
            assert p["InvokedViaFunctionUrl"] is True
        else:
            assert p["FunctionUrlAuthType"] == "NONE"


def test_iot_permissions_are_scoped_to_their_source(resources: dict[str, Any]) -> None:
    """iot.amazonaws.com may invoke a function only for our authorizer and rules."""
    perms = of_type(resources, "AWS::Lambda::Permission")
    iot_perms = {
        k: v["Properties"]
        for k, v in perms.items()
        if v["Properties"]["Principal"] == "iot.amazonaws.com"
    }
    sources = {
        json.dumps(p["SourceArn"], sort_keys=True): p["FunctionName"] for p in iot_perms.values()
    }
    assert sources == {
        json.dumps({"Fn::GetAtt": ["ChatAuthorizer", "Arn"]}): {
            "Fn::GetAtt": ["AuthorizerFunction", "Arn"]
        },
        json.dumps({"Fn::GetAtt": ["RouteRule", "Arn"]}): {"Fn::GetAtt": ["ChatFunction", "Arn"]},
        json.dumps({"Fn::GetAtt": ["LifecycleRule", "Arn"]}): {
            "Fn::GetAtt": ["PresenceFunction", "Arn"]
        },
    }
    authorizer = resources["ChatAuthorizer"]["Properties"]
    assert authorizer["SigningDisabled"] is True
    assert authorizer["Status"] == "ACTIVE"
    assert authorizer["TokenKeyName"] == "token"
    assert authorizer["AuthorizerName"] == {"Fn::Sub": "${AWS::StackName}-authorizer"}


# --------------------------------------------------------------------- topic root


def _strings(node: Any) -> list[str]:
    """Every string in a JSON tree (including Fn::Sub texts)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in _strings(key) + _strings(value)]
    return []


def test_no_literal_topic_root(template: dict[str, Any]) -> None:
    """'chat' is only TopicRoot's default: no topic, SQL or policy spells it out."""
    texts = _strings(template["Resources"])
    offenders = [s for s in texts if re.search(r"(^|[/' ])chat/", s)]
    assert not offenders, offenders


def test_every_topic_is_under_topic_root(resources: dict[str, Any]) -> None:
    """FROM clauses, republish topics and iot:Publish resources start at TopicRoot."""
    for name, rule in of_type(resources, "AWS::IoT::TopicRule").items():
        payload = rule["Properties"]["TopicRulePayload"]
        sql = payload["Sql"] if isinstance(payload["Sql"], str) else payload["Sql"]["Fn::Sub"]
        (topic,) = re.findall(r"FROM '([^']*)'", sql)
        if topic.startswith("$aws/events/"):
            continue  # lifecycle events are account-wide by AWS's design
        assert topic.startswith("${TopicRoot}/"), (name, topic)
        for action in payload["Actions"]:
            if "Republish" in action:
                assert action["Republish"]["Topic"]["Fn::Sub"].startswith("${TopicRoot}/")
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        for stmt in _statements(role):
            if "iot:Publish" in stmt["Action"]:
                for res in stmt["Resource"]:
                    assert ":topic/${TopicRoot}/" in res["Fn::Sub"], name


# ------------------------------------------------------------------------ IAM


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    """A role's statements, Fn::If [StreamEnabled, s, NoValue] taken as s."""
    out = []
    for policy in role["Properties"].get("Policies", []):
        for stmt in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in stmt:
                cond, then, otherwise = stmt["Fn::If"]
                assert cond == "StreamEnabled" and otherwise == {"Ref": "AWS::NoValue"}
                stmt = then
            out.append(stmt)
    return out


def _grants(role: dict[str, Any]) -> set[tuple[str, str]]:
    """(action, resource) pairs a role allows; resources as compact JSON."""
    pairs = set()
    for stmt in _statements(role):
        assert stmt["Effect"] == "Allow"
        actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
        res = stmt["Resource"] if isinstance(stmt["Resource"], list) else [stmt["Resource"]]
        for action in actions:
            assert "*" not in action, f"wildcard action {action}"
            for r in res:
                pairs.add((action, json.dumps(r, sort_keys=True)))
    return pairs


def att(name: str) -> str:
    """JSON of GetAtt name.Arn."""
    return json.dumps({"Fn::GetAtt": [name, "Arn"]})


def sub(text: str) -> str:
    """JSON of Fn::Sub text."""
    return json.dumps({"Fn::Sub": text})


def topic(pattern: str) -> str:
    """JSON of a topic ARN under TopicRoot."""
    return sub(
        "arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:topic/${TopicRoot}/" + pattern
    )


def grant(actions: list[str], *resources: str) -> set[tuple[str, str]]:
    """Expected (action, resource) pairs."""
    return {(a, r) for a in actions for r in resources}


TABLE_RW = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
STREAM_READ = [
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
]
LOG_WRITE = ["logs:CreateLogStream", "logs:PutLogEvents"]
SECRET = json.dumps({"Ref": "TokenSecret"})

EXPECTED_GRANTS: dict[str, set[tuple[str, str]]] = {
    "StoreRuleRole": grant(["dynamodb:PutItem"], att("MessagesTable")),
    "RepublishRuleRole": grant(["iot:Publish"], topic("pub/*")),
    "StreamRuleRole": grant(["kinesis:PutRecord"], att("ChatStream")),
    "RuleErrorsRole": grant([*LOG_WRITE, "logs:DescribeLogStreams"], att("RuleErrorsLogGroup")),
    "AuthorizerFunctionRole": grant(LOG_WRITE, att("AuthorizerLogGroup"))
    | grant(["secretsmanager:GetSecretValue"], SECRET),
    "TokenFunctionRole": grant(LOG_WRITE, att("TokenLogGroup"))
    | grant(["secretsmanager:GetSecretValue"], SECRET),
    "ChatFunctionRole": grant(LOG_WRITE, att("ChatLogGroup"))
    | grant([*TABLE_RW, "dynamodb:DeleteItem"], att("MessagesTable"))
    | grant(TABLE_RW, att("ConnectionsTable"), sub("${ConnectionsTable.Arn}/index/*"))
    | grant(["iot:Publish"], topic("in/*"), topic("pub/*"))
    | grant(STREAM_READ, att("ChatStream"))
    | grant(["sqs:SendMessage"], att("StreamFailureQueue")),
    "PresenceFunctionRole": grant(LOG_WRITE, att("PresenceLogGroup"))
    | grant(TABLE_RW, att("ConnectionsTable"), sub("${ConnectionsTable.Arn}/index/*"))
    | grant(["iot:Publish"], topic("pub/*")),
}


def test_every_role_is_expected(resources: dict[str, Any]) -> None:
    """No role appears without its least-privilege expectation written here."""
    assert set(of_type(resources, "AWS::IAM::Role")) == set(EXPECTED_GRANTS)


@pytest.mark.parametrize("role_id", sorted(EXPECTED_GRANTS))
def test_role_grants_exactly(resources: dict[str, Any], role_id: str) -> None:
    """Each role allows exactly its actions on exactly its resources, nothing managed."""
    role = resources[role_id]
    assert "ManagedPolicyArns" not in role["Properties"]
    assert _grants(role) == EXPECTED_GRANTS[role_id]


@pytest.mark.parametrize(
    ("role_id", "service"),
    [(r, "iot.amazonaws.com") for r in EXPECTED_GRANTS if "Rule" in r]
    + [(r, "lambda.amazonaws.com") for r in EXPECTED_GRANTS if "Function" in r],
)
def test_role_trusts_only_its_service(
    resources: dict[str, Any], role_id: str, service: str
) -> None:
    """Rule roles are assumed by IoT, function roles by Lambda, nobody else."""
    (stmt,) = resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert stmt["Principal"] == {"Service": service}
    assert stmt["Action"] == "sts:AssumeRole"
