"""The JSON Lambda sends and records for Kinesis: invoke events and on-failure records."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any


def _epoch(value: Any) -> float:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return float(value)


def _iso(value: Any) -> str:
    moment = dt.datetime.fromtimestamp(_epoch(value), dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def kinesis_record(
    record: dict[str, Any], shard_id: str, stream_arn: str, region: str, identity_arn: str
) -> dict[str, Any]:
    """One Records[] item of a Kinesis event, from a GetRecords record."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": base64.b64encode(record["Data"]).decode(),
            "approximateArrivalTimestamp": round(_epoch(record["ApproximateArrivalTimestamp"]), 3),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": identity_arn,
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


def failure_record(
    *,
    records: list[dict[str, Any]],
    shard_id: str,
    stream_arn: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    function_error: str | None,
) -> dict[str, Any]:
    """What Lambda sends to the OnFailure destination when it gives up on a batch."""
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if function_error:
        response["functionError"] = function_error
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": _iso(dt.datetime.now(dt.UTC)),
        "KinesisBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": records[0]["SequenceNumber"],
            "endSequenceNumber": records[-1]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _iso(records[0]["ApproximateArrivalTimestamp"]),
            "approximateArrivalOfLastRecord": _iso(records[-1]["ApproximateArrivalTimestamp"]),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }


def first_failed_index(records: list[dict[str, Any]], response: Any) -> int | None:
    """Where to retry from after a partial batch response; None when all succeeded.

    As Lambda does: an empty or null response or list is success; a malformed response
    or an identifier that is not in the batch fails the whole batch.
    """
    if response is None:
        return None
    if not isinstance(response, dict):
        return 0
    failures = response.get("batchItemFailures")
    if not failures:
        return None
    if not isinstance(failures, list):
        return 0
    positions = {r["SequenceNumber"]: i for i, r in enumerate(records)}
    indexes = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in positions:
            return 0
        indexes.append(positions[identifier])
    return min(indexes)
