"""Temporary credentials of a role, obtained as the AWS service that uses the role.

Lambda assumes a function's execution role and hands the function its credentials in
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``; IoT
assumes a rule action's ``roleArn``. Both can do so only if the role's trust policy
allows their service principal. AWS: "Lambda execution role",
https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html and
"Defined runtime environment variables",
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html

Here the emulator asks moto's STS (AssumeRole), so the IAM gate in front of moto
knows the credentials and evaluates every call made with them.
"""

from __future__ import annotations

import fnmatch
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialProvider, CredentialResolver, RefreshableCredentials
from botocore.exceptions import ClientError

from emulator.aws.iam.policies import role_name

LAMBDA = "lambda.amazonaws.com"
IOT = "iot.amazonaws.com"
DURATION = 3600  # seconds, AssumeRole's default
_SESSION_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@-_")


class RoleNotAssumable(Exception):
    """The role does not exist, or its trust policy does not let the service assume it."""


@dataclass(frozen=True)
class RoleCredentials:
    """One AssumeRole answer."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: float  # epoch seconds
    role_arn: str
    principal_arn: str  # arn:aws:sts::<account>:assumed-role/<role>/<session>

    def env(self) -> dict[str, str]:
        """The variables Lambda sets for the function's code."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }

    def remaining(self, now: float | None = None) -> float:
        """Seconds before they expire."""
        return self.expiration - (time.time() if now is None else now)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def trusts(trust_policy: Mapping[str, Any], service: str) -> bool:
    """Whether a trust policy lets ``service`` call sts:AssumeRole (Deny wins).

    Conditions in the trust policy are not evaluated.
    """
    allowed = False
    for statement in _as_list(trust_policy.get("Statement", [])):
        if not isinstance(statement, Mapping):
            continue
        actions = [str(a).lower() for a in _as_list(statement.get("Action", []))]
        if not any(fnmatch.fnmatchcase("sts:assumerole", a) for a in actions):
            continue
        principal = statement.get("Principal", {})
        services = _as_list(principal.get("Service", [])) if isinstance(principal, Mapping) else []
        if principal != "*" and service not in services:
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def session_name(text: str) -> str:
    """A valid RoleSessionName (2 to 64 of ``[\\w+=,.@-]``) made from ``text``."""
    cleaned = "".join(c if c in _SESSION_NAME_CHARS else "-" for c in text)[:64]
    return cleaned if len(cleaned) >= 2 else f"{cleaned}--"[:2]


