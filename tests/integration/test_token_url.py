"""The token function URL on the emulator: the template's CORS, as a browser on another
origin (the CloudFront site in a deployment) meets it."""

from __future__ import annotations

import json
import urllib.request

from emulator.testing import EmulatorProcess
from tests.emulator.http.test_cors import SITE


def test_the_chat_site_can_fetch_a_token_across_origins(emulator: EmulatorProcess) -> None:
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
        assert resp.headers["Access-Control-Allow-Origin"] == SITE
        assert resp.headers["Access-Control-Allow-Methods"] == "POST"
        assert resp.headers["Access-Control-Allow-Headers"] == "content-type"
    post = urllib.request.Request(
        url,
        data=json.dumps({"name": "Alice"}).encode(),
        method="POST",
        headers={"Origin": SITE, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(post, timeout=10) as resp:
        assert resp.headers["Access-Control-Allow-Origin"] == SITE
        assert json.loads(resp.read())["clientIdPrefix"]


def test_another_site_gets_no_cors_grant(emulator: EmulatorProcess) -> None:
    """The browser refuses the answer, so another site cannot mint tokens for its visitors."""
    preflight = urllib.request.Request(
        f"{emulator.base_url}/api/token",
        method="OPTIONS",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    with urllib.request.urlopen(preflight, timeout=10) as resp:
        assert resp.status == 204
        assert resp.headers["Access-Control-Allow-Origin"] is None
