"""Lambda function URL semantics: request -> payload format 2.0 event, result -> response,
the answer of a throttled URL, and one URL's route on the emulator's HTTP port.

Event and response as "Invoking Lambda function URLs"
(https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html). On AWS each URL has
a domain of its own; here each is mounted at a path prefix, and the function sees the
path after it, as it would on its own domain.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from emulator.http.cors import PREFLIGHT_STATUS, CorsConfig, is_preflight

log = logging.getLogger(__name__)

# A function URL over its function's reserved concurrency (or 10 x it per second)
# answers HTTP 429 ("Creating and managing Lambda function URLs", Throttling function
# URLs, https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html#urls-throttling).
# AWS does not document the body; this is the one function URLs are reported to send
# (x-amzn-ErrorType ThrottlingException, {"message":"Rate Exceeded."}).
THROTTLED: dict[str, Any] = {
    "statusCode": 429,
    "headers": {"Content-Type": "application/json", "x-amzn-ErrorType": "ThrottlingException"},
    "body": '{"message":"Rate Exceeded."}',
}

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
_TEXT_TYPES_EXACT = ("application/x-www-form-urlencoded",)


def _unmounted(path: str, mount: str) -> str:
    return "/" + path[len(mount) :] if path.startswith(mount) else path


def _is_text(content_type: str) -> bool:
    content_type = content_type.lower()
    return content_type.startswith(_TEXT_TYPES) or content_type.startswith(_TEXT_TYPES_EXACT)


async def build_event(
    request: web.Request, account_id: str = "anonymous", mount: str = "/"
) -> dict[str, Any]:
    """The event a function URL would pass for this request (payload format 2.0);
    ``mount`` is the prefix the URL is served under, removed from the paths."""
    body = await request.read()
    now = time.time()
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        if key == "cookie":
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    host = request.host
    url_id = host.split(".", 1)[0].split(":", 1)[0]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": _unmounted(request.raw_path.split("?", 1)[0], mount),
        "rawQueryString": request.query_string,
        "headers": headers,
        "requestContext": {
            "accountId": account_id,
            "apiId": url_id,
            "domainName": host,
            "domainPrefix": url_id,
            "http": {
                "method": request.method,
                "path": _unmounted(request.path, mount),
                "protocol": f"HTTP/{request.version.major}.{request.version.minor}",
                "sourceIp": request.remote or "",
                "userAgent": request.headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if request.cookies:
        event["cookies"] = [f"{k}={v}" for k, v in request.cookies.items()]
    if request.query:
        event["queryStringParameters"] = {
            k: ",".join(request.query.getall(k)) for k in request.query
        }
    if body:
        if _is_text(request.headers.get("Content-Type", "")):
            event["body"] = body.decode("utf-8", errors="replace")
        else:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def to_response(result: Any) -> web.Response:
    """Turn a handler's return value into the HTTP answer, as function URLs do.

    A dict with statusCode is a full response (headers, body, isBase64Encoded,
    cookies); anything else is JSON for a 200.
    """
    if not isinstance(result, dict) or "statusCode" not in result:
        return web.Response(
            status=200, text=json.dumps(result), content_type="application/json", charset=None
        )
    status = int(result["statusCode"])
    body = result.get("body")
    if body is None:
        raw = b""
    elif result.get("isBase64Encoded"):
        raw = base64.b64decode(body)
    else:
        raw = (body if isinstance(body, str) else json.dumps(body)).encode()
    response = web.Response(status=status, body=raw)
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    headers.setdefault("Content-Type", headers.pop("content-type", "application/json"))
    for key, value in headers.items():
        response.headers[key] = value
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", str(cookie))
    return response


# What the emulator calls for one request: the event, and the request for its headers
# (AuthType AWS_IAM, resource-based policy); answers the handler's result or a refusal.
UrlInvoke = Callable[[dict[str, Any], web.Request], Awaitable[Any]]


@dataclass(frozen=True)
class FunctionUrlRoute:
    """One AWS::Lambda::Url: where it is mounted, how to invoke it, its CORS."""

    name: str
    path: str  # "/" or "/prefix/"
    invoke: UrlInvoke
    cors: CorsConfig | None = None

    async def handle(self, request: web.Request) -> web.Response:
        """Preflight from the CORS configuration, else invoke with a 2.0 event."""
        origin = request.headers.get("Origin")
        if self.cors is not None and is_preflight(request.method, request.headers):
            return web.Response(
                status=PREFLIGHT_STATUS, headers=self.cors.preflight_headers(origin)
            )
        event = await build_event(request, mount=self.path)
        try:
            result = await self.invoke(event, request)
        except Exception:
            log.exception("function URL %s: the function failed", self.name)
            return web.Response(status=502, text="Internal Server Error")
        response = to_response(result)
        if self.cors is not None:
            for key, value in self.cors.response_headers(origin).items():
                response.headers[key] = value  # the URL's configuration wins
        return response