class CredentialIssuer:
    """Assumes roles in moto for a service principal; reuses credentials until near expiry.

    ``client`` makes boto3 clients for moto with the emulator's own (unevaluated)
    credentials. Every key issued is remembered, so that the emulator's own endpoints
    (the IoT data plane) can tell which role signed a request.
    """

    def __init__(self, client: Callable[[str], Any], duration: int = DURATION) -> None:
        self._client = client
        self._duration = duration
        self._cache: dict[tuple[str, str, str], RoleCredentials] = {}
        self._issued: dict[str, RoleCredentials] = {}
        self._lock = threading.Lock()
        self._loader = botocore.session.get_session().get_component("data_loader")

    def check(self, role_arn: str, service: str) -> None:
        """Raise RoleNotAssumable unless ``service`` may assume the role."""
        try:
            role = self._client("iam").get_role(RoleName=role_name(role_arn))["Role"]
        except ClientError as exc:
            raise RoleNotAssumable(f"role {role_arn} cannot be read: {exc}") from None
        if not trusts(role.get("AssumeRolePolicyDocument") or {}, service):
            raise RoleNotAssumable(
                f"role {role_arn} cannot be assumed by {service}: its trust policy "
                f"does not allow {service} to call sts:AssumeRole"
            )

    def cached(
        self, role_arn: str, service: str, name: str, min_remaining: float = 0.0
    ) -> RoleCredentials | None:
        """The credentials already issued, if they have ``min_remaining`` seconds left."""
        with self._lock:
            found = self._cache.get((role_arn, service, name))
        return found if found is not None and found.remaining() > min_remaining else None

    def issue(
        self, role_arn: str, service: str, name: str, min_remaining: float = 0.0
    ) -> RoleCredentials:
        """Credentials with at least ``min_remaining`` seconds left (blocking)."""
        cached = self.cached(role_arn, service, name, min_remaining)
        if cached is not None:
            return cached
        self.check(role_arn, service)
        answer = self._client("sts").assume_role(
            RoleArn=role_arn, RoleSessionName=session_name(name), DurationSeconds=self._duration
        )
        got = answer["Credentials"]
        issued = RoleCredentials(
            access_key_id=got["AccessKeyId"],
            secret_access_key=got["SecretAccessKey"],
            session_token=got["SessionToken"],
            expiration=got["Expiration"].timestamp(),
            role_arn=role_arn,
            principal_arn=answer["AssumedRoleUser"]["Arn"],
        )
        with self._lock:
            self._cache[(role_arn, service, name)] = issued
            self._issued[issued.access_key_id] = issued
        return issued

    def lookup(self, access_key_id: str) -> RoleCredentials | None:
        """The credentials behind an access key this issuer handed out, if any."""
        with self._lock:
            return self._issued.get(access_key_id)

    def session(
        self, role_arn: str, service: str, name: str, region: str, refresh_before: float = 900.0
    ) -> boto3.session.Session:
        """A boto3 session whose credentials renew ``refresh_before`` seconds before expiry."""

        def metadata() -> dict[str, str]:
            got = self.issue(role_arn, service, name, min_remaining=refresh_before + 60)
            expiry = datetime.fromtimestamp(got.expiration, UTC)
            return {
                "access_key": got.access_key_id,
                "secret_key": got.secret_access_key,
                "token": got.session_token,
                "expiry_time": expiry.isoformat(),
            }

        core = botocore.session.Session()
        # One loader for every role's session: the service models are parsed once.
        core.register_component("data_loader", self._loader)
        provider = _RoleProvider(metadata, refresh_before)
        core.register_component("credential_provider", CredentialResolver([provider]))
        return boto3.session.Session(botocore_session=core, region_name=region)


class _RoleProvider(CredentialProvider):
    """botocore's extension point for a credential source: ours is the issuer."""

    METHOD = "emulator-assume-role"
    CANONICAL_NAME = "custom-emulator-assume-role"

    def __init__(self, metadata: Callable[[], dict[str, str]], refresh_before: float) -> None:
        super().__init__()
        self._metadata = metadata
        self._refresh_before = refresh_before

    def load(self) -> RefreshableCredentials:
        return RefreshableCredentials.create_from_metadata(
            metadata=self._metadata(),
            refresh_using=self._metadata,
            method=self.METHOD,
            advisory_timeout=self._refresh_before,
            mandatory_timeout=self._refresh_before / 2,
        )


class RoleClients:
    """boto3 clients that act as a role (for rule actions and event source mappings)."""

    def __init__(
        self,
        issuer: CredentialIssuer,
        endpoint_url: str,
        region: str,
        config: Config | None = None,
    ) -> None:
        self._issuer = issuer
        self._endpoint_url = endpoint_url
        self._region = region
        self._config = config or Config(retries={"max_attempts": 2, "mode": "standard"})
        self._sessions: dict[tuple[str, str, str], boto3.session.Session] = {}
        self._clients: dict[tuple[str, str, str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, aws_service: str, role_arn: str, service: str, name: str) -> Any:
        """A client for ``aws_service`` signed with the role's credentials, made once."""
        key = (aws_service, role_arn, service, name)
        with self._lock:
            found = self._clients.get(key)
            if found is None:
                session_key = (role_arn, service, name)
                session = self._sessions.get(session_key)
                if session is None:
                    session = self._issuer.session(role_arn, service, name, self._region)
                    self._sessions[session_key] = session
                found = session.client(
                    aws_service, endpoint_url=self._endpoint_url, config=self._config
                )
                self._clients[key] = found
            return found

    def factory(self, role_arn: str, service: str, name: str) -> Callable[[str], Any]:
        """``factory(role)("kinesis")``: the shape the event source mapping expects."""
        return lambda aws_service: self.client(aws_service, role_arn, service, name)
