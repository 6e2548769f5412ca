"""The custom authorizer: AWS's event in, a validated AuthResult (or a refusal) out.

The Lambda itself is injected (`invoke(event) -> dict`), so the broker does not
know whether it runs in-process, in a worker or is a test double.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from emulator.iot.framing import ConnectInfo
from emulator.iot.policy import PolicyError, PolicySet
from emulator.iot.transport import TransportInfo

log = logging.getLogger(__name__)

AuthorizerInvoke = Callable[[dict[str, Any]], Awaitable[Any]]
AUTHORIZER_NAME_KEY = "x-amz-customauthorizer-name"
_PRINCIPAL = re.compile(r"^[A-Za-z0-9]{1,128}$")
MAX_POLICY_DOCUMENTS = 10
MAX_SESSION_S = 86_400


class AuthRefused(Exception):
    """The connection is not authenticated; the message says why (for logs only)."""


@dataclass(frozen=True, slots=True)
class AuthResult:
    """A valid authorizer answer."""

    principal_id: str
    policies: PolicySet
    disconnect_after_s: int
    refresh_after_s: int | None


def _query_params(query: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}


class CustomAuthorizer:
    """One AWS::IoT::Authorizer (signing disabled), reached by name like on AWS.

    WebSockets: name and token come from the upgrade request's query string (or the
    x-amz-customauthorizer-name header). MQTT over TCP: from the query part of the
    username (`user?x-amz-customauthorizer-name=NAME&token=...`); the password is
    passed base64-encoded as AWS does and, when password_as_token, also as `token`.
    """

    def __init__(
        self,
        name: str,
        invoke: AuthorizerInvoke,
        *,
        timeout_s: float = 5.0,
        token_key_name: str = "token",  # noqa: S107 (a query parameter name)
        password_as_token: bool = True,
        is_default: bool = False,
    ) -> None:
        self.name = name
        self._invoke = invoke
        self.timeout_s = timeout_s
        self.token_key_name = token_key_name
        self.password_as_token = password_as_token
        self.is_default = is_default

    def build_event(self, transport: TransportInfo, connect: ConnectInfo) -> dict[str, Any]:
        """AWS's custom authorizer event for this CONNECT; raises AuthRefused on a wrong name."""
        params = _query_params(transport.http_query) if transport.protocol == "ws" else {}
        username = connect.username or ""
        if transport.protocol == "tcp" and "?" in username:
            params = _query_params(username.split("?", 1)[1])
        name = params.get(AUTHORIZER_NAME_KEY) or transport.http_headers.get(AUTHORIZER_NAME_KEY)
        if name is None and not self.is_default:
            raise AuthRefused("no authorizer name given and no default authorizer")
        if name is not None and name != self.name:
            raise AuthRefused(f"unknown authorizer {name!r}")
        mqtt: dict[str, Any] = {"clientId": connect.client_id}
        if connect.username is not None:
            mqtt["username"] = connect.username
        if connect.password is not None:
            mqtt["password"] = base64.b64encode(connect.password).decode("ascii")
        event: dict[str, Any] = {
            "signatureVerified": False,
            "protocols": ["mqtt"],
            "protocolData": {"mqtt": mqtt},
            "connectionMetadata": {"id": str(uuid.uuid4())},
        }
        if transport.protocol == "ws":
            event["protocols"] = ["http", "mqtt"]
            event["protocolData"]["http"] = {
                "headers": dict(transport.http_headers),
                "queryString": f"?{transport.http_query}" if transport.http_query else "",
            }
        token = params.get(self.token_key_name)
        if token is None and self.password_as_token and connect.password:
            token = connect.password.decode("utf-8", errors="replace")
        if token is not None:
            event["token"] = token
        return event

    async def authorize(self, event: dict[str, Any]) -> AuthResult:
        """Invoke the authorizer; any failure, timeout or malformed answer is AuthRefused."""
        try:
            response = await asyncio.wait_for(self._invoke(event), self.timeout_s)
        except TimeoutError as exc:
            raise AuthRefused(f"authorizer timed out after {self.timeout_s}s") from exc
        except Exception as exc:
            raise AuthRefused(f"authorizer failed: {exc!r}") from exc
        return parse_response(response)


def _seconds(response: dict[str, Any], key: str) -> int | None:
    value = response.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_SESSION_S:
        raise AuthRefused(f"{key} must be an integer between 1 and {MAX_SESSION_S}")
    return value


def parse_response(response: Any) -> AuthResult:
    """Validate an authorizer answer the way IoT Core does before trusting it."""
    if not isinstance(response, dict):
        raise AuthRefused("authorizer response is not an object")
    if response.get("isAuthenticated") is not True:
        if response.get("isAuthenticated") is False:
            raise AuthRefused("authorizer answered isAuthenticated=false")
        raise AuthRefused("isAuthenticated missing or not a boolean")
    principal = response.get("principalId")
    if not isinstance(principal, str) or not _PRINCIPAL.match(principal):
        raise AuthRefused("principalId must be 1-128 alphanumeric characters")
    documents = response.get("policyDocuments")
    if (
        not isinstance(documents, list)
        or not documents
        or len(documents) > MAX_POLICY_DOCUMENTS
        or not all(isinstance(d, str) for d in documents)
    ):
        raise AuthRefused("policyDocuments must be a list of 1-10 JSON strings")
    try:
        policies = PolicySet.from_documents(documents)
    except PolicyError as exc:
        raise AuthRefused(f"bad policy document: {exc}") from exc
    disconnect_after = _seconds(response, "disconnectAfterInSeconds") or MAX_SESSION_S
    return AuthResult(
        principal, policies, disconnect_after, _seconds(response, "refreshAfterInSeconds")
    )
