"""A count of the writes IAM has taken, so that cached role policies can be kept until
IAM changes instead of being read again every few seconds.

Every IAM request reaches moto through the IAM gate (emulator.aws.iam.gate), whoever
signs it: the emulator's provisioning, tests, your own tools. The gate counts those
that are not reads and answers ``GET /__emulator__/iam-version`` with the count, for
the emulator's own process (emulator.aws.iam.access), which reads the same policies.
This route is the emulator's, not AWS's.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from urllib.parse import parse_qs

VERSION_PATH = "/__emulator__/iam-version"
READ_PREFIXES = ("Get", "List", "Simulate")  # IAM's operations that change nothing


class IamChanges:
    """The number of IAM writes seen so far (thread-safe)."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        return self._count

    def written(self) -> None:
        with self._lock:
            self._count += 1

    @staticmethod
    def is_write(query: str, body: bytes) -> bool:
        """Whether an IAM (query protocol) request, by its Action, may change IAM."""
        params = parse_qs(query) if query else {}
        if body:
            params.update(parse_qs(body.decode("utf-8", "replace")))
        action = (params.get("Action") or [""])[0]
        return not action.startswith(READ_PREFIXES)

    def answer(self) -> bytes:
        """The body of the version route."""
        return json.dumps({"version": self._count}).encode()


def remote_version(endpoint_url: str, timeout: float = 2.0) -> int | None:
    """IAM's version as the gate at ``endpoint_url`` counts it (None if it cannot say)."""
    with urllib.request.urlopen(endpoint_url + VERSION_PATH, timeout=timeout) as answer:  # noqa: S310 (the emulator's own loopback endpoint)
        version = json.load(answer).get("version")
    return version if isinstance(version, int) else None
