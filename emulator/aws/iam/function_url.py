"""``AuthType: AWS_IAM`` function URLs: only SigV4-signed requests whose identity may
``lambda:InvokeFunctionUrl`` reach the function; others get 403.

AWS: "Control access to Lambda function URLs", section "Using the AWS_IAM auth type"
(https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html). As for the data plane
(``data_plane``), the caller is the role whose emulator-issued access key signed the
request; the signature itself is not verified, and keys the emulator did not issue
(tests, tools) are let through without evaluation.
"""

from __future__ import annotations

import time

from aiohttp import web

from emulator.aws.iam.access import AccessDenied, EmulatorIam
from emulator.aws.iam.sigv4 import SigV4Header


async def iam_url_allowed(iam: EmulatorIam | None, request: web.Request, function_arn: str) -> bool:
    """Whether an AWS_IAM URL serves this request (unsigned: never)."""
    header = SigV4Header.parse(request.headers.get("Authorization", ""))
    if header is None:
        return False
    credentials = iam.issuer.lookup(header.access_key_id) if iam is not None else None
    if iam is None or credentials is None:
        return True
    if request.headers.get("X-Amz-Security-Token") != credentials.session_token:
        return False
    if credentials.expiration <= time.time():
        return False
    try:
        await iam.check_identity(
            credentials.role_arn,
            credentials.principal_arn,
            "lambda:InvokeFunctionUrl",
            function_arn,
        )
    except AccessDenied:
        return False
    return True
