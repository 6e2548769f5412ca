"""stack/auth.py: the authorizer and the token URL, and who may invoke what."""

from __future__ import annotations

import json
from typing import Any

from tests.stack.conftest import of_type


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
