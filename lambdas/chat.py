"""The chat function: commands from ``<root>/out`` (route rule, one command per call)
and from ``<root>/stream`` (Kinesis batches via the stream rule).

Kinesis batches are answered with ``{"batchItemFailures": [...]}`` (the event source
mapping needs ``FunctionResponseTypes: [ReportBatchItemFailures]``): a record whose
processing failed (e.g. DynamoDB or the data plane) is reported by sequence number;
records that are not JSON or not a valid command are logged and skipped (success).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chatlib import commands, metrics
from chatlib.log import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
        KinesisStreamRecord,
    )


def record_handler(record: KinesisStreamRecord) -> str:
    sequence = record.kinesis.sequence_number
    try:
        payload = json.loads(record.kinesis.data_as_bytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        logger.warning("skipping a stream record that is not JSON", extra={"sequence": sequence})
        metrics.refused("not_json")
        return "skipped"
    outcome = commands.handle_payload(payload)
    metrics.command(payload, outcome)
    return outcome


def process_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Powertools' partial batch response over ``record_handler``.

    Imported here, on the first Kinesis batch: the route rule's one-command invocations
    never need the batch utility, and it is a third of the handler's import time. When
    every record fails it answers with all of them rather than raising: the effect on
    the event source mapping is the same (retry from the first), and the answer stays a
    normal partial-batch response."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    processor = BatchProcessor(
        event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False
    )
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


def is_kinesis_event(event: Any) -> bool:
    if not isinstance(event, dict):
        return False
    records = event.get("Records")
    return isinstance(records, list) and all(
        isinstance(r, dict) and r.get("eventSource") == "aws:kinesis" for r in records
    )


@metrics.metrics.log_metrics
@logger.inject_lambda_context
def handler(event: Any, context: Any) -> dict[str, Any]:
    if is_kinesis_event(event):
        if not event["Records"]:
            return {"batchItemFailures": []}
        return process_batch(event, context)
    if not isinstance(event, dict):
        logger.warning("ignoring an event that is not a JSON object")
        metrics.refused("not_an_object")
        return {"outcome": "rejected"}
    outcome = commands.handle_payload(event)
    metrics.command(event, outcome)
    return {"outcome": outcome}
