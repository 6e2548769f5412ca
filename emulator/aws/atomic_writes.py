"""DynamoDB's conditional writes are atomic; moto's threaded server makes them so.

In DynamoDB a conditional PutItem, UpdateItem or DeleteItem checks its condition and
writes as one step: of two concurrent requests whose condition holds only for the
first, the second fails ("Conditional writes", Working with items and attributes,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalUpdate).
moto reads the item, evaluates the condition and stores the result as separate steps,
and its server answers requests on several threads, so two concurrent writes can both
pass: in a flood of token requests, two that both found no counter for the minute each
stored a count of 1, and the per-source limit let one request too many through (rosters
rely on conditional writes too). This WSGI middleware runs DynamoDB's item writes one
at a time; reads and every other service are untouched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

ITEM_WRITES = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)


class SerializedItemWrites:
    """Wraps a WSGI app; DynamoDB item writes go through one lock."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        service, _, operation = environ.get("HTTP_X_AMZ_TARGET", "").partition(".")
        if service.startswith("DynamoDB_") and operation in ITEM_WRITES:
            with self._lock:
                return list(self.app(environ, start_response))  # the whole answer, locked
        return self.app(environ, start_response)
