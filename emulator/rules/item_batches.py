"""The DynamoDBv2 action's writes, sent to DynamoDB a short window's worth at a time.

On AWS each DynamoDBv2 action is one PutItem made with the action's role. Profiling
the emulator under the chat's load showed that most of a stored message's cost was
the request around the write, not the write: boto3 building and signing it, and
moto's HTTP server, routing and response plumbing answering it. So items bound for
the same table within ``WINDOW`` seconds go to DynamoDB together in one
BatchWriteItem of at most 25 items (DynamoDB's limit per request). The action
authorizes each item as the PutItem it stands for before it joins a batch (see
``DynamoDBv2Action``), so the role's permissions are evaluated per message.

What each message sees is still PutItem's answer: its action completes once its own
item is written, and fails with the error PutItem gives for that item. BatchWriteItem
refuses a whole batch when one item is invalid (a missing key attribute, two items
with the same key), so such a batch is written again item by item with PutItem, in
arrival order (the later of two items with the same key wins, as with two PutItems),
and every item gets its own answer. Items returned as UnprocessedItems are written
with PutItem the same way. "BatchWriteItem",
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

WINDOW = 0.1  # seconds an item may wait for others; adds at most this to its write's latency
MAX_ITEMS = 25  # BatchWriteItem's limit

RunBlocking = Callable[..., Awaitable[Any]]


@dataclass
class _Pending:
    item: dict[str, Any]
    done: asyncio.Future[None]


@dataclass
class _Batch:
    table: str
    client: Callable[[], Any]  # a dynamodb client for authorized items (made off the loop)
    run_blocking: RunBlocking
    pending: list[_Pending] = field(default_factory=list)


class ItemBatches:
    """Open batches per table; ``put`` returns (or raises) when its item's write is done."""

    def __init__(self, window: float = WINDOW, max_items: int = MAX_ITEMS) -> None:
        self.window = window
        self.max_items = max_items
        self._open: dict[str, _Batch] = {}
        self._writing: set[asyncio.Task[None]] = set()

    async def put(
        self,
        table: str,
        item: dict[str, Any],
        client: Callable[[], Any],
        run_blocking: RunBlocking,
    ) -> None:
        """Write ``item`` (DynamoDB's attribute-value form) to ``table`` with the next batch."""
        loop = asyncio.get_running_loop()
        batch = self._open.get(table)
        if batch is None:
            batch = self._open[table] = _Batch(table, client, run_blocking)
            loop.call_later(self.window, self._close, batch)
        pending = _Pending(item, loop.create_future())
        batch.pending.append(pending)
        if len(batch.pending) >= self.max_items:
            self._close(batch)
        await pending.done

    def _close(self, batch: _Batch) -> None:
        """Stop filling ``batch`` and start writing it (once: the timer may fire after)."""
        if self._open.get(batch.table) is not batch:
            return
        del self._open[batch.table]
        task = asyncio.get_running_loop().create_task(_write(batch))
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)


async def _write(batch: _Batch) -> None:
    pending = batch.pending
    if len(pending) == 1:
        await _one_by_one(batch, pending)
        return
    requests = [{"PutRequest": {"Item": p.item}} for p in pending]
    try:
        answer = await batch.run_blocking(
            lambda: batch.client().batch_write_item(RequestItems={batch.table: requests})
        )
    except ClientError:  # the batch as a whole was refused: each item gets its own answer
        await _one_by_one(batch, pending)
        return
    except Exception as exc:  # no answer at all (connection): every item failed with it
        for p in pending:
            _settle(p, exc)
        return
    unprocessed = (answer.get("UnprocessedItems") or {}).get(batch.table) or []
    retry = [p for p, request in zip(pending, requests, strict=True) if request in unprocessed]
    for p in pending:
        if all(p is not r for r in retry):
            _settle(p, None)
    if retry:
        await _one_by_one(batch, retry)


async def _one_by_one(batch: _Batch, pending: list[_Pending]) -> None:
    """PutItem for each item in turn; each item's future gets its own result."""
    for p in pending:
        try:
            await batch.run_blocking(
                lambda item=p.item: batch.client().put_item(TableName=batch.table, Item=item)
            )
        except Exception as exc:
            _settle(p, exc)
        else:
            _settle(p, None)


def _settle(pending: _Pending, error: BaseException | None) -> None:
    if pending.done.done():  # the action gave up waiting (timed out or cancelled)
        return
    if error is None:
        pending.done.set_result(None)
    else:
        pending.done.set_exception(error)
