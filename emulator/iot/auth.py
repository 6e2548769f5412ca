"""The custom authorizer: AWS's request event in, a validated AuthResult (or a refusal) out.

Event and answer as "Defining your Lambda function"
(https://docs.aws.amazon.com/iot/latest/developerguide/config-custom-auth.html);
where the authorizer name and token come from as "Connecting to AWS IoT Core by
using custom authentication" (https://docs.aws.amazon.com/iot/latest/developerguide/
custom-auth.html). The Lambda itself is injected (``invoke(event) -> answer``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from emulator.iot.policy import PolicyError, PolicySet
from emulator.mqtt import ConnectRequest

log = logging.getLogger(__name__)

AuthorizerInvoke = Callable[[dict[str, Any]], Awaitable[Any]]
AUTHORIZER_NAME_KEY = "x-amz-customauthorizer-name"
_PRINCIPAL = re.compile(r"[A-Za-z0-9]{1,128}")
MAX_POLICY_DOCUMENTS = 10
MAX_POLICY_CHARS = 2048  # per document, white space excluded
DEFAULT_SESSION_S = 86_400


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


def connect_params(request: ConnectRequest) -> dict[str, str]:
    """The WebSocket upgrade's query parameters, then those in the query part of the MQTT
    user name (``name?x-amz-customauthorizer-name=...&token=...``)."""
    peer = request.peer
    params = _query_params(peer.http_query) if peer.http_query else {}
    username = request.username
    if username is not None and "?" in username:
        for key, value in _query_params(username.split("?", 1)[1]).items():
            params.setdefault(key, value)
    return params


class CustomAuthorizer:
    """One AWS::IoT::Authorizer with signing disabled.

    The token (under ``token_key_name``) is looked for in the WebSocket upgrade's query
    string and headers, then in the query part of the MQTT user name. The MQTT password
    reaches the Lambda only base64-encoded in protocolData.mqtt.password, as on AWS.
    """

    def __init__(
        self,
        name: str,
        invoke: AuthorizerInvoke,
        *,
        timeout_s: float = 5.0,
        token_key_name: str = "token",  # noqa: S107 (a query parameter name)
        min_ttl_s: int = 300,
        max_ttl_s: int = 86_400,
    ) -> None:
        self.name = name
        self._invoke = invoke
        self.timeout_s = timeout_s
        self.token_key_name = token_key_name
        self.min_ttl_s = min_ttl_s
        self.max_ttl_s = max_ttl_s

    def build_event(self, request: ConnectRequest) -> dict[str, Any]:
        """AWS's event for this CONNECT (the authorizer was chosen by `Authorizers`)."""
        peer = request.peer
        headers = dict(peer.http_headers)
        lowered = {k.lower(): v for k, v in headers.items()}
        params = connect_params(request)
        username = request.username
        mqtt: dict[str, Any] = {}
        if username is not None:
            mqtt["username"] = username
        if request.password is not None:
            mqtt["password"] = base64.b64encode(request.password).decode("ascii")
        if not request.client_id_assigned:
            mqtt["clientId"] = request.client_id
        protocol_data: dict[str, Any] = {}
        protocols = ["mqtt"]
        if peer.transport == "ws":
            protocols = ["http", "mqtt"]
            http: dict[str, Any] = {"headers": headers}
            if peer.http_query is not None:
                http["queryString"] = f"?{peer.http_query}"
            protocol_data["http"] = http
        protocol_data["mqtt"] = mqtt
        event: dict[str, Any] = {}
        token = params.get(self.token_key_name) or lowered.get(self.token_key_name.lower())
        if token is not None:
            event["token"] = token
        event["signatureVerified"] = False
        event["protocols"] = protocols
        event["protocolData"] = protocol_data
        event["connectionMetadata"] = {"id": str(uuid.uuid4())}
        return event

    async def authorize(self, event: dict[str, Any]) -> AuthResult:
        """Invoke the authorizer; any failure, timeout or malformed answer is AuthRefused."""
        try:
            response = await asyncio.wait_for(self._invoke(event), self.timeout_s)
        except TimeoutError as exc:
            raise AuthRefused(f"authorizer timed out after {self.timeout_s}s") from exc
        except Exception as exc:
            raise AuthRefused(f"authorizer failed: {exc!r}") from exc
        return parse_response(response, self.min_ttl_s, self.max_ttl_s)


