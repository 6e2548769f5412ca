"""The IoT custom authorizer: every denial case, the exact policy, the JWKS path."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import authorizer
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from chatlib import aws, tokens

from .conftest import ACCOUNT, REGION, SECRET

ARN = f"arn:aws:iot:{REGION}:{ACCOUNT}"
JWT_ISSUER = "https://idp.example.test/"
JWT_AUDIENCE = "chat-app"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def guest_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "test-issuer",
        "aud": "test-audience",
        "sub": "abc123DEF",
        "name": "Alice",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
    }
    for key, value in overrides.items():
        if value is None:
            claims.pop(key, None)
        else:
            claims[key] = value
    return claims


def guest_token(key: str = SECRET, algorithm: str = "HS256", **overrides: Any) -> str:
    return jwt.encode(guest_claims(**overrides), key, algorithm=algorithm)


def query_event(token: str) -> dict[str, Any]:
    return {
        "signatureVerified": False,
        "protocols": ["tls", "http", "mqtt"],
        "protocolData": {
            "tls": {"serverName": "example-ats.iot.us-east-1.amazonaws.com"},
            "http": {
                "headers": {"host": "example"},
                "queryString": f"?x-amz-customauthorizer-name=ChatAuthorizer&token={token}",
            },
            "mqtt": {"clientId": "abc123DEF-1", "username": ""},
        },
        "connectionMetadata": {"id": "conn-1"},
    }


def password_event(token: str | bytes) -> dict[str, Any]:
    raw = token.encode() if isinstance(token, str) else token
    return {
        "protocols": ["tls", "mqtt"],
        "protocolData": {
            "tls": {"serverName": "example"},
            "mqtt": {
                "clientId": "abc123DEF-1",
                "username": "device?x-amz-customauthorizer-name=ChatAuthorizer",
                "password": base64.b64encode(raw).decode(),
            },
        },
        "connectionMetadata": {"id": "conn-2"},
    }


def expected_policy(principal: str, root: str = "chat") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iot:Connect", "Resource": f"{ARN}:client/{principal}-*"},
            {
                "Effect": "Allow",
                "Action": "iot:Subscribe",
                "Resource": [
                    f"{ARN}:topicfilter/{root}/in/${{iot:ClientId}}",
                    f"{ARN}:topicfilter/{root}/user/{principal}",
                    f"{ARN}:topicfilter/{root}/pub/*",
                ],
            },
            {
                "Effect": "Allow",
                "Action": "iot:Receive",
                "Resource": [
                    f"{ARN}:topic/{root}/in/${{iot:ClientId}}",
                    f"{ARN}:topic/{root}/user/{principal}",
                    f"{ARN}:topic/{root}/pub/*",
                ],
            },
            {
                "Effect": "Allow",
                "Action": "iot:Publish",
                "Resource": [f"{ARN}:topic/{root}/out", f"{ARN}:topic/{root}/stream"],
            },
        ],
    }


DENIED = {"isAuthenticated": False}


@pytest.fixture
def authorize(secret_arn: str, tables: dict[str, Any], context: SimpleNamespace):
    def run(event: Any) -> dict[str, Any]:
        return authorizer.handler(event, context)

    return run


def assert_allowed(result: dict[str, Any], principal: str, lifetime: int = 3600) -> None:
    assert result["isAuthenticated"] is True
    assert result["principalId"] == principal
    assert set(result) == {
        "isAuthenticated",
        "principalId",
        "disconnectAfterInSeconds",
        "refreshAfterInSeconds",
        "policyDocuments",
    }
    assert lifetime - 5 <= result["disconnectAfterInSeconds"] <= lifetime
    assert 300 <= result["refreshAfterInSeconds"] <= result["disconnectAfterInSeconds"]
    assert len(result["policyDocuments"]) == 1
    assert isinstance(result["policyDocuments"][0], str)
    assert json.loads(result["policyDocuments"][0]) == expected_policy(principal)


# -- valid tokens ---------------------------------------------------------------------


def test_query_string_token_gets_exact_policy(authorize) -> None:
    assert_allowed(authorize(query_event(guest_token())), "abc123DEF")


def test_password_token_gets_exact_policy(authorize) -> None:
    assert_allowed(authorize(password_event(guest_token())), "abc123DEF")


def test_top_level_token_field(authorize) -> None:
    assert_allowed(authorize({"token": guest_token(), "protocolData": {}}), "abc123DEF")


def test_query_string_wins_over_password(authorize) -> None:
    event = query_event(guest_token())
    event["protocolData"]["mqtt"]["password"] = base64.b64encode(b"garbage").decode()
    assert_allowed(authorize(event), "abc123DEF")


def test_url_encoded_query_and_no_leading_question_mark(authorize) -> None:
    token = guest_token()
    event = query_event(token)
    event["protocolData"]["http"]["queryString"] = "token=" + token.replace(".", "%2E") + "&a=b"
    assert_allowed(authorize(event), "abc123DEF")


def test_topic_root_from_environment(authorize, monkeypatch) -> None:
    monkeypatch.setenv("TOPIC_ROOT", "acme")
    result = authorize(query_event(guest_token()))
    assert json.loads(result["policyDocuments"][0]) == expected_policy("abc123DEF", "acme")


def test_session_capped_at_one_day(authorize) -> None:
    result = authorize(query_event(guest_token(exp=int(time.time()) + 3 * 86400)))
    assert result["disconnectAfterInSeconds"] == 86400
    assert result["refreshAfterInSeconds"] == 3600


def test_session_never_outlives_token(authorize) -> None:
    result = authorize(query_event(guest_token(exp=int(time.time()) + 400)))
    assert result["isAuthenticated"] is True
    assert 395 <= result["disconnectAfterInSeconds"] <= 400
    assert result["refreshAfterInSeconds"] == result["disconnectAfterInSeconds"]


def test_token_with_less_than_300_seconds_left_is_denied(authorize) -> None:
    assert authorize(query_event(guest_token(exp=int(time.time()) + 299))) == DENIED


def test_name_claim_is_optional(authorize) -> None:
    assert_allowed(authorize(query_event(guest_token(name=None))), "abc123DEF")


ROTATED = "a-rotated-secret-0123456789abcdef0123456789"


def rotate_secret(secret_arn: str) -> None:
    aws.session().client("secretsmanager", region_name=REGION).update_secret(
        SecretId=secret_arn, SecretString=ROTATED
    )


def test_secret_is_cached(authorize, secret_arn) -> None:
    assert authorize(query_event(guest_token()))["isAuthenticated"] is True
    rotate_secret(secret_arn)
    # Still the cached key within the TTL.
    assert authorize(query_event(guest_token()))["isAuthenticated"] is True
    assert authorize(query_event(guest_token(key=ROTATED))) == DENIED


def test_secret_is_fetched_again_once_its_ttl_is_over(authorize, secret_arn, monkeypatch) -> None:
    monkeypatch.setattr(tokens, "SECRET_TTL_SECONDS", 0)  # every entry is over at once
    assert authorize(query_event(guest_token()))["isAuthenticated"] is True
    rotate_secret(secret_arn)
    assert authorize(query_event(guest_token())) == DENIED
    assert authorize(query_event(guest_token(key=ROTATED)))["isAuthenticated"] is True


# -- denials --------------------------------------------------------------------------


def forged_signature() -> str:
    return guest_token(key="not-the-secret-0123456789abcdef0123456789abcdef")


def tampered_payload() -> str:
    header, _payload, signature = guest_token().split(".")
    evil = b64url(json.dumps(guest_claims(sub="victim")).encode())
    return f"{header}.{evil}.{signature}"


def alg_none() -> str:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(guest_claims()).encode())
    return f"{header}.{payload}."


def alg_none_with_secret_signature() -> str:
    # "None" spelled differently and a signature present: still not an allowed algorithm.
    header = b64url(json.dumps({"alg": "None", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(guest_claims()).encode())
    sig = hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(sig)}"


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_PUBLIC_PEM = RSA_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def hs256_with_public_key(kid: str | None = None) -> str:
    """The classic confusion: HMAC-SHA256 keyed with the RSA public key (PEM)."""
    header: dict[str, Any] = {"alg": "HS256", "typ": "JWT"}
    if kid:
        header["kid"] = kid
    h = b64url(json.dumps(header).encode())
    p = b64url(json.dumps(guest_claims()).encode())
    sig = hmac.new(RSA_PUBLIC_PEM, f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64url(sig)}"


def rs256_guest_claims() -> str:
    return jwt.encode(guest_claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})


DENIAL_CASES = {
    "forged signature": forged_signature,
    "tampered payload": tampered_payload,
    "alg none": alg_none,
    "alg None with signature": alg_none_with_secret_signature,
    "HS256 signed with RSA public key": hs256_with_public_key,
    "RS256 without JWKS configured": rs256_guest_claims,
    "HS384 with the right secret": lambda: guest_token(algorithm="HS384"),
    "HS512 with the right secret": lambda: guest_token(algorithm="HS512"),
    "expired": lambda: guest_token(exp=int(time.time()) - 60, iat=int(time.time()) - 4000),
    "nbf in the future": lambda: guest_token(nbf=int(time.time()) + 3600),
    "iat in the future": lambda: guest_token(iat=int(time.time()) + 3600),
    "missing exp": lambda: guest_token(exp=None),
    "wrong issuer": lambda: guest_token(iss="someone-else"),
    "missing issuer": lambda: guest_token(iss=None),
    "wrong audience": lambda: guest_token(aud="other-app"),
    "missing audience": lambda: guest_token(aud=None),
    "missing sub": lambda: guest_token(sub=None),
    "empty sub": lambda: guest_token(sub=""),
    "sub with a slash": lambda: guest_token(sub="abc/def"),
    "sub with a wildcard": lambda: guest_token(sub="abc#"),
    "sub with a dash": lambda: guest_token(sub="abc-def"),
    "sub not ascii": lambda: guest_token(sub="caf\u00e9"),
    "sub too long": lambda: guest_token(sub="a" * 129),
    "sub not a string": lambda: guest_token(sub=12345),
    "garbage": lambda: "this-is-not-a-jwt",
    "three garbage segments": lambda: "aaa.bbb.ccc",
    "header not json": lambda: b64url(b"{nope") + "." + b64url(b"{}") + ".sig",
    "huge token": lambda: "a" * 20000,
}


@pytest.mark.parametrize("make_token", DENIAL_CASES.values(), ids=DENIAL_CASES.keys())
def test_denied_on_query_string(authorize, make_token) -> None:
    assert authorize(query_event(make_token())) == DENIED


@pytest.mark.parametrize(
    "make_token",
    [forged_signature, alg_none, hs256_with_public_key, rs256_guest_claims],
    ids=["forged", "none", "confusion", "rs256"],
)
def test_denied_on_password(authorize, make_token) -> None:
    assert authorize(password_event(make_token())) == DENIED


def test_long_sub_of_128_is_accepted(authorize) -> None:
    assert_allowed(authorize(query_event(guest_token(sub="A" * 128))), "A" * 128)


@pytest.mark.parametrize(
    "event",
    [
        {},
        None,
        [],
        "token",
        {"protocolData": None},
        {"protocolData": {"http": {"queryString": ""}}},
        {"protocolData": {"http": {"queryString": "?token="}}},
        {"protocolData": {"http": {"queryString": "?x-amz-customauthorizer-name=A"}}},
        {"protocolData": {"mqtt": {"password": ""}}},
        {"protocolData": {"mqtt": {"password": "***not base64***"}}},
        {"protocolData": {"mqtt": {"password": base64.b64encode(b"\xff\xfe").decode()}}},
        {"token": ""},
        {"token": 42},
    ],
    ids=lambda e: json.dumps(e)[:60],
)
def test_missing_or_empty_token_is_denied(authorize, event) -> None:
    assert authorize(event) == DENIED


def test_missing_secret_denies_without_raising(mocked_aws, context, monkeypatch) -> None:
    monkeypatch.setenv(
        "TOKEN_SECRET_ARN", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:gone-AbCdEf"
    )
    assert authorizer.handler(query_event(guest_token()), context) == DENIED


def test_unset_secret_arn_denies(mocked_aws, context, monkeypatch) -> None:
    monkeypatch.delenv("TOKEN_SECRET_ARN", raising=False)
    assert authorizer.handler(query_event(guest_token()), context) == DENIED


def test_bad_context_denies(authorize, secret_arn) -> None:
    event = query_event(guest_token())
    assert authorizer.handler(event, SimpleNamespace(invoked_function_arn="nope")) == DENIED
    assert authorizer.handler(event, None) == DENIED


# -- external identity provider (JWKS) ------------------------------------------------


def public_jwk(key: Any, kid: str, alg: str | None = None) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk["kid"] = kid
    jwk["use"] = "sig"
    if alg:
        jwk["alg"] = alg
    return jwk


class JwksServer:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                body = json.dumps(outer.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> JwksServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def jwks(monkeypatch) -> Iterator[JwksServer]:
    document = {
        "keys": [
            public_jwk(RSA_KEY, "rsa-1", "RS256"),
            public_jwk(EC_KEY, "ec-1"),  # no "alg": inferred from kty/crv
            public_jwk(OTHER_RSA_KEY, "rsa-2"),
        ]
    }
    with JwksServer(document) as server:
        monkeypatch.setenv("JWKS_URL", server.url)
        monkeypatch.setenv("JWT_ISSUER", JWT_ISSUER)
        monkeypatch.setenv("JWT_AUDIENCE", JWT_AUDIENCE)
        yield server


def external_claims(**overrides: Any) -> dict[str, Any]:
    return guest_claims(**{"iss": JWT_ISSUER, "aud": JWT_AUDIENCE, **overrides})


def external_token(key: Any, algorithm: str, kid: str | None, **overrides: Any) -> str:
    headers = {"kid": kid} if kid else {}
    return jwt.encode(external_claims(**overrides), key, algorithm=algorithm, headers=headers)


def test_rs256_token_from_jwks(authorize, jwks) -> None:
    token = external_token(RSA_KEY, "RS256", "rsa-1", sub="user42")
    assert_allowed(authorize(query_event(token)), "user42")


def test_es256_token_from_jwks_with_hashed_sub(authorize, jwks) -> None:
    sub = "auth0|5f3c-9a"
    token = external_token(EC_KEY, "ES256", "ec-1", sub=sub)
    principal = "h" + hashlib.sha256(sub.encode()).hexdigest()[:40]
    assert_allowed(authorize(password_event(token)), principal)
    # Deterministic: the same sub maps to the same principal again.
    assert authorize(query_event(token))["principalId"] == principal


def test_jwks_is_fetched_once_and_cached(authorize, jwks) -> None:
    for _ in range(3):
        token = external_token(RSA_KEY, "RS256", "rsa-1", sub="user42")
        assert authorize(query_event(token))["isAuthenticated"] is True
    assert jwks.hits == 1


def test_guest_tokens_still_work_with_jwks(authorize, jwks) -> None:
    assert_allowed(authorize(query_event(guest_token())), "abc123DEF")


JWKS_DENIALS = {
    "guest issuer on external token": lambda: jwt.encode(
        guest_claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"}
    ),
    "wrong issuer": lambda: external_token(RSA_KEY, "RS256", "rsa-1", iss="https://evil/"),
    "wrong audience": lambda: external_token(RSA_KEY, "RS256", "rsa-1", aud="other"),
    "expired": lambda: external_token(
        RSA_KEY, "RS256", "rsa-1", exp=int(time.time()) - 30, iat=int(time.time()) - 4000
    ),
    "nbf in the future": lambda: external_token(
        RSA_KEY, "RS256", "rsa-1", nbf=int(time.time()) + 600
    ),
    "missing sub": lambda: external_token(RSA_KEY, "RS256", "rsa-1", sub=None),
    "blank sub": lambda: external_token(RSA_KEY, "RS256", "rsa-1", sub="   "),
    "sub too long": lambda: external_token(RSA_KEY, "RS256", "rsa-1", sub="x" * 2000),
    "signed by another key under a known kid": lambda: external_token(
        OTHER_RSA_KEY, "RS256", "rsa-1"
    ),
    "unknown kid": lambda: external_token(RSA_KEY, "RS256", "nope"),
    "no kid": lambda: external_token(RSA_KEY, "RS256", None),
    "RS256 header on an EC key": lambda: external_token(RSA_KEY, "RS256", "ec-1"),
    "ES256 header on an RSA key": lambda: external_token(EC_KEY, "ES256", "rsa-2"),
    "HS256 signed with the JWKS public key": lambda: hs256_with_public_key("rsa-1"),
    "RS384 is not allowed": lambda: external_token(RSA_KEY, "RS384", "rsa-1"),
    "PS256 is not allowed": lambda: external_token(RSA_KEY, "PS256", "rsa-1"),
    "alg none": alg_none,
}


@pytest.mark.parametrize("make_token", JWKS_DENIALS.values(), ids=JWKS_DENIALS.keys())
def test_jwks_denials(authorize, jwks, make_token) -> None:
    assert authorize(query_event(make_token())) == DENIED


@pytest.mark.parametrize("missing", ["JWT_ISSUER", "JWT_AUDIENCE"])
def test_external_tokens_need_issuer_and_audience(authorize, jwks, monkeypatch, missing) -> None:
    monkeypatch.setenv(missing, "")
    token = external_token(RSA_KEY, "RS256", "rsa-1", sub="user42")
    assert authorize(query_event(token)) == DENIED


def test_unreachable_jwks_denies(authorize, monkeypatch) -> None:
    server = JwksServer({"keys": []})
    url = server.url
    server.server.server_close()  # the port is closed: connection refused
    monkeypatch.setenv("JWKS_URL", url)
    monkeypatch.setenv("JWT_ISSUER", JWT_ISSUER)
    monkeypatch.setenv("JWT_AUDIENCE", JWT_AUDIENCE)
    token = external_token(RSA_KEY, "RS256", "rsa-1", sub="user42")
    assert authorize(query_event(token)) == DENIED


def test_jwks_client_can_be_monkeypatched(authorize, monkeypatch) -> None:
    """The fetch can also be replaced without a server (PyJWKClient.fetch_data)."""
    monkeypatch.setenv("JWKS_URL", "https://idp.example.test/jwks.json")
    monkeypatch.setenv("JWT_ISSUER", JWT_ISSUER)
    monkeypatch.setenv("JWT_AUDIENCE", JWT_AUDIENCE)
    monkeypatch.setattr(
        jwt.PyJWKClient, "fetch_data", lambda self: {"keys": [public_jwk(EC_KEY, "ec-1")]}
    )
    token = external_token(EC_KEY, "ES256", "ec-1", sub="deviceA")
    assert_allowed(authorize(query_event(token)), "deviceA")


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (forged_signature, "InvalidSignatureError"),
        (tampered_payload, "InvalidSignatureError"),
        (hs256_with_public_key, "InvalidSignatureError"),
        (alg_none, "not allowed"),
        (rs256_guest_claims, "no JWKS_URL"),
        (lambda: guest_token(exp=int(time.time()) - 60), "ExpiredSignatureError"),
        (lambda: guest_token(nbf=int(time.time()) + 3600), "ImmatureSignatureError"),
        (lambda: guest_token(iss="x"), "InvalidIssuerError"),
        (lambda: guest_token(aud="x"), "InvalidAudienceError"),
        (lambda: guest_token(sub=None), "MissingRequiredClaimError"),
        (lambda: guest_token(exp=None), "MissingRequiredClaimError"),
        (lambda: guest_token(sub="a-b"), "not alphanumeric"),
        (lambda: "garbage", "malformed"),
    ],
    ids=[
        "forged",
        "tampered",
        "confusion",
        "none",
        "rs256",
        "expired",
        "nbf",
        "iss",
        "aud",
        "sub",
        "exp",
        "badsub",
        "garbage",
    ],
)
def test_denials_are_for_the_right_reason(secret_arn, make_token, reason) -> None:
    """Each denial case fails on the check it is meant to exercise, not by accident."""
    with pytest.raises(tokens.TokenError, match=reason):
        tokens.verify(make_token())


# -- private rooms ---------------------------------------------------------------------


def test_private_rooms_of_the_principal_join_its_policy(authorize, tables) -> None:
    rooms = [f"p-{n:020x}" for n in range(10)]
    for room in rooms:
        tables["people"].put_item(Item={"pk": "user#abc123DEF", "sk": f"room#{room}"})
    tables["people"].put_item(Item={"pk": "user#someoneElse", "sk": "room#p-" + "f" * 20})
    result = authorize(query_event(guest_token()))
    documents = [json.loads(d) for d in result["policyDocuments"]]
    assert documents[0] == expected_policy("abc123DEF")
    assert len(documents) == 3  # 8 rooms a document
    granted = [
        r
        for d in documents[1:]
        for s in d["Statement"]
        if s["Action"] == "iot:Receive"
        for r in s["Resource"]
    ]
    assert granted == [f"{ARN}:topic/chat/priv/{room}" for room in rooms]
