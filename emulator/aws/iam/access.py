"""IAM as the emulator applies it to the services it serves itself, and the roles it hands out.

moto's process evaluates what reaches moto (emulator.aws.iam.gate). The emulator
serves IoT Core and Lambda itself, so it evaluates here, with the same policies and
the same engine: ``iot:Publish`` by a rule's republish role or by a function through
the data plane, and ``lambda:InvokeFunction`` / ``lambda:InvokeFunctionUrl`` against
the functions' resource-based policies. It also issues every role's credentials.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from emulator.aws.iam.changes import remote_version
from emulator.aws.iam.credentials import CredentialIssuer, RoleClients, RoleCredentials
from emulator.aws.iam.lambda_permissions import Caller, LambdaPermissions
from emulator.aws.iam.lambda_permissions import denial_message as resource_denial
from emulator.aws.iam.policies import RolePolicies, denial_message, evaluate
from emulator.aws.services import AwsServices
from emulator.iot.policy import Decision
from emulator.rules.target import BotoClients
from emulator.template import Template

log = logging.getLogger("emulator.iam")


class AccessDenied(Exception):
    """A request IAM refused; ``str()`` is AWS's message."""


class EmulatorIam:
    """Credentials for the template's roles, and decisions on what the emulator serves."""

    def __init__(self, aws: AwsServices, template: Template) -> None:
        self.issuer = CredentialIssuer(aws.client)
        self.policies = RolePolicies(
            lambda: aws.client("iam"), iam_version=lambda: remote_version(aws.endpoint_url)
        )
        self.permissions = LambdaPermissions.from_template(template)
        self.clients = RoleClients(self.issuer, aws.endpoint_url, aws.region)
        # The emulator's own credentials (not evaluated), for calls it has authorized.
        self.own_client = BotoClients(aws.endpoint_url, aws.region)

    async def credentials(
        self, role_arn: str, service: str, name: str, min_remaining: float
    ) -> RoleCredentials:
        """Credentials of a role as ``service`` obtains them (RoleNotAssumable if it cannot)."""
        found = self.issuer.cached(role_arn, service, name, min_remaining)
        if found is not None:  # the common case: no thread, no call to STS
            return found
        return await asyncio.to_thread(self.issuer.issue, role_arn, service, name, min_remaining)

    async def check_identity(
        self, role_arn: str, principal_arn: str, action: str, resource: str
    ) -> None:
        """Raise AccessDenied unless the role's policies allow ``action`` on ``resource``."""
        policies = self.policies.cached(role_arn)
        if policies is None:
            policies = await asyncio.to_thread(self.policies.get, role_arn)
        decision = evaluate(policies, action, resource)
        if decision is not Decision.ALLOW:
            message = denial_message(principal_arn, action, resource, decision)
            log.info("IAM denied: %s", message)
            raise AccessDenied(message)
        log.debug("IAM allowed %s %s on %s", role_arn, action, resource)

    async def check_role(
        self, role_arn: str, service: str, name: str, action: str, resource: str
    ) -> None:
        """As ``check_identity``, for the session ``service`` opens with the role."""
        credentials = await self.credentials(role_arn, service, name, 0.0)
        await self.check_identity(role_arn, credentials.principal_arn, action, resource)

    def check_invoke(self, function_arn: str, action: str, caller: Caller) -> None:
        """Raise AccessDenied unless the function's resource-based policy allows the call."""
        if self.permissions.decide(function_arn, action, caller) is not Decision.ALLOW:
            message = resource_denial(caller, action, function_arn)
            log.info("IAM denied: %s", message)
            raise AccessDenied(message)

    def client_factory(self, role_arn: str, service: str, name: str) -> Any:
        """``factory(aws_service)`` giving clients that act as the role."""
        return self.clients.factory(role_arn, service, name)


def report(enforced: bool, roles: int) -> str:
    """The startup report's IAM lines: what is evaluated, and what is not."""
    if not enforced:
        return (
            "IAM: not enforced (--no-iam): functions and rule actions may call anything, "
            "resource-based policies are not checked"
        )
    return "\n".join(
        [
            f"IAM: enforced ({roles} roles; --no-iam turns it off)",
            "  evaluated: every call to DynamoDB, Kinesis, Secrets Manager, SQS, SNS, Firehose, "
            "Step Functions, CloudWatch Logs, CloudWatch, S3, STS and IAM made with a "
            "function's or rule action's role credentials;",
            "             iot:Publish by functions (data plane) and republish actions; "
            "dynamodb:PutItem by dynamoDBv2 actions (each item); "
            "lambda:InvokeFunction by rules and custom authorizers; function URLs "
            "(AuthType NONE; AWS_IAM: lambda:InvokeFunctionUrl of the signing role)",
            "  not evaluated: policy conditions (an Allow with a Condition grants nothing), "
            "permissions boundaries, SigV4 signatures of function URL and data plane "
            "requests, function logs (printed here, not sent to CloudWatch Logs)",
        ]
    )
