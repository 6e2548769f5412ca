"""A function's resource-based policy, from the template's AWS::Lambda::Permission.

Lambda checks it when another service invokes the function: IoT for a rule's lambda
action and for a custom authorizer (principal ``iot.amazonaws.com``, matched on
``SourceArn`` and ``SourceAccount``), and a function URL whose AuthType is NONE
(principal ``*``: ``lambda:InvokeFunctionUrl`` with that ``FunctionUrlAuthType``, and
``lambda:InvokeFunction`` with ``InvokedViaFunctionUrl``, which function URLs created
since October 2025 need). AWS: "Viewing resource-based IAM policies in Lambda",
https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html;
"Control access to Lambda function URLs",
https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html; "AWS Lambda" rule action,
https://docs.aws.amazon.com/iot/latest/developerguide/lambda-rule-action.html;
"Authorizing AWS IoT to invoke your authorizer function",
https://docs.aws.amazon.com/iot/latest/developerguide/custom-auth-authorize.html

Each permission that applies to the caller becomes an Allow statement on the function,
evaluated by the emulator's policy engine (emulator.iot.policy), the same one that
evaluates IoT and identity-based policies. ``SourceArn`` patterns are matched as
whole-ARN globs (AWS's ArnLike matches each ARN component separately).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from emulator.iot.policy import Decision, PolicySet
from emulator.template import Resource, Template

VERSION = "2012-10-17"


@dataclass(frozen=True)
class Caller:
    """Who invokes the function, and through what."""

    principal: str  # "iot.amazonaws.com", or "*" for an anonymous function URL request
    source_arn: str | None = None
    source_account: str | None = None
    url_auth_type: str | None = None  # set when the call comes through a function URL


@dataclass(frozen=True)
class LambdaPermission:
    """One AWS::Lambda::Permission, with the function named by its unqualified ARN."""

    logical_id: str
    function_arn: str
    action: str
    principal: str
    source_arn: str | None = None
    source_account: str | None = None
    url_auth_type: str | None = None
    invoked_via_url: bool = False

    def applies_to(self, caller: Caller) -> bool:
        """Whether this grant's principal and conditions match the caller."""
        if self.principal not in ("*", caller.principal):
            return False
        if self.source_account is not None and self.source_account != caller.source_account:
            return False
        if self.source_arn is not None and not _glob_matches(self.source_arn, caller.source_arn):
            return False
        if self.url_auth_type is not None and self.url_auth_type != caller.url_auth_type:
            return False
        return not (self.invoked_via_url and caller.url_auth_type is None)


def _glob_matches(pattern: str, value: str | None) -> bool:
    if value is None:
        return False
    statement = {"Effect": "Allow", "Action": "*", "Resource": pattern}
    one = PolicySet.from_documents([{"Version": VERSION, "Statement": [statement]}])
    return one.is_allowed("match", value, {})


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def function_arn(name: str, region: str, account_id: str) -> str:
    """A function name, partial ARN or (qualified) ARN as its unqualified ARN."""
    if name.startswith("arn:"):
        parts = name.split(":")
        return ":".join(parts[:7])
    if ":function:" in name:  # 123456789012:function:name[:qualifier]
        account, _, rest = name.partition(":function:")
        return f"arn:aws:lambda:{region}:{account}:function:{rest.split(':')[0]}"
    return f"arn:aws:lambda:{region}:{account_id}:function:{name.split(':')[0]}"


def permission_of(resource: Resource, region: str, account_id: str) -> LambdaPermission:
    """The permission a resource declares (intrinsics already resolved)."""
    props = resource.properties
    auth_type = props.get("FunctionUrlAuthType")
    return LambdaPermission(
        logical_id=resource.logical_id,
        function_arn=function_arn(str(props["FunctionName"]), region, account_id),
        action=str(props["Action"]),
        principal=str(props["Principal"]),
        source_arn=str(props["SourceArn"]) if props.get("SourceArn") else None,
        source_account=str(props["SourceAccount"]) if props.get("SourceAccount") else None,
        url_auth_type=str(auth_type) if auth_type else None,
        invoked_via_url=_flag(props.get("InvokedViaFunctionUrl", False)),
    )


class LambdaPermissions:
    """Every function's resource-based policy."""

    def __init__(self, permissions: Iterable[LambdaPermission]) -> None:
        self.permissions = tuple(permissions)

    @classmethod
    def from_template(cls, template: Template) -> LambdaPermissions:
        return cls(
            permission_of(resource, template.region, template.account_id)
            for resource in template.resources(type="AWS::Lambda::Permission")
        )

    def decide(self, function: str, action: str, caller: Caller) -> Decision:
        """Whether the function's policy lets the caller perform ``action`` on it.

        ``function`` is the function's ARN (a qualifier is ignored).
        """
        if not function.startswith("arn:"):
            raise ValueError(f"not a function ARN: {function}")
        arn = ":".join(function.split(":")[:7])
        statements = [
            {"Effect": "Allow", "Action": p.action, "Resource": p.function_arn}
            for p in self.permissions
            if p.function_arn == arn and p.applies_to(caller)
        ]
        if not statements:
            return Decision.IMPLICIT_DENY
        policy = PolicySet.from_documents([{"Version": VERSION, "Statement": statements}])
        return policy.evaluate(action, arn, {})


def denial_message(caller: Caller, action: str, function: str) -> str:
    """Lambda's access denied message for a resource-based policy decision."""
    return (
        f"User: {caller.principal} is not authorized to perform: {action} on resource: "
        f"{function} because no resource-based policy allows the {action} action"
    )
