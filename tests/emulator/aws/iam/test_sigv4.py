"""SigV4: the header is read and the signature checked with botocore's own signer."""

from __future__ import annotations

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from emulator.aws.iam.sigv4 import SigV4Header, signature_matches

SECRET = "secret/key+1"
CREDENTIALS = Credentials("ASIAEXAMPLE", SECRET, "token")


def signed(body: bytes = b'{"TableName": "t"}') -> tuple[dict[str, str], bytes]:
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:4566/",
        data=body,
        headers={"X-Amz-Target": "DynamoDB_20120810.GetItem", "Host": "127.0.0.1:4566"},
    )
    SigV4Auth(CREDENTIALS, "dynamodb", "us-east-1").add_auth(request)
    return {k.lower(): v for k, v in request.headers.items()}, body


def matches(headers: dict[str, str], body: bytes, secret: str = SECRET) -> bool:
    header = SigV4Header.parse(headers["authorization"])
    assert header is not None
    return signature_matches(
        header, secret, "token", method="POST", path="/", headers=headers, body=body
    )


def test_a_botocore_signature_verifies() -> None:
    headers, body = signed()
    header = SigV4Header.parse(headers["authorization"])
    assert header is not None
    assert (header.access_key_id, header.region, header.service) == (
        "ASIAEXAMPLE",
        "us-east-1",
        "dynamodb",
    )
    assert matches(headers, body)


def test_tampering_or_the_wrong_secret_fails() -> None:
    headers, body = signed()
    assert not matches(headers, b'{"TableName": "other"}')
    assert not matches({**headers, "x-amz-target": "DynamoDB_20120810.DeleteItem"}, body)
    assert not matches(headers, body, secret="another")
    del headers["x-amz-date"]
    assert not matches(headers, body)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Bearer abc",
        "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3, SignedHeaders=host, Signature=ab",
        "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, Signature=ab",
    ],
)
def test_other_headers_are_not_sigv4(value: str) -> None:
    assert SigV4Header.parse(value) is None
