"""Event and failure-record shapes, and reading partial batch responses."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from emulator.kinesis import failure_record, first_failed_index, kinesis_record

RECORDS = [
    {
        "SequenceNumber": str(100 + i),
        "PartitionKey": "room",
        "Data": f"m{i}".encode(),
        "ApproximateArrivalTimestamp": dt.datetime(2024, 1, 1, 0, 0, i, 250000, dt.UTC),
    }
    for i in range(4)
]


def test_kinesis_record_shape() -> None:
    stream = "arn:aws:kinesis:us-east-1:123456789012:stream/chat"
    record = kinesis_record(RECORDS[1], "shardId-000000000000", stream, "us-east-1", "role-arn")
    assert record == {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "room",
            "sequenceNumber": "101",
            "data": "bTE=",
            "approximateArrivalTimestamp": 1704067201.25,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": "shardId-000000000000:101",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "role-arn",
        "awsRegion": "us-east-1",
        "eventSourceARN": stream,
    }


def test_failure_record_shape() -> None:
    document = failure_record(
        records=RECORDS[1:3],
        shard_id="shardId-000000000000",
        stream_arn="arn:s",
        function_arn="arn:f",
        condition="RetryAttemptsExhausted",
        invoke_count=3,
        function_error="Unhandled",
    )
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert document["requestContext"]["approximateInvokeCount"] == 3
    assert document["responseContext"]["functionError"] == "Unhandled"
    assert document["KinesisBatchInfo"] == {
        "shardId": "shardId-000000000000",
        "startSequenceNumber": "101",
        "endSequenceNumber": "102",
        "approximateArrivalOfFirstRecord": "2024-01-01T00:00:01.250Z",
        "approximateArrivalOfLastRecord": "2024-01-01T00:00:02.250Z",
        "batchSize": 2,
        "streamArn": "arn:s",
    }


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (None, None),
        ({}, None),
        ({"batchItemFailures": []}, None),
        ({"batchItemFailures": [{"itemIdentifier": "102"}]}, 2),
        ({"batchItemFailures": [{"itemIdentifier": "103"}, {"itemIdentifier": "101"}]}, 1),
        ({"batchItemFailures": [{"itemIdentifier": "999"}]}, 0),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, 0),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, 0),
        ({"batchItemFailures": [{}]}, 0),
        ({"batchItemFailures": "102"}, 0),
        ("not a dict", 0),
    ],
)
def test_first_failed_index(response: Any, expected: int | None) -> None:
    assert first_failed_index(RECORDS, response) == expected
