"""The token function URL on the emulator: the template's CORS, as a browser on another
origin (the CloudFront site in a deployment) meets it."""

from __future__ import annotations

import json
import urllib.request

from tests.support.emulator_process import EmulatorProcess

SITE = "https://d111111abcdef8.cloudfront.net"


def test_a_cross_origin_page_can_fetch_a_token(emulator: EmulatorProcess) -> None:
    url = f"{emulator.base_url}/api/token"
    preflight = urllib.request.Request(
        url,
        method="OPTIONS",
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    with urllib.request.urlopen(preflight, timeout=10) as resp:
        assert resp.status == 204
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert resp.headers["Access-Control-Allow-Methods"] == "POST"
        assert resp.headers["Access-Control-Allow-Headers"] == "content-type"
    post = urllib.request.Request(
        url,
        data=json.dumps({"name": "Alice"}).encode(),
        method="POST",
        headers={"Origin": SITE, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(post, timeout=10) as resp:
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert json.loads(resp.read())["clientIdPrefix"]
