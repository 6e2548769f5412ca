"""A function's reserved concurrency, as Lambda enforces it on synchronous callers.

With ReservedConcurrentExecutions = N, an invocation that would be the N+1th running at
once is throttled, and so is any beyond 10 x N in one second: "Whenever your function
concurrency exceeds the reserved concurrency, your function URL returns an HTTP 429
status code. If your function receives a request that exceeds the 10x RPS maximum based
on your configured reserved concurrency, you also receive an HTTP 429 error" ("Creating
and managing Lambda function URLs", Throttling function URLs,
https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html#urls-throttling).

Synchronous callers are refused at once (the function URL answers 429, IoT Core refuses
the connection whose authorizer is throttled); asynchronous invocations wait in
LambdaRuntime's queue instead, as Lambda's internal queue holds throttled events.
A function without reserved concurrency is not throttled here (the account's 1,000 is
not modelled).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
RPS_PER_CONCURRENCY = 10


class Throttled(Exception):
    """The invocation was refused (TooManyRequestsException)."""


class Throttle:
    """Admits synchronous invocations of one function within its reserved concurrency."""

    def __init__(self, reserved: int | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.reserved = reserved
        self.clock = clock
        self.in_flight = 0
        self.throttled = 0  # refusals so far (Lambda's Throttles metric)
        self._recent: deque[float] = deque()  # start times within the last second

    def _admit(self) -> bool:
        if self.reserved is None:
            return True
        now = self.clock()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if self.in_flight >= self.reserved or len(self._recent) >= (
            RPS_PER_CONCURRENCY * self.reserved
        ):
            self.throttled += 1
            return False
        self._recent.append(now)
        return True

    async def run(self, call: Callable[[], Awaitable[T]]) -> T:
        """Run ``call`` as one invocation, or raise Throttled without running it."""
        if not self._admit():
            raise Throttled(f"Rate Exceeded. (reserved concurrency {self.reserved})")
        self.in_flight += 1
        try:
            return await call()
        finally:
            self.in_flight -= 1


def reserved_concurrency(value: object) -> int | None:
    """ReservedConcurrentExecutions from a template (a number or its string), or None."""
    if value is None or value == "":
        return None
    return max(0, int(str(value)))
