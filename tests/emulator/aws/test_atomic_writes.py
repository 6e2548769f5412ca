"""DynamoDB item writes reach moto one at a time (so a conditional write's check and
write are one step, as in DynamoDB); everything else stays concurrent."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from emulator.aws.atomic_writes import SerializedItemWrites


class SlowApp:
    """A WSGI app that takes a while and records how many calls overlap."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.02)  # moto's read, condition check and write
        with self.lock:
            self.running -= 1
        start_response("200 OK", [])
        return [b"{}"]


def overlap(target: str, calls: int = 8) -> int:
    app = SlowApp()
    wrapped = SerializedItemWrites(app)
    with ThreadPoolExecutor(max_workers=calls) as pool:
        answers = list(
            pool.map(
                lambda _: wrapped({"HTTP_X_AMZ_TARGET": target}, lambda *a: None), range(calls)
            )
        )
    assert all(list(a) == [b"{}"] for a in answers)
    return app.most


@pytest.mark.parametrize("operation", ["UpdateItem", "PutItem", "DeleteItem", "TransactWriteItems"])
def test_item_writes_do_not_overlap(operation: str) -> None:
    assert overlap(f"DynamoDB_20120810.{operation}") == 1


@pytest.mark.parametrize("target", ["DynamoDB_20120810.Query", "Kinesis_20131202.PutRecord", ""])
def test_other_requests_still_overlap(target: str) -> None:
    assert overlap(target) > 1
