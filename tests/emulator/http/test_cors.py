"""The token URL's CORS: the template's configuration, applied in front of the function."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.http.cors import CorsConfig, is_preflight
from emulator.template import load_template
from tests.emulator.http.test_http import get
from tests.emulator.iot.harness import Harness

TEMPLATE = Path(__file__).resolve().parents[3] / "templates" / "chat.json"
OTHER_SITE = "https://evil.example"


def template_cors() -> CorsConfig:
    url = next(load_template(TEMPLATE).resources(type="AWS::Lambda::Url"))
    config = CorsConfig.from_properties(url.properties.get("Cors"))
    assert config is not None
    return config


# The chat's own CloudFront site, as the emulator names it from the template.
SITE = template_cors().allow_origins[0]
PREFLIGHT = {"Origin": SITE, "Access-Control-Request-Method": "POST"}


def test_the_template_lets_only_the_chat_site_post_json() -> None:
    """What the browser client needs from the token URL, from templates/chat.json."""
    cors = template_cors()
    assert cors.allow_origins == (SITE,) and SITE.endswith(".cloudfront.net")
    assert cors.preflight_headers(SITE) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "content-type",
        "Access-Control-Max-Age": "600",
    }
    assert cors.response_headers(SITE) == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Expose-Headers": "retry-after",
    }
    assert cors.preflight_headers(OTHER_SITE) == {}
    assert cors.response_headers(OTHER_SITE) == {}


def test_listed_origins_only() -> None:
    cors = CorsConfig.from_properties(
        {
            "AllowOrigins": ["https://a.example", "http://localhost:60905"],
            "AllowMethods": ["POST", "GET"],
            "ExposeHeaders": ["X-Request-Id"],
            "AllowCredentials": True,
        }
    )
    assert cors is not None
    assert cors.allowed_origin("HTTPS://A.example") == "HTTPS://A.example"
    assert cors.preflight_headers("https://b.example") == {}
    assert cors.response_headers("https://b.example") == {}
    assert cors.response_headers(None) == {}
    assert cors.response_headers("http://localhost:60905") == {
        "Access-Control-Allow-Origin": "http://localhost:60905",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Expose-Headers": "X-Request-Id",
    }
    assert cors.preflight_headers("https://a.example")["Access-Control-Max-Age"] == "0"


def test_no_cors_property_means_no_cors() -> None:
    assert CorsConfig.from_properties(None) is None
    assert CorsConfig.from_properties({}) is None


@pytest.mark.parametrize(
    ("method", "headers", "expected"),
    [
        ("OPTIONS", PREFLIGHT, True),
        ("OPTIONS", {"Origin": SITE}, False),
        ("OPTIONS", {"Access-Control-Request-Method": "POST"}, False),
        ("POST", PREFLIGHT, False),
    ],
)
def test_what_a_preflight_is(method: str, headers: dict[str, str], expected: bool) -> None:
    assert is_preflight(method, headers) is expected


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Harness]:
    (tmp_path / "index.html").write_text("<!doctype html><title>chat</title>")
    h = Harness(web_root=tmp_path, token_cors=template_cors()).start()
    try:
        yield h
    finally:
        h.stop()


def test_a_preflight_is_answered_without_the_function(served: Harness) -> None:
    status, headers, body = get(served, "/api/token", method="OPTIONS", headers=PREFLIGHT)
    assert (status, body) == (204, b"")
    assert headers["Access-Control-Allow-Methods"] == "POST"
    assert headers["Access-Control-Allow-Headers"] == "content-type"
    assert served.token_events == []


def test_the_configuration_wins_over_the_function(served: Harness) -> None:
    served.token_result = {
        "statusCode": 200,
        "headers": {"Access-Control-Allow-Origin": OTHER_SITE},
        "body": json.dumps({"token": "t"}),
    }
    status, headers, _ = get(
        served, "/api/token", data=b"{}", method="POST", headers={"Origin": SITE}
    )
    assert status == 200 and headers["Access-Control-Allow-Origin"] == SITE
    assert len(served.token_events) == 1


def test_an_options_that_is_no_preflight_reaches_the_function(served: Harness) -> None:
    served.token_result = {"statusCode": 405, "body": "{}"}
    assert get(served, "/api/token", method="OPTIONS", headers={"Origin": SITE})[0] == 405
    assert served.token_events[-1]["requestContext"]["http"]["method"] == "OPTIONS"
