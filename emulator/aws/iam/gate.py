"""IAM in front of moto: requests signed with role credentials are evaluated first.

moto 5.2.5 can check IAM itself, but it evaluates every action against the resource
``*``, so a statement scoped to a table or a stream never matches and every
least-privilege role is denied everything; and its denial is an XML ``AccessDenied``
that the JSON services' clients cannot parse. So moto's own authentication stays off,
and this WSGI middleware, running in moto's process, does what AWS does before a
request reaches a service:

- credentials moto's STS issued (``AssumeRole``, seen passing through here) are
  authenticated: the session token must match, the signature must verify, and they
  must not have expired;
- the request's action and resources (emulator.aws.iam.operations) are evaluated
  against the role's policies, read from moto's IAM (emulator.aws.iam.policies);
- a refusal is answered in the service's own error shape (``AccessDeniedException``
  for the JSON services, ``AccessDenied`` for the query ones, for the JSON ones that keep
  query codes (SQS, CloudWatch) and in S3's XML ``Error`` document), with IAM's message.

Requests signed with any other key (the emulator's own provisioning, tests, your
tools) are passed to moto unevaluated, as if made by the account's administrator.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import botocore.session
from botocore.parsers import create_parser

from emulator.aws.iam.changes import VERSION_PATH, IamChanges
from emulator.aws.iam.operations import ApiRequest, ContinuationTokens, checks
from emulator.aws.iam.policies import RolePolicies, denial_message, evaluate
from emulator.aws.iam.sigv4 import SigV4Header, signature_matches
from emulator.iot.policy import Decision

log = logging.getLogger("emulator.iam")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_QUERY_CODES = {  # JSON protocol code -> query protocol code
    "AccessDeniedException": "AccessDenied",
    "UnrecognizedClientException": "InvalidClientTokenId",
    "InvalidSignatureException": "SignatureDoesNotMatch",
    "ExpiredTokenException": "ExpiredToken",
}
_MESSAGES = {  # what AWS says when authentication fails
    "UnrecognizedClientException": "The security token included in the request is invalid.",
    "InvalidSignatureException": (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method."
    ),
    "ExpiredTokenException": "The security token included in the request is expired",
}


@dataclass(frozen=True)
class Session:
    """Temporary credentials moto's STS issued for a role."""

    secret_access_key: str
    session_token: str
    expiration: float  # epoch seconds
    role_arn: str
    principal_arn: str  # arn:aws:sts::<account>:assumed-role/<role>/<session>


def _header_name(key: str) -> str | None:
    if key.startswith("HTTP_"):
        return key[5:].replace("_", "-").lower()
    if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        return key.replace("_", "-").lower()
    return None


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    found = {}
    for key, value in environ.items():
        name = _header_name(key)
        if name is not None:
            found[name] = value
    return found


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the body and put it back, so that moto reads it as if untouched."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _raw_path(environ: dict[str, Any]) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return str(raw)
    query = environ.get("QUERY_STRING")
    return environ.get("PATH_INFO", "/") + (f"?{query}" if query else "")


