"""Guest token function (Lambda function URL, payload format 2.0): ``POST /api/token``.

Request body ``{"name": "Alice"}`` (possibly base64, see ``isBase64Encoded``).
``200 {"token", "clientIdPrefix", "expiresAt"}``: ``clientIdPrefix`` is the principalId
the authorizer derives from the token (the client connects as
``<clientIdPrefix>-<anything>``), ``expiresAt`` the token's ``exp`` in epoch seconds.

Errors are ``{"error": {"code", "message"}}``: 405 ``method_not_allowed``, 413
``payload_too_large`` (body over 4 KB), 400 ``bad_json`` / ``invalid_name``, 429
``rate_limited`` (with ``Retry-After``: too many tokens for this source address this
minute, chatlib.ratelimit), 500 ``internal``. ``OPTIONS`` answers the CORS preflight
with 204.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from chatlib import ratelimit, tokens
from chatlib.log import bind_context, logger
from chatlib.validation import ValidationError, validate_name

MAX_BODY_BYTES = 4096
TOO_LARGE = f"body must be at most {MAX_BODY_BYTES} bytes"
NOT_AN_OBJECT = 'body must be a JSON object like {"name": "Alice"}'

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "600",
}


class HttpError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _response(
    status: int, body: dict[str, Any] | None = None, extra: dict[str, str] | None = None
) -> dict[str, Any]:
    headers = {**CORS_HEADERS, "Cache-Control": "no-store"}
    if extra:
        headers.update(extra)
    response: dict[str, Any] = {"statusCode": status, "headers": headers}
    if body is not None:
        headers["Content-Type"] = "application/json; charset=utf-8"
        response["body"] = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    else:
        response["body"] = ""
    response["isBase64Encoded"] = False
    return response


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


def parse_name(raw: bytes) -> str:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HttpError(400, "bad_json", NOT_AN_OBJECT) from exc
    if not isinstance(data, dict):
        raise HttpError(400, "bad_json", NOT_AN_OBJECT)
    if "name" not in data:
        raise HttpError(400, "invalid_name", "name is required")
    try:
        return validate_name(data["name"], trim=True)
    except ValidationError as exc:
        raise HttpError(400, "invalid_name", str(exc)) from exc


def issue(event: dict[str, Any]) -> dict[str, Any]:
    method = _method(event)
    if method == "OPTIONS":
        return _response(204)
    if method != "POST":
        return _error(HttpError(405, "method_not_allowed", "use POST"), {"Allow": "POST, OPTIONS"})
    source = ((event.get("requestContext") or {}).get("http") or {}).get("sourceIp")
    decision = ratelimit.check(source)
    if not decision.allowed:
        wait = decision.retry_after
        message = f"too many token requests from this address; try again in {wait} s"
        return _error(HttpError(429, "rate_limited", message), {"Retry-After": str(wait)})
    try:
        name = parse_name(read_body(event))
    except HttpError as exc:
        logger.info("token request refused", extra={"status": exc.status, "code": exc.code})
        return _error(exc)
    issued = tokens.issue_guest_token(name)
    logger.info("guest token issued", extra={"principalId": issued.principal_id})
    return _response(
        200,
        {
            "token": issued.token,
            "clientIdPrefix": issued.principal_id,
            "expiresAt": issued.expires_at,
        },
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    bind_context(context)
    try:
        return issue(event if isinstance(event, dict) else {})
    except Exception:
        logger.exception("token function error")
        return _error(HttpError(500, "internal", "could not issue a token"))
