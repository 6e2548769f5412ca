"""Guest token function (Lambda function URL, payload format 2.0): ``POST /api/token``.

Request body ``{"name": "Alice"}`` (possibly base64, see ``isBase64Encoded``), with
``"token": "<the guest token it has>"`` to keep its principal: a page renewing its token
or reloaded gets the same ``clientIdPrefix`` back for the guest session (24 hours from
its first token, chatlib.tokens.GUEST_SESSION_SECONDS); a token that is expired, forged
or past its session gets a new principal, as a first request does.
``200 {"token", "clientIdPrefix", "expiresAt"}``: ``clientIdPrefix`` is the principalId
the authorizer derives from the token (the client connects as
``<clientIdPrefix>-<anything>``), ``expiresAt`` the token's ``exp`` in epoch seconds.

Errors are ``{"error": {"code", "message"}}``: 405 ``method_not_allowed``, 413
``payload_too_large`` (body over 4 KB), 400 ``bad_json`` / ``invalid_name``, 429
``rate_limited`` (with ``Retry-After``: too many tokens for this source address this
minute, chatlib.ratelimit), 500 ``internal``.

CORS is not this function's business: the function URL's own ``Cors`` configuration
(stack/auth.py) answers the browser's preflight and adds the CORS headers to every
response, before and after the function runs.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from chatlib import metrics, ratelimit, tokens
from chatlib.log import logger
from chatlib.validation import ValidationError, validate_name

MAX_BODY_BYTES = 4096
TOO_LARGE = f"body must be at most {MAX_BODY_BYTES} bytes"
NOT_AN_OBJECT = 'body must be a JSON object like {"name": "Alice"}'


class HttpError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _response(
    status: int, body: dict[str, Any], extra: dict[str, str] | None = None
) -> dict[str, Any]:
    headers = {
        "Cache-Control": "no-store",
        "Content-Type": "application/json; charset=utf-8",
        **(extra or {}),
    }
    return {
        "statusCode": status,
        "headers": headers,
        "body": json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def _error(exc: HttpError, extra: dict[str, str] | None = None) -> dict[str, Any]:
    return _response(exc.status, {"error": {"code": exc.code, "message": exc.message}}, extra)


def _method(event: dict[str, Any]) -> str:
    http = (event.get("requestContext") or {}).get("http") or {}
    method = http.get("method") or event.get("httpMethod") or ""
    return str(method).upper()


def read_body(event: dict[str, Any]) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise HttpError(400, "bad_json", "request body must be JSON text")
    if event.get("isBase64Encoded"):
        # 4 KB of data is at most ~5.5 KB of base64: refuse before decoding anything big.
        if len(body) > (MAX_BODY_BYTES * 4) // 3 + 4:
            raise HttpError(413, "payload_too_large", TOO_LARGE)
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise HttpError(400, "bad_json", "body is not valid base64") from exc
    else:
        if len(body) > MAX_BODY_BYTES:  # cheap check first: characters <= bytes
            raise HttpError(413, "payload_too_large", TOO_LARGE)
        raw = body.encode("utf-8", errors="surrogatepass")
    if len(raw) > MAX_BODY_BYTES:
        raise HttpError(413, "payload_too_large", TOO_LARGE)
    return raw


def parse_request(raw: bytes) -> tuple[str, str | None]:
    """The name and the previous token (None when absent) of a token request."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HttpError(400, "bad_json", NOT_AN_OBJECT) from exc
    if not isinstance(data, dict):
        raise HttpError(400, "bad_json", NOT_AN_OBJECT)
    if "name" not in data:
        raise HttpError(400, "invalid_name", "name is required")
    previous = data.get("token")
    if previous is not None and not isinstance(previous, str):
        raise HttpError(400, "bad_json", "token must be the guest token string")
    try:
        return validate_name(data["name"], trim=True), previous
    except ValidationError as exc:
        raise HttpError(400, "invalid_name", str(exc)) from exc


def issue(event: dict[str, Any]) -> dict[str, Any]:
    if _method(event) != "POST":
        metrics.refused("method_not_allowed")
        return _error(HttpError(405, "method_not_allowed", "use POST"), {"Allow": "POST"})
    source = ((event.get("requestContext") or {}).get("http") or {}).get("sourceIp")
    decision = ratelimit.check(source)
    if not decision.allowed:
        wait = decision.retry_after
        message = f"too many token requests from this address; try again in {wait} s"
        metrics.refused("rate_limited")
        return _error(HttpError(429, "rate_limited", message), {"Retry-After": str(wait)})
    try:
        name, previous = parse_request(read_body(event))
    except HttpError as exc:
        logger.info("token request refused", extra={"status": exc.status, "code": exc.code})
        metrics.refused(exc.code)
        return _error(exc)
    issued = tokens.issue_guest_token(name, previous=previous)
    logger.info("guest token issued", extra={"principalId": issued.principal_id})
    metrics.count("TokensIssued")
    return _response(
        200,
        {
            "token": issued.token,
            "clientIdPrefix": issued.principal_id,
            "expiresAt": issued.expires_at,
        },
    )


@metrics.metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return issue(event if isinstance(event, dict) else {})
    except Exception:
        logger.exception("token function error")
        metrics.count("TokenErrors")
        return _error(HttpError(500, "internal", "could not issue a token"))
