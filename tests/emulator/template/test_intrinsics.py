"""Intrinsic and condition functions, table-driven against a small template."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.template import TemplateError, UnsupportedIntrinsicError, template_from_dict

RAW: dict[str, Any] = {
    "Parameters": {
        "TopicRoot": {"Type": "String", "Default": "chat"},
        "EnableStream": {"Type": "String", "Default": "true", "AllowedValues": ["true", "false"]},
        "Zones": {"Type": "CommaDelimitedList", "Default": "a,b,c"},
        "Empty": {"Type": "String", "Default": ""},
    },
    "Mappings": {"Sizes": {"small": {"Memory": 128}}},
    "Conditions": {
        "StreamOn": {"Fn::Equals": [{"Ref": "EnableStream"}, "true"]},
        "StreamOff": {"Fn::Not": [{"Condition": "StreamOn"}]},
        "HasEmpty": {"Fn::Equals": [{"Ref": "Empty"}, ""]},
        "Both": {"Fn::And": [{"Condition": "StreamOn"}, {"Condition": "HasEmpty"}]},
        "Either": {"Fn::Or": [{"Condition": "StreamOff"}, {"Fn::Equals": ["x", "y"]}]},
    },
    "Resources": {
        "MessagesTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {"TableName": {"Fn::Sub": "${AWS::StackName}-messages"}},
        },
        "ChatStream": {"Type": "AWS::Kinesis::Stream", "Condition": "StreamOn", "Properties": {}},
        "ChatFunction": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Handler": "chat.handler"},
        },
        "TokenSecret": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
        "FailureQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "failures"}},
        "RouteRule": {"Type": "AWS::IoT::TopicRule", "Properties": {}},
        "ChatAuthorizer": {
            "Type": "AWS::IoT::Authorizer",
            "Properties": {"AuthorizerName": "chat-auth"},
        },
        "TokenFunctionUrl": {
            "Type": "AWS::Lambda::Url",
            "Properties": {"TargetFunctionArn": {"Fn::GetAtt": ["ChatFunction", "Arn"]}},
        },
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "SiteBucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/chat/x"}},
    },
}

ARN = "arn:aws:{}:us-east-1:123456789012:{}"

CASES: list[tuple[str, Any, Any]] = [
    ("ref parameter", {"Ref": "TopicRoot"}, "chat"),
    ("ref list parameter", {"Ref": "Zones"}, ["a", "b", "c"]),
    ("ref region", {"Ref": "AWS::Region"}, "us-east-1"),
    ("ref account", {"Ref": "AWS::AccountId"}, "123456789012"),
    ("ref stack", {"Ref": "AWS::StackName"}, "teststack"),
    ("ref partition", {"Ref": "AWS::Partition"}, "aws"),
    ("ref url suffix", {"Ref": "AWS::URLSuffix"}, "amazonaws.com"),
    ("ref table", {"Ref": "MessagesTable"}, "teststack-messages"),
    ("ref generated name", {"Ref": "ChatFunction"}, "teststack-ChatFunction"),
    (
        "ref secret is arn",
        {"Ref": "TokenSecret"},
        ARN.format("secretsmanager", "secret:teststack-TokenSecret"),
    ),
    (
        "ref queue is url",
        {"Ref": "FailureQueue"},
        "https://sqs.us-east-1.amazonaws.com/123456789012/failures",
    ),
    ("ref topic rule name", {"Ref": "RouteRule"}, "teststack_RouteRule"),
    ("ref authorizer", {"Ref": "ChatAuthorizer"}, "chat-auth"),
    (
        "getatt table arn",
        {"Fn::GetAtt": ["MessagesTable", "Arn"]},
        ARN.format("dynamodb", "table/teststack-messages"),
    ),
    (
        "getatt dotted",
        {"Fn::GetAtt": "ChatStream.Arn"},
        ARN.format("kinesis", "stream/teststack-ChatStream"),
    ),
    (
        "getatt function arn",
        {"Fn::GetAtt": ["ChatFunction", "Arn"]},
        ARN.format("lambda", "function:teststack-ChatFunction"),
    ),
    ("getatt queue arn", {"Fn::GetAtt": ["FailureQueue", "Arn"]}, ARN.format("sqs", "failures")),
    ("getatt queue name", {"Fn::GetAtt": ["FailureQueue", "QueueName"]}, "failures"),
    (
        "getatt authorizer arn",
        {"Fn::GetAtt": ["ChatAuthorizer", "Arn"]},
        ARN.format("iot", "authorizer/chat-auth"),
    ),
    (
        "getatt role arn",
        {"Fn::GetAtt": ["Role", "Arn"]},
        "arn:aws:iam::123456789012:role/teststack-Role",
    ),
    (
        "getatt log group arn",
        {"Fn::GetAtt": ["Logs", "Arn"]},
        ARN.format("logs", "log-group:/chat/x:*"),
    ),
    (
        "getatt url function arn",
        {"Fn::GetAtt": ["TokenFunctionUrl", "FunctionArn"]},
        ARN.format("lambda", "function:teststack-ChatFunction"),
    ),
    (
        "getatt bucket domain",
        {"Fn::GetAtt": ["SiteBucket", "RegionalDomainName"]},
        "teststack-sitebucket.s3.us-east-1.amazonaws.com",
    ),
    ("sub plain", {"Fn::Sub": "${TopicRoot}/out"}, "chat/out"),
    (
        "sub pseudo and attr",
        {"Fn::Sub": "${AWS::Region}:${ChatFunction.Arn}"},
        "us-east-1:" + ARN.format("lambda", "function:teststack-ChatFunction"),
    ),
    ("sub escape", {"Fn::Sub": "${!Literal}-${TopicRoot}"}, "${Literal}-chat"),
    (
        "sub iot policy variable",
        {"Fn::Sub": "topic/${TopicRoot}/${!iot:ClientId}"},
        "topic/chat/${iot:ClientId}",
    ),
    (
        "sub with variables",
        {"Fn::Sub": ["${A}-${B}", {"A": "x", "B": {"Ref": "TopicRoot"}}]},
        "x-chat",
    ),
    ("join", {"Fn::Join": ["/", ["a", {"Ref": "TopicRoot"}, "b"]]}, "a/chat/b"),
    ("join list param", {"Fn::Join": ["+", {"Ref": "Zones"}]}, "a+b+c"),
    ("select", {"Fn::Select": [1, ["x", "y", "z"]]}, "y"),
    ("select string index", {"Fn::Select": ["0", {"Ref": "Zones"}]}, "a"),
    ("split", {"Fn::Split": [",", "a,b"]}, ["a", "b"]),
    ("select of split", {"Fn::Select": [2, {"Fn::Split": ["/", "a/b/c"]}]}, "c"),
    ("getazs", {"Fn::GetAZs": ""}, ["us-east-1a", "us-east-1b", "us-east-1c"]),
    ("if true", {"Fn::If": ["StreamOn", "yes", "no"]}, "yes"),
    ("if false", {"Fn::If": ["StreamOff", "yes", "no"]}, "no"),
    (
        "if novalue drops key",
        {"a": {"Fn::If": ["StreamOff", 1, {"Ref": "AWS::NoValue"}]}, "b": 2},
        {"b": 2},
    ),
    ("novalue drops list item", [1, {"Ref": "AWS::NoValue"}, 3], [1, 3]),
    ("find in map", {"Fn::FindInMap": ["Sizes", "small", "Memory"]}, 128),
    ("base64", {"Fn::Base64": "hi"}, "aGk="),
    ("nested plain dict", {"Key": {"Ref": "TopicRoot"}, "N": 1}, {"Key": "chat", "N": 1}),
    (
        "if guards excluded resource",
        {"Fn::If": ["StreamOff", {"Ref": "ChatStream"}, "none"]},
        "none",
    ),
]


@pytest.fixture(scope="module")
def template():  # type: ignore[no-untyped-def]
    return template_from_dict(RAW, stack_name="teststack")


@pytest.mark.parametrize(
    ("expression", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_resolves(template: Any, expression: Any, expected: Any) -> None:
    assert template.resolve(expression) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("StreamOn", True),
        ("StreamOff", False),
        ("HasEmpty", True),
        ("Both", True),
        ("Either", False),
    ],
)
def test_conditions(template: Any, name: str, expected: bool) -> None:
    assert template.conditions[name] is expected


def test_condition_follows_parameter_override() -> None:
    off = template_from_dict(RAW, {"EnableStream": "false"})
    assert off.conditions == {
        "StreamOn": False,
        "StreamOff": True,
        "HasEmpty": True,
        "Both": False,
        "Either": True,
    }
    assert [r.logical_id for r in off.resources("AWS::Kinesis::Stream")] == []


ERRORS: list[tuple[str, Any, str]] = [
    ("import value", {"Fn::ImportValue": "Other-Export"}, "no other stacks"),
    ("unknown function", {"Fn::Cidr": ["10.0.0.0/16", 1, 8]}, "Fn::Cidr is not supported"),
    ("unknown ref", {"Ref": "Nope"}, "unknown resource or parameter Nope"),
    ("unknown attribute", {"Fn::GetAtt": ["MessagesTable", "Bogus"]}, "has no attribute Bogus"),
    ("select out of range", {"Fn::Select": [5, ["a"]]}, "out of range"),
    ("bad join", {"Fn::Join": ["-"]}, "Fn::Join takes"),
    ("unknown condition", {"Fn::If": ["Nope", 1, 2]}, "unknown condition Nope"),
    ("unknown pseudo", {"Ref": "AWS::Nope"}, "unknown pseudo parameter"),
    ("missing map key", {"Fn::FindInMap": ["Sizes", "big", "Memory"]}, "Sizes/big/Memory"),
]


@pytest.mark.parametrize(
    ("expression", "message"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS]
)
def test_errors(template: Any, expression: Any, message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("(", r"\(")):
        template.resolve(expression)


def test_import_value_is_its_own_error(template: Any) -> None:
    with pytest.raises(UnsupportedIntrinsicError):
        template.resolve({"Fn::ImportValue": "x"})


def test_ref_to_resource_whose_condition_is_false() -> None:
    off = template_from_dict(RAW, {"EnableStream": "false"})
    with pytest.raises(TemplateError, match="ChatStream is not created"):
        off.resolve({"Fn::GetAtt": ["ChatStream", "Arn"]})


def test_reference_cycle_is_reported() -> None:
    raw = {
        "Resources": {
            "A": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "B"}}},
            "B": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"QueueName": {"Fn::GetAtt": ["A", "QueueName"]}},
            },
        }
    }
    with pytest.raises(TemplateError, match="cycle"):
        template_from_dict(raw).resolve({"Ref": "A"})


def test_skipped_types_get_placeholder_attributes(template: Any) -> None:
    assert template.resolve({"Fn::GetAtt": ["Alarm", "Whatever"]}) == "teststack-Alarm-Whatever"
    # A bucket is created in moto: an attribute it lacks is an error, as for other types.
    with pytest.raises(TemplateError, match="AWS::S3::Bucket has no attribute Whatever"):
        template.resolve({"Fn::GetAtt": ["SiteBucket", "Whatever"]})
