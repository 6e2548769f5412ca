"""Signature Version 4: read the Authorization header and check a request's signature.

The signature is recomputed with botocore's own signer over the headers the client
signed, as AWS does before it evaluates any policy. AWS: "Create a signed AWS API
request", https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

_HEADER = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]+)\s*$"
)


@dataclass(frozen=True)
class SigV4Header:
    """The parts of ``Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...``."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str

    @classmethod
    def parse(cls, authorization: str) -> SigV4Header | None:
        """The header's parts, or None when it is not a SigV4 header."""
        match = _HEADER.match(authorization.strip())
        if match is None:
            return None
        scope = match["credential"].split("/")
        if len(scope) != 5 or scope[4] != "aws4_request":
            return None
        access_key_id, date, region, service, _ = scope
        return cls(
            access_key_id=access_key_id,
            date=date,
            region=region,
            service=service,
            signed_headers=tuple(match["signed"].split(";")),
            signature=match["signature"],
        )


def signature_matches(
    header: SigV4Header,
    secret_access_key: str,
    session_token: str | None,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
) -> bool:
    """Whether the request was signed with this secret.

    ``path`` is the request target exactly as sent (still percent-encoded, with its
    query string); ``headers`` are keyed by lower-case name.
    """
    signed = {name: headers[name] for name in header.signed_headers if name in headers}
    if len(signed) != len(header.signed_headers) or "x-amz-date" not in signed:
        return False
    credentials = Credentials(header.access_key_id, secret_access_key, session_token)
    # S3 signs its path as sent; the other services normalize and encode it once more.
    auth = S3SigV4Auth if header.service == "s3" else SigV4Auth
    signer = auth(credentials, header.service, header.region)
    request = AWSRequest(method=method, url=path, data=body, headers=signed)
    request.context["timestamp"] = signed["x-amz-date"]
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    return hmac.compare_digest(expected, header.signature)