class IamGate:
    """WSGI middleware around moto's application."""

    def __init__(
        self,
        app: WsgiApp,
        policies: RolePolicies,
        account_id: str,
        clock: Callable[[], float] = time.time,
        changes: IamChanges | None = None,
    ) -> None:
        self._app = app
        self._policies = policies
        self.changes = changes or IamChanges()
        self._account_id = account_id
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._tokens = ContinuationTokens()
        sts = botocore.session.get_session().get_service_model("sts")
        self._assume_role_output = sts.operation_model("AssumeRole").output_shape

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        header = SigV4Header.parse(environ.get("HTTP_AUTHORIZATION", ""))
        if header is None:
            if environ.get("PATH_INFO") == VERSION_PATH:
                start_response("200 OK", [("Content-Type", "application/json")])
                return [self.changes.answer()]
            return self._app(environ, start_response)
        if header.service == "iam" and IamChanges.is_write(
            environ.get("QUERY_STRING", ""), _read_body(environ)
        ):
            try:
                return self._gated(header, environ, start_response)
            finally:  # after moto made the write: a reader that saw the old count reads again
                self.changes.written()
        return self._gated(header, environ, start_response)

    def _gated(
        self, header: SigV4Header, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        with self._lock:
            session = self._sessions.get(header.access_key_id)
        if session is None and header.service != "sts":
            return self._app(environ, start_response)  # not a role: the administrator
        body = _read_body(environ)
        headers = _headers(environ)
        request = ApiRequest.parse(
            header.service,
            header.region,
            self._account_id,
            target=environ.get("HTTP_X_AMZ_TARGET"),
            path=_raw_path(environ),
            body=body,
            method=environ.get("REQUEST_METHOD", "GET"),
            headers=headers,
        )
        resources: tuple[str, ...] = ()
        if session is not None:
            refusal = self._authenticate(session, header, environ, headers, body)
            if refusal is None:
                found = checks(request, self._tokens)
                refusal = self._authorize(session, found)
                resources = tuple(resource for _, resource in found)
            if refusal is not None:
                code, message = refusal
                return _error(request, code, message, start_response)
        if request.service == "sts" and request.operation == "AssumeRole":
            return self._relay(environ, start_response, self._remember_session, request)
        if session is not None and request.json_protocol:
            observe = self._token_recorder(resources)
            return self._relay(environ, start_response, observe, request)
        return self._app(environ, start_response)

    def _authenticate(
        self,
        session: Session,
        header: SigV4Header,
        environ: dict[str, Any],
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[str, str] | None:
        if headers.get("x-amz-security-token") != session.session_token:
            return _refusal("UnrecognizedClientException")
        if not signature_matches(
            header,
            session.secret_access_key,
            session.session_token,
            method=environ.get("REQUEST_METHOD", "GET"),
            path=_raw_path(environ),
            headers=headers,
            body=body,
        ):
            return _refusal("InvalidSignatureException")
        if self._clock() >= session.expiration:
            return _refusal("ExpiredTokenException")
        return None

    def _authorize(self, session: Session, found: list[tuple[str, str]]) -> tuple[str, str] | None:
        policies = self._policies.get(session.role_arn)
        for action, resource in found:
            decision = evaluate(policies, action, resource)
            if decision is not Decision.ALLOW:
                message = denial_message(session.principal_arn, action, resource, decision)
                log.info("IAM denied: %s", message)
                return "AccessDeniedException", message
            log.debug("IAM allowed %s %s on %s", session.role_arn, action, resource)
        return None

    def _relay(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        observe: Callable[[ApiRequest, bytes], None],
        request: ApiRequest,
    ) -> Iterable[bytes]:
        """Run moto, show the successful response body to ``observe``, pass it on."""
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured.update(status=status, headers=headers)
            return start_response(status, headers, exc_info)

        result = self._app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if str(captured.get("status", "")).startswith("200"):
            try:
                observe(request, body)
            except Exception:
                log.exception("could not read moto's %s response", request.operation)
        return [body]

    def _token_recorder(self, resources: tuple[str, ...]) -> Callable[[ApiRequest, bytes], None]:
        """Remember the resources behind the iterators and page tokens a response hands out."""

        def observe(request: ApiRequest, body: bytes) -> None:
            if b"ShardIterator" in body or b"NextToken" in body:
                self._tokens.remember(json.loads(body), resources)

        return observe

    def _remember_session(self, request: ApiRequest, body: bytes) -> None:
        parser = create_parser("query")
        parsed = parser.parse(
            {"body": body, "headers": {}, "status_code": 200}, self._assume_role_output
        )
        credentials = parsed["Credentials"]
        session = Session(
            secret_access_key=credentials["SecretAccessKey"],
            session_token=credentials["SessionToken"],
            expiration=credentials["Expiration"].timestamp(),
            role_arn=str(request.params.get("RoleArn", "")),
            principal_arn=parsed["AssumedRoleUser"]["Arn"],
        )
        with self._lock:
            self._sessions[credentials["AccessKeyId"]] = session


def _refusal(code: str) -> tuple[str, str]:
    return code, _MESSAGES[code]


def _error(
    request: ApiRequest, code: str, message: str, start_response: StartResponse
) -> list[bytes]:
    """The refusal in the protocol the client speaks (JSON or query XML)."""
    request_id = str(uuid.uuid4())
    if request.service == "s3":  # S3's REST error document ("Error responses", S3 API)
        status = "403 Forbidden"
        body = (
            f"<Error><Code>{_QUERY_CODES.get(code, code)}</Code>"
            f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
    elif request.json_protocol:
        # SQS's and CloudWatch's JSON protocols keep their query error codes and statuses
        # for clients that ask for them (x-amzn-query-mode).
        query_codes = request.service == "sqs" or request.query_compatible
        status = "403 Forbidden" if query_codes else "400 Bad Request"
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-RequestId", request_id),
        ]
        if query_codes:
            headers.append(("x-amzn-query-error", f"{_QUERY_CODES.get(code, code)};Sender"))
    else:
        status = "403 Forbidden"
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{_QUERY_CODES.get(code, code)}</Code><Message>{escape(message)}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    headers.append(("Content-Length", str(len(body))))
    start_response(status, headers)
    return [body]
