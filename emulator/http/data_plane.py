"""The IoT data-plane Publish API (POST /topics/{topic}), as boto3's iot-data calls it."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from aiohttp import web

from emulator.iot.context import MessageContext
from emulator.iot.limits import MAX_PAYLOAD_BYTES, Limits, topic_problem

log = logging.getLogger(__name__)
_ACCESS_KEY = re.compile(r"Credential=([A-Za-z0-9]+)/")


def error(status: int, kind: str, message: str) -> web.Response:
    """An error the way AWS IoT data answers: x-amzn-ErrorType header and a message."""
    response = web.json_response({"message": message}, status=status)
    response.headers["x-amzn-ErrorType"] = kind
    return response


def raw_topic(request: web.Request) -> str:
    """The topic from the raw path: botocore sends '/' as %2F, which routing would decode."""
    path = request.raw_path.split("?", 1)[0]
    return unquote(path[len("/topics/") :])


def principal_of(request: web.Request) -> str | None:
    """The access key id of a SigV4 Authorization header (not verified)."""
    match = _ACCESS_KEY.search(request.headers.get("Authorization", ""))
    return match.group(1) if match else None


async def read_body(request: web.Request, limit: int) -> bytes:
    """The body, up to ``limit`` bytes. StreamReader.read(n) returns what has arrived so
    far, at most n: one call can cut a large body short (a 128 KB backlog reached its
    subscriber truncated), so read until the end or the limit."""
    body = bytearray()
    while len(body) < limit:
        chunk = await request.content.read(limit - len(body))
        if not chunk:
            break
        body += chunk
    return bytes(body)


async def publish_handler(
    request: web.Request,
    publish: Callable[..., Awaitable[None]],
    *,
    require_auth: bool = True,
    limits: Limits | None = None,
) -> web.Response:
    """Validate like AWS, then publish through the broker (subscribers + rules)."""
    limits = limits or Limits()
    if require_auth and not request.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256"):
        return error(403, "ForbiddenException", "Missing Authentication Token")
    topic = raw_topic(request)
    problem = topic_problem(topic, limits)
    if problem:
        return error(400, "InvalidRequestException", f"Invalid topic: {problem}")
    qos_text = request.query.get("qos", "0")
    if qos_text not in ("0", "1"):
        return error(400, "InvalidRequestException", "qos must be 0 or 1")
    retain = request.query.get("retain", "false").lower() == "true"
    if request.content_length is not None and request.content_length > limits.max_payload_bytes:
        return error(413, "RequestEntityTooLargeException", "Payload exceeds 128 KB")
    payload = await read_body(request, limits.max_payload_bytes + 1)
    if len(payload) > (limits.max_payload_bytes or MAX_PAYLOAD_BYTES):
        return error(413, "RequestEntityTooLargeException", "Payload exceeds 128 KB")
    context = MessageContext(
        topic=topic, principal=principal_of(request), source_ip=request.remote, qos=int(qos_text)
    )
    try:
        await publish(topic, payload, int(qos_text), retain=retain, context=context)
    except ValueError as exc:
        return error(400, "InvalidRequestException", str(exc))
    except RuntimeError:
        return error(503, "ServiceUnavailableException", "broker is not running")
    return web.json_response({})