class Authorizers:
    """Every custom authorizer of the account, and the domain's default one.

    A client names its authorizer in ``x-amz-customauthorizer-name`` (query string,
    header, or the MQTT user name's query). Without a name, the domain configuration's
    ``DefaultAuthorizerName`` is used; with ``AllowAuthorizerOverride`` false, the
    default is used whatever the client names ("AuthorizerConfig",
    https://docs.aws.amazon.com/iot/latest/apireference/API_AuthorizerConfig.html, and
    "Connecting to AWS IoT Core by using custom authentication",
    https://docs.aws.amazon.com/iot/latest/developerguide/custom-auth.html).
    """

    def __init__(
        self,
        authorizers: list[CustomAuthorizer],
        default: str | None = None,
        allow_override: bool = True,
    ) -> None:
        self.by_name = {a.name: a for a in authorizers}
        if default is not None and default not in self.by_name:
            raise ValueError(f"default authorizer {default!r} is not one of {sorted(self.by_name)}")
        self.default = default
        self.allow_override = allow_override

    def select(self, request: ConnectRequest) -> CustomAuthorizer:
        """The authorizer for this CONNECT; AuthRefused when none applies."""
        lowered = {k.lower(): v for k, v in dict(request.peer.http_headers).items()}
        name = connect_params(request).get(AUTHORIZER_NAME_KEY) or lowered.get(AUTHORIZER_NAME_KEY)
        if self.default is not None and (name is None or not self.allow_override):
            return self.by_name[self.default]
        if name is None:
            raise AuthRefused("no authorizer name given and no default authorizer")
        authorizer = self.by_name.get(name)
        if authorizer is None:
            raise AuthRefused(f"unknown authorizer {name!r}")
        return authorizer


def _seconds(response: Mapping[str, Any], key: str, low: int, high: int) -> int | None:
    value = response.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise AuthRefused(f"{key} must be an integer from {low} to {high}")
    return value


def _policy_chars(document: Any) -> int:
    text = document if isinstance(document, str) else json.dumps(document)
    return sum(1 for c in text if not c.isspace())


def parse_response(response: Any, min_ttl_s: int = 300, max_ttl_s: int = 86_400) -> AuthResult:
    """Validate an authorizer answer before trusting it, as IoT Core does."""
    if not isinstance(response, dict):
        raise AuthRefused("authorizer response is not an object")
    authenticated = response.get("isAuthenticated")
    if authenticated is not True:
        if authenticated is False:
            raise AuthRefused("authorizer answered isAuthenticated=false")
        raise AuthRefused("isAuthenticated missing or not a boolean")
    principal = response.get("principalId")
    if not isinstance(principal, str) or not _PRINCIPAL.fullmatch(principal):
        raise AuthRefused("principalId must be 1-128 alphanumeric characters")
    documents = response.get("policyDocuments")
    if (
        not isinstance(documents, list)
        or not documents
        or len(documents) > MAX_POLICY_DOCUMENTS
        or not all(isinstance(d, (str, dict)) for d in documents)
    ):
        raise AuthRefused("policyDocuments must be a list of 1-10 policy documents")
    if any(_policy_chars(d) > MAX_POLICY_CHARS for d in documents):
        raise AuthRefused(f"a policy document is longer than {MAX_POLICY_CHARS} characters")
    try:
        policies = PolicySet.from_documents(documents)
    except PolicyError as exc:
        raise AuthRefused(f"bad policy document: {exc}") from exc
    disconnect_after = _seconds(response, "disconnectAfterInSeconds", min_ttl_s, max_ttl_s)
    refresh_after = _seconds(response, "refreshAfterInSeconds", min_ttl_s, max_ttl_s)
    return AuthResult(
        principal,
        policies,
        DEFAULT_SESSION_S if disconnect_after is None else disconnect_after,
        refresh_after,
    )
