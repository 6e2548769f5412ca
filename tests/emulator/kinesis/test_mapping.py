"""The Kinesis poller against moto: order, batches, partial failures, bisect, stop."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emulator.aws import AwsServices
from emulator.kinesis import (
    EventSourceMappings,
    KinesisEventSourceMapping,
    MappingConfig,
    mappings_from_template,
)
from emulator.lambda_runtime import FunctionConfig, FunctionError, LambdaRuntime
from emulator.template import load_template, template_from_dict

REPO = Path(__file__).resolve().parents[3]
CHAT_TEMPLATE = REPO / "templates" / "chat.json"
FAST = {"poll_interval": 0.02, "retry_backoff": 0.01}


class Recorder:
    """A fake function: records every event, fails as told."""

    def __init__(self, fail: Callable[[list[str]], Any] | None = None) -> None:
        self.batches: list[list[str]] = []
        self.succeeded: list[str] = []
        self._fail = fail

    async def __call__(self, function: str, event: dict[str, Any]) -> Any:
        data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
        self.batches.append(data)
        outcome = self._fail(data) if self._fail else None
        if isinstance(outcome, Exception):
            raise outcome
        if isinstance(outcome, int):  # index of the first failed record
            seq = event["Records"][outcome]["kinesis"]["sequenceNumber"]
            self.succeeded += data[:outcome]
            return {"batchItemFailures": [{"itemIdentifier": seq}]}
        self.succeeded += data
        return {"batchItemFailures": []}


def put(aws: AwsServices, stream_arn: str, items: list[str], key: str = "room") -> None:
    kinesis = aws.client("kinesis")
    name = stream_arn.split("/")[-1]
    for item in items:
        kinesis.put_record(StreamName=name, Data=item.encode(), PartitionKey=key)


async def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def make_config(stream_arn: str, **overrides: Any) -> MappingConfig:
    values: dict[str, Any] = {
        "function": "fn",
        "stream_arn": stream_arn,
        "starting_position": "TRIM_HORIZON",
        "invoke_identity_arn": "arn:aws:iam::123456789012:role/r",
        "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:fn",
    }
    values.update(overrides)
    return MappingConfig(**values)


async def test_records_arrive_in_order_in_batches(aws: AwsServices, make_stream: Any) -> None:
    stream = make_stream()
    items = [f"m{i}" for i in range(10)]
    put(aws, stream, items)
    captured: list[dict[str, Any]] = []
    recorder = Recorder()

    async def invoke(function: str, event: dict[str, Any]) -> Any:
        captured.append(event)
        return await recorder(function, event)

    mapping = KinesisEventSourceMapping(
        make_config(stream, batch_size=3), aws.client, invoke, **FAST
    )
    await mapping.start()
    try:
        await wait_for(lambda: len(recorder.succeeded) == 10)
    finally:
        await mapping.close()
    assert recorder.succeeded == items
    assert all(len(b) <= 3 for b in recorder.batches)
    record = captured[0]["Records"][0]
    assert record["eventSource"] == "aws:kinesis"
    assert record["eventName"] == "aws:kinesis:record"
    assert record["eventSourceARN"] == stream
    assert record["eventID"] == "shardId-000000000000:" + record["kinesis"]["sequenceNumber"]
    assert record["invokeIdentityArn"] == "arn:aws:iam::123456789012:role/r"
    assert record["awsRegion"] == "us-east-1"
    assert record["kinesis"]["partitionKey"] == "room"


async def test_latest_skips_earlier_records(aws: AwsServices, make_stream: Any) -> None:
    stream = make_stream()
    put(aws, stream, ["old"])
    recorder = Recorder()
    config = make_config(stream, starting_position="LATEST")
    mapping = KinesisEventSourceMapping(config, aws.client, recorder, **FAST)
    await mapping.start()
    try:
        put(aws, stream, ["new"])
        await wait_for(lambda: recorder.succeeded == ["new"])
    finally:
        await mapping.close()


async def test_batching_window_gathers_records(aws: AwsServices, make_stream: Any) -> None:
    stream = make_stream()
    recorder = Recorder()
    config = make_config(stream, batch_size=100, batching_window=0.6)
    mapping = KinesisEventSourceMapping(config, aws.client, recorder, **FAST)
    await mapping.start()
    try:
        for i in range(4):
            put(aws, stream, [f"m{i}"])
            await asyncio.sleep(0.05)
        await wait_for(lambda: len(recorder.succeeded) == 4)
    finally:
        await mapping.close()
    assert recorder.batches == [["m0", "m1", "m2", "m3"]]


async def test_without_a_window_each_poll_delivers_what_it_found(
    aws: AwsServices, make_stream: Any
) -> None:
    stream = make_stream()
    recorder = Recorder()
    mapping = KinesisEventSourceMapping(  # polled often here; AWS's base rate is 1/s
        make_config(stream, starting_position="LATEST"), aws.client, recorder, poll_interval=0.05
    )
    await mapping.start()  # LATEST is taken before start() returns
    try:
        put(aws, stream, ["a"])
        await wait_for(lambda: recorder.succeeded == ["a"])
        put(aws, stream, ["b"])
        await wait_for(lambda: recorder.succeeded == ["a", "b"])
    finally:
        await mapping.close()
    assert recorder.batches == [["a"], ["b"]]


async def test_partial_failure_retries_from_the_failed_record(
    aws: AwsServices, make_stream: Any
) -> None:
    stream = make_stream()
    items = [f"m{i}" for i in range(6)]
    put(aws, stream, items)
    failed_once: set[str] = set()

    def fail(data: list[str]) -> int | None:
        if "m3" in data and "m3" not in failed_once:
            failed_once.add("m3")
            return data.index("m3")
        return None

    recorder = Recorder(fail)
    config = make_config(stream, batch_size=10, report_batch_item_failures=True)
    mapping = KinesisEventSourceMapping(config, aws.client, recorder, **FAST)
    await mapping.start()
    try:
        await wait_for(lambda: len(recorder.succeeded) == 6)
    finally:
        await mapping.close()
    assert recorder.batches == [items, items[3:]]
    assert recorder.succeeded == items


async def test_poison_record_is_bisected_out_to_the_failure_queue(
    aws: AwsServices, make_stream: Any
) -> None:
    stream = make_stream()
    sqs = aws.client("sqs")
    queue = "q-" + uuid.uuid4().hex[:8]
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    queue_arn = f"arn:aws:sqs:us-east-1:123456789012:{queue}"
    put(aws, stream, ["a", "b", "poison", "c", "d"])

    def fail(data: list[str]) -> Exception | None:
        return FunctionError("fn", {"errorType": "ValueError"}) if "poison" in data else None

    recorder = Recorder(fail)
    config = make_config(
        stream,
        batch_size=10,
        bisect_on_error=True,
        max_retries=2,
        on_failure_arn=queue_arn,
    )
    mapping = KinesisEventSourceMapping(config, aws.client, recorder, **FAST)
    await mapping.start()
    try:
        await wait_for(lambda: recorder.succeeded == ["a", "b", "c", "d"])
        put(aws, stream, ["e", "f"])
        await wait_for(lambda: recorder.succeeded[-2:] == ["e", "f"])
    finally:
        await mapping.close()
    poison_calls = [b for b in recorder.batches if b == ["poison"]]
    assert len(poison_calls) == 3  # first try + MaximumRetryAttempts
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    document = json.loads(messages[0]["Body"])
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert document["requestContext"]["functionArn"].endswith(":function:fn")
    assert document["responseContext"]["functionError"] == "Unhandled"
    info = document["KinesisBatchInfo"]
    assert info["batchSize"] == 1 and info["streamArn"] == stream
    records = aws.client("kinesis").get_records(
        ShardIterator=aws.client("kinesis").get_shard_iterator(
            StreamName=stream.split("/")[-1],
            ShardId=info["shardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=info["startSequenceNumber"],
        )["ShardIterator"],
        Limit=1,
    )["Records"]
    assert records[0]["Data"] == b"poison"


async def test_order_is_kept_per_shard_across_shards(aws: AwsServices, make_stream: Any) -> None:
    stream = make_stream(3)
    for key in ("k1", "k2", "k3", "k4"):
        put(aws, stream, [f"{key}-{i}" for i in range(5)], key=key)
    recorder = Recorder()
    mapping = KinesisEventSourceMapping(
        make_config(stream, batch_size=2), aws.client, recorder, **FAST
    )
    await mapping.start()
    try:
        await wait_for(lambda: len(recorder.succeeded) == 20)
    finally:
        await mapping.close()
    for key in ("k1", "k2", "k3", "k4"):
        assert [d for d in recorder.succeeded if d.startswith(key)] == [
            f"{key}-{i}" for i in range(5)
        ]


async def test_close_stops_cleanly_during_an_invocation(aws: AwsServices, make_stream: Any) -> None:
    stream = make_stream()
    started = asyncio.Event()
    calls = 0

    async def slow(function: str, event: dict[str, Any]) -> None:
        nonlocal calls
        calls += 1
        started.set()
        await asyncio.sleep(30)

    mapping = KinesisEventSourceMapping(make_config(stream), aws.client, slow, **FAST)
    await mapping.start()
    put(aws, stream, ["x"])
    await asyncio.wait_for(started.wait(), 5)
    began = time.monotonic()
    await mapping.close()  # cancels the invocation and awaits every shard's poller
    assert time.monotonic() - began < 20  # not the invocation's 30 s
    assert calls == 1


async def test_with_the_real_runtime(aws: AwsServices, make_stream: Any, tmp_path: Path) -> None:
    (tmp_path / "consumer.py").write_text(
        "import base64\n"
        "def handler(event, context):\n"
        "    failures = []\n"
        "    for record in event['Records']:\n"
        "        if base64.b64decode(record['kinesis']['data']) == b'bad':\n"
        "            failures.append({'itemIdentifier': record['kinesis']['sequenceNumber']})\n"
        "            break\n"
        "        print('stored', base64.b64decode(record['kinesis']['data']).decode())\n"
        "    return {'batchItemFailures': failures}\n"
    )
    stream = make_stream()
    runtime = LambdaRuntime(
        [FunctionConfig(name="consumer", handler="consumer.handler", source_dir=tmp_path)]
    )
    config = make_config(
        stream, function="consumer", report_batch_item_failures=True, max_retries=1
    )
    mappings = EventSourceMappings([config], aws.client, runtime.invoke, **FAST)
    await mappings.start()
    try:
        put(aws, stream, ["one", "bad", "two"])
        await wait_for(lambda: mappings.mappings[0].delivered == 3)
    finally:
        await mappings.close()
        await runtime.close()


RAW: dict[str, Any] = {
    "Resources": {
        "Role": {"Type": "AWS::IAM::Role"},
        "ChatFunction": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": "chat",
                "Handler": "chat.handler",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            },
        },
        "ChatStream": {"Type": "AWS::Kinesis::Stream", "Properties": {"Name": "stream"}},
        "Failures": {"Type": "AWS::SQS::Queue"},
        "ChatStreamMapping": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "FunctionName": {"Ref": "ChatFunction"},
                "EventSourceArn": {"Fn::GetAtt": ["ChatStream", "Arn"]},
                "BatchSize": 50,
                "MaximumBatchingWindowInSeconds": 1,
                "StartingPosition": "LATEST",
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "BisectBatchOnFunctionError": True,
                "MaximumRetryAttempts": 3,
                "DestinationConfig": {
                    "OnFailure": {"Destination": {"Fn::GetAtt": ["Failures", "Arn"]}}
                },
            },
        },
        "QueueMapping": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "FunctionName": "chat",
                "EventSourceArn": {"Fn::GetAtt": ["Failures", "Arn"]},
            },
        },
    }
}


def test_config_from_template() -> None:
    (config,) = mappings_from_template(template_from_dict(RAW))
    assert config.function == "chat"
    assert config.function_arn == "arn:aws:lambda:us-east-1:123456789012:function:chat"
    assert config.stream_arn == "arn:aws:kinesis:us-east-1:123456789012:stream/stream"
    assert config.stream_name == "stream"
    assert (config.batch_size, config.batching_window) == (50, 1.0)
    assert config.report_batch_item_failures and config.bisect_on_error
    assert config.max_retries == 3
    assert config.on_failure_arn == "arn:aws:sqs:us-east-1:123456789012:local-Failures"
    assert config.invoke_identity_arn == "arn:aws:iam::123456789012:role/local-Role"
    assert config.starting_position == "LATEST"
    (trim,) = mappings_from_template(template_from_dict(RAW), starting_position="TRIM_HORIZON")
    assert trim.starting_position == "TRIM_HORIZON"


def test_real_chat_template_mapping() -> None:
    (config,) = mappings_from_template(load_template(CHAT_TEMPLATE))
    assert config.stream_name and config.function
    assert not mappings_from_template(load_template(CHAT_TEMPLATE, {"EnableStream": "false"}))
