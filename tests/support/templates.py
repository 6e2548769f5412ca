"""Pieces of the small CloudFormation templates tests write for themselves (any IoT
application, not the chat): roles' trust, inline functions, permissions, a default
custom authorizer, and the devices table and API secret the callout tests read."""

from __future__ import annotations

from typing import Any

ACCOUNT = "123456789012"

# A function the rules call out to (aws_lambda in IoT SQL).
ENRICH_CODE = """
def handler(event, context):
    return {"doubled": event["n"] * 2}
"""


def trust(service: str) -> dict[str, Any]:
    """An AssumeRolePolicyDocument letting ``service`` assume the role."""
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return {"Version": "2012-10-17", "Statement": [statement]}


def function(code: dict[str, Any], role: str, handler: str = "index.handler") -> dict[str, Any]:
    """An AWS::Lambda::Function (python3.12) running as the role ``role`` (a logical id)."""
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Handler": handler,
            "Runtime": "python3.12",
            "Role": {"Fn::GetAtt": [role, "Arn"]},
            "Code": code,
        },
    }


def permission(function: str, principal: str, action: str, **extra: Any) -> dict[str, Any]:
    """An AWS::Lambda::Permission on the function ``function`` (a logical id)."""
    props = {"FunctionName": {"Ref": function}, "Principal": principal, "Action": action}
    return {"Type": "AWS::Lambda::Permission", "Properties": {**props, **extra}}


def authorizer(function: str, name: str = "devices") -> dict[str, Any]:
    """An AWS::IoT::Authorizer (unsigned tokens) calling ``function`` (a logical id)."""
    return {
        "Type": "AWS::IoT::Authorizer",
        "Properties": {
            "AuthorizerName": name,
            "AuthorizerFunctionArn": {"Fn::GetAtt": [function, "Arn"]},
            "SigningDisabled": True,
            "Status": "ACTIVE",
        },
    }


def domain(default_authorizer: str = "devices", **config: Any) -> dict[str, Any]:
    """An AWS::IoT::DomainConfiguration naming the endpoint's default authorizer."""
    return {
        "Type": "AWS::IoT::DomainConfiguration",
        "Properties": {
            "DomainConfigurationName": "devices",
            "AuthorizerConfig": {"DefaultAuthorizerName": default_authorizer, **config},
        },
    }


def devices_and_api_key() -> dict[str, Any]:
    """The ``devices`` table (key ``id``) and the ``api`` secret (``{"key": "s3cr3t"}``)."""
    return {
        "Devices": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": "devices",
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            },
        },
        "ApiKey": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {"Name": "api", "SecretString": '{"key": "s3cr3t"}'},
        },
    }
