"""The side-effect boundary of rule actions: what the emulator gives the rules engine.

The engine never imports the broker, the Lambda runtime or moto; the app passes an
ActionTarget. ``CallbackTarget`` + ``BotoClients`` build one from two coroutines and
the moto endpoint. Actions pass their ``roleArn`` and the rule's name along: a target
that enforces IAM acts as that role (AWS IoT assumes an action's role for each call);
one that does not ignores them.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import boto3
from botocore.config import Config


class ServiceError(Exception):
    """A call the target refused the way the AWS service would (e.g. AccessDeniedException)."""

    def __init__(self, service: str, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.service = service  # "AWS IoT", "AWS Lambda"
        self.code = code
        self.status = status
        self.message = message


@runtime_checkable
class ActionTarget(Protocol):
    """Where actions send their results."""

    async def republish(
        self, topic: str, payload: bytes, qos: int, role_arn: str | None, rule_name: str
    ) -> None:
        """Publish through the broker as the role (subscribers' receive policies still apply)."""

    async def invoke_lambda(self, function_arn: str, event: Any, rule_name: str) -> None:
        """Start an asynchronous (Event) invocation on behalf of the rule.

        Return once the invocation is accepted; raise if it cannot be (no such
        function, no permission, throttled), so the rule's error action runs. The
        function's own outcome is not the rule's concern, as with AWS's async invoke.
        """

    def aws_client(self, service: str, role_arn: str | None, rule_name: str) -> Any:
        """A boto3 client for ``dynamodb``, ``kinesis``, ``sqs`` or ``logs``, as the role.

        Its calls block; the engine only calls them from its thread pool.
        """

    async def authorize(
        self, role_arn: str | None, rule_name: str, action: str, resource: str, service: str
    ) -> None:
        """Raise ServiceError unless the role may perform ``action`` on ``resource``.

        ``action`` is IAM's (``dynamodb:PutItem``); ``resource`` an ARN, or the part of
        it after the account (``table/Messages``). ``service`` names the service in the
        error (``Amazon DynamoDB``). The decision is the one IAM makes for a call signed
        with the role's credentials; a call it allows is then made with ``own_client``.
        """

    def own_client(self, service: str) -> Any:
        """A boto3 client with the emulator's own credentials, for calls ``authorize`` allowed.

        Its calls block; the engine only calls them from its thread pool.
        """


class BotoClients:
    """boto3 clients against one endpoint (moto), created once per service."""

    def __init__(
        self,
        endpoint_url: str,
        region: str = "us-east-1",
        access_key: str = "testing",
        secret_key: str = "testing",  # noqa: S107 - moto accepts any credentials
    ) -> None:
        self._session = boto3.session.Session(
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region
        )
        self._endpoint_url = endpoint_url
        self._config = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5)
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __call__(self, service: str) -> Any:
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                client = self._session.client(
                    service, endpoint_url=self._endpoint_url, config=self._config
                )
                self._clients[service] = client
            return client


@dataclass
class CallbackTarget:
    """An ActionTarget assembled from the app's pieces, with no IAM (roles are ignored)."""

    publish: Callable[[str, bytes, int], Awaitable[None]]
    invoke: Callable[[str, Any], Awaitable[None]]
    clients: Callable[[str], Any]

    async def republish(
        self, topic: str, payload: bytes, qos: int, role_arn: str | None, rule_name: str
    ) -> None:
        await self.publish(topic, payload, qos)

    async def invoke_lambda(self, function_arn: str, event: Any, rule_name: str) -> None:
        await self.invoke(function_arn, event)

    def aws_client(self, service: str, role_arn: str | None, rule_name: str) -> Any:
        return self.clients(service)

    async def authorize(
        self, role_arn: str | None, rule_name: str, action: str, resource: str, service: str
    ) -> None:
        return None  # no IAM: every role may do everything

    def own_client(self, service: str) -> Any:
        return self.clients(service)
