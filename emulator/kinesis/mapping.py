"""The Kinesis poller: one task per shard, batches in order, retries as Lambda does.

Per shard, records are delivered strictly in order: a batch is retried (from the
first failed record, or split in two on a function error) until it succeeds or
its retries run out, and only then does the shard move on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from emulator.kinesis.config import MappingConfig
from emulator.kinesis.events import failure_record, first_failed_index, kinesis_record

log = logging.getLogger("emulator.kinesis")

Invoke = Callable[[str, dict[str, Any]], Awaitable[Any]]
ClientFactory = Callable[[str], Any]
Segment = tuple[list[dict[str, Any]], int]  # records and failed attempts so far


class KinesisEventSourceMapping:
    """Poll a stream in moto and invoke a function with AWS-shaped Kinesis events.

    Each shard is polled once per second while it is idle, and again at once while
    GetRecords keeps returning records, as "Using AWS Lambda with Amazon Kinesis"
    (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html) says Lambda polls
    standard iterators ("at a base rate of once per second").
    """

    def __init__(
        self,
        config: MappingConfig,
        client: ClientFactory,
        invoke: Invoke,
        *,
        poll_interval: float = 1.0,
        retry_backoff: float = 0.2,
        max_backoff: float = 5.0,
    ) -> None:
        self.config = config
        self._kinesis = client("kinesis")
        self._client = client
        self._invoke = invoke
        self._function_arn = config.function_arn or config.function
        self._poll_interval = poll_interval
        self._retry_backoff = retry_backoff
        self._max_backoff = max_backoff
        self._tasks: list[asyncio.Task[None]] = []
        self.delivered = 0  # records processed (succeeded or sent to the destination)
        self.checkpoints: dict[str, str] = {}  # shard -> last record processed (emulator.state)

    async def start(self) -> None:
        """Take an iterator per shard at the starting position and begin polling."""
        shards = await asyncio.to_thread(self._list_shards)
        for shard_id in shards:
            iterator = await asyncio.to_thread(self._iterator, shard_id, None)
            task = asyncio.create_task(self._run_shard(shard_id, iterator))
            task.add_done_callback(self._report_crash)
            self._tasks.append(task)
        log.info(
            "mapping %s: %s -> %s (%d shards, %s)",
            self.config.logical_id or self.config.uuid,
            self.config.stream_name,
            self.config.function,
            len(shards),
            self.config.starting_position,
        )

    def _report_crash(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("mapping %s stopped", self.config.uuid, exc_info=task.exception())

    async def close(self) -> None:
        """Stop polling; an invocation in progress is cancelled."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def _list_shards(self) -> list[str]:
        shards: list[str] = []
        request: dict[str, Any] = {"StreamName": self.config.stream_name}
        while True:
            page = self._kinesis.list_shards(**request)
            shards += [s["ShardId"] for s in page["Shards"]]
            if not page.get("NextToken"):
                return shards
            request = {"NextToken": page["NextToken"]}

    def _iterator(self, shard_id: str, after_sequence: str | None) -> str:
        request: dict[str, Any] = {"StreamName": self.config.stream_name, "ShardId": shard_id}
        if after_sequence is not None:
            request.update(
                ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=after_sequence
            )
        elif self.config.starting_position == "AT_TIMESTAMP":
            request.update(
                ShardIteratorType="AT_TIMESTAMP", Timestamp=self.config.starting_timestamp
            )
        else:
            request["ShardIteratorType"] = self.config.starting_position
        return self._kinesis.get_shard_iterator(**request)["ShardIterator"]

    async def _run_shard(self, shard_id: str, iterator: str | None) -> None:
        """Fill a buffer from GetRecords, cut batches, deliver them one at a time."""
        buffer: list[dict[str, Any]] = []
        first_buffered = 0.0
        last_sequence: str | None = None
        size, window = self.config.batch_size, self.config.batching_window
        while True:
            if iterator is not None and len(buffer) < size:
                try:
                    page = await asyncio.to_thread(
                        self._kinesis.get_records, ShardIterator=iterator, Limit=10000
                    )
                except Exception as exc:
                    log.warning("mapping %s: GetRecords on %s: %s", self.config.uuid, shard_id, exc)
                    await asyncio.sleep(1.0)
                    iterator = await self._fresh_iterator(shard_id, last_sequence, iterator)
                    continue
                iterator = page.get("NextShardIterator")
                if page["Records"]:
                    if not buffer:
                        first_buffered = time.monotonic()
                    buffer += page["Records"]
                    last_sequence = buffer[-1]["SequenceNumber"]
            if not buffer:
                if iterator is None:
                    return  # the shard was closed and is drained
                await asyncio.sleep(self._poll_interval)
                continue
            waited = time.monotonic() - first_buffered
            if len(buffer) < size and waited < window and iterator is not None:
                await asyncio.sleep(min(self._poll_interval, window - waited))
                continue
            batch, buffer = buffer[:size], buffer[size:]
            first_buffered = time.monotonic()
            await self._deliver(shard_id, batch)
            self.checkpoints[shard_id] = batch[-1]["SequenceNumber"]

    async def _fresh_iterator(self, shard_id: str, after: str | None, current: str) -> str:
        """A new iterator after the last record read (iterators expire after 5 minutes)."""
        try:
            return await asyncio.to_thread(self._iterator, shard_id, after)
        except Exception as exc:
            log.warning("mapping %s: GetShardIterator on %s: %s", self.config.uuid, shard_id, exc)
            return current

    def _event(self, shard_id: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        c = self.config
        return {
            "Records": [
                kinesis_record(r, shard_id, c.stream_arn, c.region, c.invoke_identity_arn)
                for r in records
            ]
        }

    def _too_old(self, records: list[dict[str, Any]]) -> bool:
        if self.config.max_record_age < 0:
            return False
        arrival = records[0]["ApproximateArrivalTimestamp"]
        arrival = arrival.timestamp() if hasattr(arrival, "timestamp") else float(arrival)
        return time.time() - arrival > self.config.max_record_age

    async def _attempt(
        self, shard_id: str, records: list[dict[str, Any]]
    ) -> tuple[int | None, str | None]:
        """Invoke once; (index to retry from or None, functionError or None)."""
        try:
            response = await self._invoke(self.config.function, self._event(shard_id, records))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("mapping %s: %s failed: %s", self.config.uuid, self.config.function, exc)
            return 0, "Unhandled"
        if not self.config.report_batch_item_failures:
            return None, None
        return first_failed_index(records, response), None

    async def _deliver(self, shard_id: str, batch: list[dict[str, Any]]) -> None:
        """Deliver one batch completely: success, or retries exhausted and reported."""
        pending: deque[Segment] = deque([(batch, 0)])
        while pending:
            records, attempts = pending.popleft()
            if attempts and self._too_old(records):
                await self._give_up(shard_id, records, attempts, "RecordAgeExceeded", None)
                continue
            failed_at, function_error = await self._attempt(shard_id, records)
            if failed_at is None:
                self.delivered += len(records)
                continue
            if function_error and self.config.bisect_on_error and len(records) > 1:
                middle = len(records) // 2  # splitting does not count as a retry
                pending.appendleft((records[middle:], attempts))
                pending.appendleft((records[:middle], attempts))
                continue
            self.delivered += failed_at
            remaining, attempts = records[failed_at:], attempts + 1
            retries = self.config.max_retries
            if 0 <= retries < attempts:
                await self._give_up(
                    shard_id, remaining, attempts, "RetryAttemptsExhausted", function_error
                )
                continue
            pending.appendleft((remaining, attempts))
            await asyncio.sleep(min(self._retry_backoff * 2 ** (attempts - 1), self._max_backoff))

    async def _give_up(
        self,
        shard_id: str,
        records: list[dict[str, Any]],
        attempts: int,
        condition: str,
        function_error: str | None,
    ) -> None:
        self.delivered += len(records)
        document = failure_record(
            records=records,
            shard_id=shard_id,
            stream_arn=self.config.stream_arn,
            function_arn=self._function_arn,
            condition=condition,
            invoke_count=attempts,
            function_error=function_error,
        )
        destination = self.config.on_failure_arn
        log.warning(
            "mapping %s: dropping %d records of %s (%s)%s",
            self.config.uuid,
            len(records),
            shard_id,
            condition,
            f", sent to {destination}" if destination else "",
        )
        if destination:
            await asyncio.to_thread(self._send_failure, destination, document)

    def _send_failure(self, destination: str, document: dict[str, Any]) -> None:
        if ":sqs:" not in destination:
            log.warning("on-failure destination %s is not emulated: %s", destination, document)
            return
        # Lambda sends to the destination by its ARN with sqs:SendMessage alone; the URL is
        # built from the ARN, as looking it up (GetQueueUrl) would need another permission.
        region, account, name = destination.split(":")[3:6]
        url = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
        self._client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(document))
