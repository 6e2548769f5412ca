"""The rules engine's ActionTarget when IAM is enforced: every action runs as its role.

AWS IoT assumes an action's ``roleArn`` (its trust policy must allow
``iot.amazonaws.com``) and calls the service with those credentials; a republish
needs ``iot:Publish`` on the target topic. A lambda action has no role: Lambda checks
the function's resource-based policy for ``iot.amazonaws.com`` and the rule's ARN.
AWS: "Granting any AWS IoT rule the access it requires",
https://docs.aws.amazon.com/iot/latest/developerguide/iot-create-role.html
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from emulator.aws.iam.access import AccessDenied, EmulatorIam
from emulator.aws.iam.credentials import IOT, RoleNotAssumable
from emulator.aws.iam.lambda_permissions import Caller
from emulator.iot.policy import IotArns
from emulator.rules.target import ServiceError

_NO_ROLE = "the action names no roleArn, so AWS IoT has no credentials to run it with"


@dataclass
class IamActionTarget:
    """Republish, invoke and AWS clients, each as the action's role or the rule."""

    publish: Callable[[str, bytes, int], Awaitable[None]]
    invoke: Callable[[str, Any], Awaitable[None]]
    iam: EmulatorIam
    arns: IotArns

    async def republish(
        self, topic: str, payload: bytes, qos: int, role_arn: str | None, rule_name: str
    ) -> None:
        if role_arn is None:
            raise ServiceError("AWS IoT", "InvalidRequestException", 400, _NO_ROLE)
        resource = self.arns.topic(topic)
        try:
            await self.iam.check_role(role_arn, IOT, rule_name, "iot:Publish", resource)
        except AccessDenied as exc:
            raise ServiceError("AWS IoT", "AccessDeniedException", 403, str(exc)) from None
        except RoleNotAssumable as exc:
            raise ServiceError("AWS STS", "AccessDenied", 403, str(exc)) from None
        await self.publish(topic, payload, qos)

    async def invoke_lambda(self, function_arn: str, event: Any, rule_name: str) -> None:
        caller = Caller(
            principal=IOT,
            source_arn=f"arn:aws:iot:{self.arns.region}:{self.arns.account_id}:rule/{rule_name}",
            source_account=self.arns.account_id,
        )
        try:
            self.iam.check_invoke(function_arn, "lambda:InvokeFunction", caller)
        except AccessDenied as exc:
            raise ServiceError("AWS Lambda", "AccessDeniedException", 403, str(exc)) from None
        await self.invoke(function_arn, event)

    async def authorize(
        self, role_arn: str | None, rule_name: str, action: str, resource: str, service: str
    ) -> None:
        if role_arn is None:
            raise ServiceError("AWS IoT", "InvalidRequestException", 400, _NO_ROLE)
        if not resource.startswith("arn:"):
            prefix = action.partition(":")[0]
            resource = f"arn:aws:{prefix}:{self.arns.region}:{self.arns.account_id}:{resource}"
        try:
            await self.iam.check_role(role_arn, IOT, rule_name, action, resource)
        except AccessDenied as exc:  # as the IAM gate answers a JSON service: 400
            raise ServiceError(service, "AccessDeniedException", 400, str(exc)) from None
        except RoleNotAssumable as exc:
            raise ServiceError("AWS STS", "AccessDenied", 403, str(exc)) from None

    def own_client(self, service: str) -> Any:
        return self.iam.own_client(service)

    def aws_client(self, service: str, role_arn: str | None, rule_name: str) -> Any:
        if role_arn is None:
            raise ServiceError("AWS IoT", "InvalidRequestException", 400, _NO_ROLE)
        try:
            self.iam.issuer.issue(role_arn, IOT, rule_name)  # fails now if it cannot be assumed
        except RoleNotAssumable as exc:
            raise ServiceError("AWS STS", "AccessDenied", 403, str(exc)) from None
        return self.iam.client_factory(role_arn, IOT, rule_name)(service)
