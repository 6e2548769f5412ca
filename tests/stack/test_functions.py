"""stack/functions.py: each FUNCTIONS entry becomes the function docs/internals.md
describes, with its code parameter and log group; the stream feeds the chat function."""

from __future__ import annotations

from typing import Any

import pytest

from stack.functions import FUNCTIONS
from tests.stack.conftest import of_type

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
            "PEOPLE_TABLE",
        },
    ),
    "TokenFunction": (
        "guest_token.handler",
        {
            "TOKEN_SECRET_ARN",
            "GUEST_ISSUER",
            "GUEST_AUDIENCE",
            "TOKEN_LIFETIME_SECONDS",
            "RATE_LIMIT_TABLE",
            "TOKEN_REQUESTS_PER_MINUTE",
        },
    ),
    "ChatFunction": (
        "chat.handler",
        {"MESSAGES_TABLE", "CONNECTIONS_TABLE", "PEOPLE_TABLE", "MESSAGE_RETENTION_DAYS"},
    ),
    "PresenceFunction": ("presence.handler", {"CONNECTIONS_TABLE"}),
}
COMMON_ENV = {"TOPIC_ROOT", "LOG_LEVEL", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"}
POWERTOOLS = {"Ref": "PowertoolsLayer"}
JWKS = {"Fn::If": ["JwksConfigured", {"Ref": "JwksLayer"}, {"Ref": "AWS::NoValue"}]}
PYJWT = {"Source": "lambdas", "Requirements": "lambdas/requirements/pyjwt.txt"}
# logical id: (Metadata.Build, Layers): what each zip carries besides its code.
PACKAGING = {
    "AuthorizerFunction": (PYJWT, [POWERTOOLS, JWKS]),
    "TokenFunction": (PYJWT, [POWERTOOLS]),
    "ChatFunction": ({"Source": "lambdas"}, [POWERTOOLS]),
    "PresenceFunction": ({"Source": "lambdas"}, [POWERTOOLS]),
}


def test_functions_are_exactly_the_list(resources: dict[str, Any]) -> None:
    """FUNCTIONS is the one list: the template has its functions and no others."""
    assert set(of_type(resources, "AWS::Lambda::Function")) == {f.logical_id for f in FUNCTIONS}
    assert {f.logical_id for f in FUNCTIONS} == set(FUNCTION_ENV)


def test_code_parameters_have_no_default(template: dict[str, Any]) -> None:
    """The deploy tool always passes where the zips are; a default would hide a miss."""
    params = template["Parameters"]
    for name in (
        "ArtifactsBucket",
        *(f"{n}CodeKey" for n in ("Authorizer", "Token", "Chat", "Presence")),
    ):
        assert "Default" not in params[name], name


@pytest.mark.parametrize("logical_id", sorted(FUNCTION_ENV))
def test_function_contract(resources: dict[str, Any], logical_id: str) -> None:
    """Handler, runtime, code location, Metadata.Build and environment per internals."""
    fn = resources[logical_id]
    props = fn["Properties"]
    handler, env = FUNCTION_ENV[logical_id]
    build, layers = PACKAGING[logical_id]
    assert fn["Metadata"]["Build"] == build
    assert props["Layers"] == layers
    assert props["Handler"] == handler
    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["arm64"]
    key = logical_id.removesuffix("Function") + "CodeKey"
    assert props["Code"] == {"S3Bucket": {"Ref": "ArtifactsBucket"}, "S3Key": {"Ref": key}}
    assert set(props["Environment"]["Variables"]) == env | COMMON_ENV
    assert props["Environment"]["Variables"]["TOPIC_ROOT"] == {"Ref": "TopicRoot"}
    assert props["Environment"]["Variables"]["LOG_LEVEL"] == "INFO"
    # One namespace per stack for the functions' embedded-format metrics.
    assert props["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == {
        "Fn::Sub": "ServerlessChat/${AWS::StackName}"
    }
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


def test_with_stream_chat_reads_it(template: dict[str, Any]) -> None:
    """EnableStream=true: the mapping feeds the chat function, failures go to SQS."""
    mapping = template["Resources"]["ChatStreamMapping"]["Properties"]
    assert mapping["FunctionName"] == {"Ref": "ChatFunction"}
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["ChatStream", "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["BatchSize"] == 100
    assert mapping["MaximumBatchingWindowInSeconds"] == 1
    assert mapping["MaximumRetryAttempts"] == 3
    assert mapping["StartingPosition"] == "LATEST"
    assert mapping["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": ["StreamFailureQueue", "Arn"]}}
    }
