"""The functions' resource-based policies, from AWS::Lambda::Permission resources."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.aws.iam.lambda_permissions import Caller, LambdaPermissions, function_arn
from emulator.iot.policy import Decision
from emulator.template import template_from_dict

FN = "arn:aws:lambda:us-east-1:123456789012:function:local-chat"
RULE = "arn:aws:iot:us-east-1:123456789012:rule/local_route"
IOT = Caller("iot.amazonaws.com", source_arn=RULE, source_account="123456789012")


def permissions(**resources: dict[str, Any]) -> LambdaPermissions:
    raw = {
        "Resources": {
            name: {"Type": "AWS::Lambda::Permission", "Properties": props}
            for name, props in resources.items()
        }
    }
    return LambdaPermissions.from_template(template_from_dict(raw))


def grant(**extra: Any) -> dict[str, Any]:
    return {
        "Action": "lambda:InvokeFunction",
        "FunctionName": FN,
        "Principal": "iot.amazonaws.com",
        "SourceArn": RULE,
        "SourceAccount": "123456789012",
    } | extra


def test_a_rule_may_invoke_when_principal_source_and_account_match() -> None:
    policy = permissions(P=grant())
    assert policy.decide(FN, "lambda:InvokeFunction", IOT) is Decision.ALLOW
    assert policy.decide(f"{FN}:live", "lambda:InvokeFunction", IOT) is Decision.ALLOW
    other_rule = Caller("iot.amazonaws.com", RULE + "x", "123456789012")
    other_account = Caller("iot.amazonaws.com", RULE, "210987654321")
    other_service = Caller("events.amazonaws.com", RULE, "123456789012")
    for caller in (other_rule, other_account, other_service):
        assert policy.decide(FN, "lambda:InvokeFunction", caller) is Decision.IMPLICIT_DENY
    other_function = FN.replace("local-chat", "local-presence")
    assert policy.decide(other_function, "lambda:InvokeFunction", IOT) is Decision.IMPLICIT_DENY


def test_source_arn_globs_and_function_names() -> None:
    policy = permissions(P=grant(SourceArn="arn:aws:iot:us-east-1:123456789012:rule/local_*"))
    assert policy.decide(FN, "lambda:InvokeFunction", IOT) is Decision.ALLOW
    by_name = permissions(P=grant(FunctionName="local-chat"))
    assert by_name.decide(FN, "lambda:InvokeFunction", IOT) is Decision.ALLOW
    assert function_arn("123456789012:function:f:1", "eu-west-1", "x") == (
        "arn:aws:lambda:eu-west-1:123456789012:function:f"
    )


def test_a_function_url_with_auth_none_needs_both_permissions() -> None:
    url = Caller("*", url_auth_type="NONE")
    invoke_url = {
        "Action": "lambda:InvokeFunctionUrl",
        "FunctionName": "local-chat",
        "Principal": "*",
        "FunctionUrlAuthType": "NONE",
    }
    invoke_via_url = {
        "Action": "lambda:InvokeFunction",
        "FunctionName": "local-chat",
        "Principal": "*",
        "InvokedViaFunctionUrl": True,
    }
    both = permissions(Url=invoke_url, Invoke=invoke_via_url)
    assert both.decide(FN, "lambda:InvokeFunctionUrl", url) is Decision.ALLOW
    assert both.decide(FN, "lambda:InvokeFunction", url) is Decision.ALLOW
    # InvokedViaFunctionUrl grants nothing to anyone calling the function otherwise.
    assert both.decide(FN, "lambda:InvokeFunction", IOT) is Decision.IMPLICIT_DENY
    only_url = permissions(Url=invoke_url)
    assert only_url.decide(FN, "lambda:InvokeFunction", url) is Decision.IMPLICIT_DENY
    iam_url = Caller("*", url_auth_type="AWS_IAM")
    assert both.decide(FN, "lambda:InvokeFunctionUrl", iam_url) is Decision.IMPLICIT_DENY


def test_a_name_is_not_a_function_arn() -> None:
    with pytest.raises(ValueError, match="not a function ARN"):
        permissions().decide("local-chat", "lambda:InvokeFunction", IOT)
