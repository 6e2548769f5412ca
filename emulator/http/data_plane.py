"""The IoT data-plane APIs boto3's iot-data calls: Publish (POST /topics/{topic}) and
DeleteConnection (DELETE /connections/{clientId}).

DeleteConnection as "DeleteConnection" in the AWS IoT API reference
(https://docs.aws.amazon.com/iot/latest/apireference/API_iotdata_DeleteConnection.html):
the client id is percent-encoded in the path and may not start with ``$``;
``cleanSession`` (default false) also discards a persistent session and
``preventWillMessage`` (default false) skips the will; a client id with no connection
answers 404 ResourceNotFoundException, a success 200 with an empty body.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from aiohttp import web

from emulator.iot.context import PublishMetadata
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


def raw_client_id(request: web.Request) -> str:
    """The client id from the raw path (percent-encoded, like the topic of a publish)."""
    path = request.raw_path.split("?", 1)[0]
    return unquote(path[len("/connections/") :])


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
    context = PublishMetadata(
        topic=topic, principal=principal_of(request), source_ip=request.remote, qos=int(qos_text)
    )
    try:
        await publish(topic, payload, int(qos_text), retain=retain, context=context)
    except ValueError as exc:
        return error(400, "InvalidRequestException", str(exc))
    except RuntimeError:
        return error(503, "ServiceUnavailableException", "broker is not running")
    return web.json_response({})


def _flag(request: web.Request, name: str) -> bool | None:
    """A boolean query parameter: None when it is neither true nor false."""
    value = request.query.get(name, "false").lower()
    return {"true": True, "false": False}.get(value)


async def delete_connection_handler(
    request: web.Request,
    disconnect: Callable[..., bool],
    *,
    require_auth: bool = True,
) -> web.Response:
    """Close one client's connection from IoT Core's side, as DeleteConnection does."""
    if require_auth and not request.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256"):
        return error(403, "ForbiddenException", "Missing Authentication Token")
    client_id = raw_client_id(request)
    if not client_id or client_id.startswith("$") or len(client_id) > 128:
        return error(400, "InvalidRequestException", "Invalid client id")
    clean, prevent_will = _flag(request, "cleanSession"), _flag(request, "preventWillMessage")
    if clean is None or prevent_will is None:
        return error(400, "InvalidRequestException", "cleanSession, preventWillMessage: booleans")
    if not disconnect(client_id, clean_session=clean, prevent_will=prevent_will):
        return error(404, "ResourceNotFoundException", f"No connection for client {client_id}")
    return web.json_response({})
