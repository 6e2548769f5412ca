"""IAM for the IoT data plane signed with role credentials: ``iot:Publish`` for
``POST /topics/...`` and ``iot:DeleteConnection`` for ``DELETE /connections/...``.

A function publishes with boto3's ``iot-data`` client and its role's credentials; the
role needs ``iot:Publish`` on the topic's ARN (and ``iot:RetainPublish`` to retain), and
``iot:DeleteConnection`` on the client's ARN (``client/<clientId>``) to close a
connection.
AWS refuses with HTTP 403 ``ForbiddenException``; the emulator's log says why.
AWS: "AWS IoT Core policy actions",
https://docs.aws.amazon.com/iot/latest/developerguide/iot-policy-actions.html

The caller is identified by the access key in its SigV4 Authorization header and its
session token; the signature itself is not verified here. Keys the emulator did not
issue (tests, tools) are not evaluated.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from emulator.aws.iam.access import AccessDenied, EmulatorIam
from emulator.aws.iam.sigv4 import SigV4Header
from emulator.http.data_plane import error, raw_client_id, raw_topic
from emulator.iot.policy import IotArns

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def forbidden() -> web.Response:
    return error(403, "ForbiddenException", "Forbidden")


def data_plane_iam(iam: EmulatorIam, arns: IotArns) -> Callable[..., Awaitable[web.StreamResponse]]:
    """An aiohttp middleware that evaluates data-plane calls made with issued role
    credentials."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        publishing = request.method == "POST" and request.path.startswith("/topics/")
        deleting = request.method == "DELETE" and request.path.startswith("/connections/")
        if not publishing and not deleting:
            return await handler(request)
        header = SigV4Header.parse(request.headers.get("Authorization", ""))
        credentials = iam.issuer.lookup(header.access_key_id) if header else None
        if credentials is None:
            return await handler(request)
        if request.headers.get("X-Amz-Security-Token") != credentials.session_token:
            return forbidden()
        if credentials.expiration <= time.time():
            return forbidden()
        if deleting:
            actions = ["iot:DeleteConnection"]
            resource = arns.client(raw_client_id(request))
        else:
            actions = ["iot:Publish"]
            if request.query.get("retain", "false").lower() == "true":
                actions.append("iot:RetainPublish")
            resource = arns.topic(raw_topic(request))
        try:
            for action in actions:
                await iam.check_identity(
                    credentials.role_arn, credentials.principal_arn, action, resource
                )
        except AccessDenied:
            return forbidden()
        return await handler(request)

    return middleware
