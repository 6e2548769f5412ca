"""The guest token function (Lambda function URL, payload format 2.0)."""

from __future__ import annotations

import base64
import json
import time
from types import SimpleNamespace
from typing import Any

import authorizer
import guest_token
import jwt
import pytest

from chatlib import ratelimit

from .conftest import RATE_LIMIT_TABLE, SECRET


def url_event(
    body: Any = None, method: str = "POST", *, b64: bool = False, raw: bool = False
) -> dict[str, Any]:
    if body is not None and not raw:
        body = json.dumps(body)
    if body is not None and b64:
        body = base64.b64encode(body.encode() if isinstance(body, str) else body).decode()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/api/token",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "origin": "http://127.0.0.1:8080"},
        "requestContext": {
            "domainName": "abc.lambda-url.us-east-1.on.aws",
            "http": {"method": method, "path": "/api/token", "protocol": "HTTP/1.1"},
            "requestId": "r-1",
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": b64,
    }
    if body is not None:
        event["body"] = body
    return event


@pytest.fixture
def call(secret_arn: str, context: SimpleNamespace):
    def run(event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        response = guest_token.handler(event, context)
        body = json.loads(response["body"]) if response.get("body") else None
        return response["statusCode"], response["headers"], body

    return run


def assert_common_headers(headers: dict[str, str]) -> None:
    assert headers["Cache-Control"] == "no-store"
    # CORS comes from the function URL's configuration, never from the function.
    assert not [h for h in headers if h.lower().startswith("access-control-")]


def test_happy_path(call, context, tables) -> None:
    before = int(time.time())
    status, headers, body = call(url_event({"name": "  Alice  "}))
    assert status == 200
    assert_common_headers(headers)
    assert headers["Content-Type"].startswith("application/json")
    assert set(body) == {"token", "clientIdPrefix", "expiresAt"}

    claims = jwt.decode(
        body["token"],
        SECRET,
        algorithms=["HS256"],
        issuer="test-issuer",
        audience="test-audience",
    )
    assert jwt.get_unverified_header(body["token"])["alg"] == "HS256"
    assert claims["name"] == "Alice"
    assert claims["sub"] == body["clientIdPrefix"]
    assert body["clientIdPrefix"].isalnum() and len(body["clientIdPrefix"]) == 32
    assert claims["exp"] == body["expiresAt"]
    assert before <= claims["iat"] == claims["nbf"] <= int(time.time())
    assert claims["exp"] - claims["iat"] == 3600

    # The authorizer accepts it and derives the same principal.
    result = authorizer.handler(
        {"protocolData": {"http": {"queryString": "?token=" + body["token"]}}}, context
    )
    assert result["isAuthenticated"] is True
    assert result["principalId"] == body["clientIdPrefix"]


def test_a_guest_keeps_its_principal_when_it_presents_its_token(call) -> None:
    """A reload or a renewal presents the token the page has: same principal, same
    session start, a fresh expiry."""
    first = call(url_event({"name": "Alice"}))[2]
    status, _, again = call(url_event({"name": "Alice", "token": first["token"]}))
    assert status == 200
    assert again["clientIdPrefix"] == first["clientIdPrefix"]
    claims = [jwt.decode(b["token"], options={"verify_signature": False}) for b in (first, again)]
    assert claims[0]["sst"] == claims[1]["sst"]


def test_a_forged_or_foreign_token_starts_a_new_session(call) -> None:
    first = call(url_event({"name": "Alice"}))[2]
    claims = jwt.decode(first["token"], options={"verify_signature": False})
    forged = jwt.encode(claims, "not-the-key-" + "x" * 40, algorithm="HS256")
    for previous in (forged, "garbage", first["token"][:-2]):
        status, _, body = call(url_event({"name": "Mallory", "token": previous}))
        assert status == 200
        assert body["clientIdPrefix"] != first["clientIdPrefix"]


def test_the_guest_session_ends_after_a_day(call) -> None:
    """A token whose session started a day ago no longer carries its principal on."""
    now = int(time.time())
    claims = {
        "iss": "test-issuer",
        "aud": "test-audience",
        "sub": "a" * 32,
        "name": "Old",
        "iat": now - 60,
        "nbf": now - 60,
        "exp": now + 3000,
        "sst": now - 86400 + 300,  # 5 minutes of session left: too short for a token
    }
    old = jwt.encode(claims, SECRET, algorithm="HS256")
    body = call(url_event({"name": "Old", "token": old}))[2]
    assert body["clientIdPrefix"] != "a" * 32
    claims["sst"] = now - 86400 + 1200  # 20 minutes left: the token ends with the session
    body = call(url_event({"name": "Old", "token": jwt.encode(claims, SECRET, algorithm="HS256")}))[
        2
    ]
    assert body["clientIdPrefix"] == "a" * 32
    assert body["expiresAt"] == claims["sst"] + 86400


@pytest.mark.parametrize("previous", [42, ["t"], {"token": "t"}])
def test_a_previous_token_that_is_not_a_token_string_is_refused(call, previous) -> None:
    status, _, body = call(url_event({"name": "Alice", "token": previous}))
    assert status == 400
    assert body["error"]["code"] == "bad_json"


def test_every_token_has_its_own_sub(call) -> None:
    subs = {call(url_event({"name": "Bob"}))[2]["clientIdPrefix"] for _ in range(5)}
    assert len(subs) == 5


def test_base64_body(call) -> None:
    status, _, body = call(url_event({"name": "Zo\u00eb \U0001f600"}, b64=True))
    assert status == 200
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["name"] == "Zo\u00eb \U0001f600"


def test_name_of_exactly_40_characters(call) -> None:
    assert call(url_event({"name": "x" * 40}))[0] == 200


@pytest.mark.parametrize(("setting", "lifetime"), [("7200", 7200), ("10", 600), ("999999", 86400)])
def test_token_lifetime(call, monkeypatch, setting, lifetime) -> None:
    monkeypatch.setenv("TOKEN_LIFETIME_SECONDS", setting)
    _, _, body = call(url_event({"name": "Alice"}))
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == lifetime


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", ""])
def test_wrong_method(call, method) -> None:
    """OPTIONS too: the function URL answers CORS preflights itself, so an OPTIONS that
    reaches the function is not one."""
    status, headers, body = call(url_event({"name": "Alice"}, method=method))
    assert status == 405
    assert_common_headers(headers)
    assert headers["Allow"] == "POST"
    assert body["error"]["code"] == "method_not_allowed"
    assert body["error"]["message"]


@pytest.mark.parametrize(
    ("event", "code"),
    [
        (url_event("{not json", raw=True), "bad_json"),
        (url_event("", raw=True), "bad_json"),
        (url_event(None), "bad_json"),
        (url_event(["Alice"]), "bad_json"),
        (url_event("Alice"), "bad_json"),
        (url_event("\xff\xfe", raw=True, b64=False), "bad_json"),
        (url_event("!!!not-base64!!!", raw=True) | {"isBase64Encoded": True}, "bad_json"),
        (url_event({}), "invalid_name"),
        (url_event({"nom": "Alice"}), "invalid_name"),
        (url_event({"name": ""}), "invalid_name"),
        (url_event({"name": "   "}), "invalid_name"),
        (url_event({"name": None}), "invalid_name"),
        (url_event({"name": 42}), "invalid_name"),
        (url_event({"name": ["Alice"]}), "invalid_name"),
        (url_event({"name": "x" * 41}), "invalid_name"),
        (url_event({"name": "Al\u0007ice"}), "invalid_name"),
        (url_event({"name": "Al\nice"}), "invalid_name"),
        (url_event({"name": "Al\u2028ice"}), "invalid_name"),
        (url_event('{"name": "\\ud800"}', raw=True), "invalid_name"),
    ],
    ids=lambda v: str(v)[:40] if isinstance(v, str) else None,
)
def test_bad_requests(call, event, code) -> None:
    status, headers, body = call(event)
    assert status == 400
    assert_common_headers(headers)
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


@pytest.mark.parametrize("b64", [False, True])
def test_oversize_body(call, b64) -> None:
    event = url_event({"name": "Alice", "pad": "x" * 5000}, b64=b64)
    status, headers, body = call(event)
    assert status == 413
    assert_common_headers(headers)
    assert body["error"]["code"] == "payload_too_large"


def test_multibyte_body_over_4k_bytes(call) -> None:
    # 1500 characters but 4500 bytes of UTF-8.
    status, _, body = call(url_event('{"name": "A", "pad": "' + "\u20ac" * 1500 + '"}', raw=True))
    assert status == 413
    assert body["error"]["code"] == "payload_too_large"


def test_secret_unavailable_is_a_500(mocked_aws, context, monkeypatch) -> None:
    monkeypatch.setenv("TOKEN_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x")
    response = guest_token.handler(url_event({"name": "Alice"}), context)
    assert response["statusCode"] == 500
    assert json.loads(response["body"])["error"]["code"] == "internal"
    assert response["headers"]["Cache-Control"] == "no-store"


# -- the per-source rate limit --------------------------------------------------------


def from_ip(ip: str) -> dict[str, Any]:
    event = url_event({"name": "Alice"})
    event["requestContext"]["http"]["sourceIp"] = ip
    return event


@pytest.fixture
def limited(call, tables, monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_TABLE", RATE_LIMIT_TABLE)
    monkeypatch.setenv("TOKEN_REQUESTS_PER_MINUTE", "3")
    return call


def test_a_source_gets_its_quota_then_429_with_retry_after(limited) -> None:
    assert [limited(from_ip("203.0.113.7"))[0] for _ in range(3)] == [200, 200, 200]
    status, headers, body = limited(from_ip("203.0.113.7"))
    assert status == 429 and body["error"]["code"] == "rate_limited"
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert limited(from_ip("198.51.100.1"))[0] == 200  # another source is not held back


def test_an_ipv6_slash_64_is_one_source(limited) -> None:
    for host in range(3):
        assert limited(from_ip(f"2001:db8:1:2::{host + 1}"))[0] == 200
    assert limited(from_ip("2001:db8:1:2:ffff::9"))[0] == 429
    assert limited(from_ip("2001:db8:1:3::1"))[0] == 200


def test_the_count_is_shared_by_every_instance(limited) -> None:
    """The count lives in the table: a fresh instance (no memory) still refuses."""
    for _ in range(3):
        limited(from_ip("203.0.113.8"))
    ratelimit.reset()
    assert limited(from_ip("203.0.113.8"))[0] == 429


def test_a_new_minute_starts_a_new_count(tables, monkeypatch) -> None:
    monkeypatch.setenv("RATE_LIMIT_TABLE", RATE_LIMIT_TABLE)
    monkeypatch.setenv("TOKEN_REQUESTS_PER_MINUTE", "1")
    minute = 29_000_000 * 60.0
    assert ratelimit.check("203.0.113.9", now=minute + 5).allowed
    refused = ratelimit.check("203.0.113.9", now=minute + 50)
    assert not refused.allowed and refused.retry_after == 10
    assert ratelimit.check("203.0.113.9", now=minute + 61).allowed


@pytest.mark.parametrize(
    ("ip", "source"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8::1", "2001:db8::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("", "unknown"),
        (None, "unknown"),
        ("not an address", "unknown"),
    ],
)
def test_sources(ip, source) -> None:
    assert ratelimit.source_of(ip) == source
