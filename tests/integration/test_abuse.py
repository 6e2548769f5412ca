"""The token endpoint under a flood, with the template's own limits (not the raised
per-source quota the other tests run with): reserved concurrency makes the function URL
answer 429 as AWS does, and one address gets TokenRequestsPerMinute tokens at most."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from emulator.testing import EmulatorProcess
from stack.protection import TOKEN_REQUESTS_PER_MINUTE

FLOOD = 200
THREADS = 20


@pytest.fixture(scope="module")
def defaults_emulator() -> Iterator[EmulatorProcess]:
    proc = EmulatorProcess(
        ["--parameter", f"TokenRequestsPerMinute={TOKEN_REQUESTS_PER_MINUTE}"]
    ).start()
    try:
        yield proc
    finally:
        proc.stop()


def post_token(base_url: str, source: str = "127.0.0.1") -> tuple[int, dict[str, str], dict]:
    """POST /api/token from a given loopback address, with a foreign Origin."""
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(
        url.hostname, url.port, timeout=30, source_address=(source, 0)
    )
    try:
        conn.request(
            "POST",
            "/api/token",
            body=json.dumps({"name": "Flood"}),
            headers={"content-type": "application/json", "origin": "https://evil.example"},
        )
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        conn.close()


def test_a_flood_of_token_requests_is_throttled(defaults_emulator) -> None:
    base = defaults_emulator.base_url
    answers: list[tuple[int, dict[str, str], dict]] = []
    start = threading.Barrier(THREADS)

    def worker() -> None:
        start.wait()
        for _ in range(FLOOD // THREADS):
            answers.append(post_token(base))

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    first_minute = int(time.time() // 60)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The limit is per clock minute (chatlib.ratelimit): a flood across a minute's end
    # may have the limit once in each minute it touched.
    minutes = int(time.time() // 60) - first_minute + 1

    statuses = Counter(status for status, _, _ in answers)
    assert statuses[200] <= TOKEN_REQUESTS_PER_MINUTE * minutes, (statuses, minutes)
    assert statuses[200] + statuses[429] == FLOOD, statuses
    # Over the reserved concurrency: Lambda's own 429, before the function runs.
    lambda_429 = [a for a in answers if a[0] == 429 and a[2] == {"message": "Rate Exceeded."}]
    assert lambda_429 and lambda_429[0][1]["x-amzn-ErrorType"] == "ThrottlingException"
    # Over the address's quota: the function's 429, saying when to come back.
    quota_429 = [a for a in answers if a[0] == 429 and "error" in a[2]]
    assert quota_429 and quota_429[0][2]["error"]["code"] == "rate_limited"
    assert 1 <= int(quota_429[0][1]["Retry-After"]) <= 60

    # Another address is not held back by the first one's flood.
    status, _, body = post_token(base, source="127.0.0.2")
    assert status == 200 and body["token"]
