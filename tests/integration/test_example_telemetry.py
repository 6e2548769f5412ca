"""The telemetry example (examples/telemetry), run by the same emulator with a real MQTT
client: a default authorizer for devices, a rule storing readings in DynamoDB, a rule
alerting through SNS (issue 10)."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import time
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from emulator.testing import EmulatorProcess
from examples.telemetry import build


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    process = EmulatorProcess(template=build.TEMPLATE).start()
    try:
        yield process
    finally:
        process.stop()


def test_the_committed_template_is_the_generated_one() -> None:
    assert build.TEMPLATE.read_text() == build.render(), "run python -m examples.telemetry.build"


class Device:
    """A device: MQTT 3.1.1 over TCP, its id as user name, its derived password."""

    def __init__(self, emulator: EmulatorProcess, device: str, password: str) -> None:
        self.connack: queue.Queue[int] = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device)
        self.client.username_pw_set(device, password)
        self.client.on_connect = lambda c, u, f, rc, p: self.connack.put(rc.value)
        self.client.connect("127.0.0.1", emulator.mqtt_port)
        self.client.loop_start()

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self.client.publish(topic, json.dumps(payload), qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _password(emulator: EmulatorProcess, device: str) -> str:
    secrets = emulator.aws_client("secretsmanager")
    arn = next(s["ARN"] for s in secrets.list_secrets()["SecretList"] if "FleetKey" in s["Name"])
    key = secrets.get_secret_value(SecretId=arn)["SecretString"].encode()
    return hmac.new(key, device.encode(), hashlib.sha256).hexdigest()


def _alerts_queue(emulator: EmulatorProcess) -> str:
    """An SQS queue subscribed to the alert topic, to watch what the rule sends."""
    sns, sqs = emulator.aws_client("sns"), emulator.aws_client("sqs")
    topic = next(
        t["TopicArn"] for t in sns.list_topics()["Topics"] if "AlertTopic" in t["TopicArn"]
    )
    url = sqs.create_queue(QueueName="alerts-watch")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    return url


def _readings(emulator: EmulatorProcess, device: str, count: int) -> list[dict[str, Any]]:
    ddb = emulator.aws_client("dynamodb")
    table = next(n for n in ddb.list_tables()["TableNames"] if "ReadingsTable" in n)
    deadline = time.monotonic() + 20
    while True:
        items = ddb.query(
            TableName=table,
            KeyConditionExpression="device = :d",
            ExpressionAttributeValues={":d": {"S": device}},
        )["Items"]
        if len(items) >= count or time.monotonic() > deadline:
            return items
        time.sleep(0.1)


def test_devices_connect_through_the_default_authorizer(emulator: EmulatorProcess) -> None:
    good = Device(emulator, "sensor1", _password(emulator, "sensor1"))
    bad = Device(emulator, "sensor2", _password(emulator, "sensor1"))  # another device's
    try:
        assert good.connack.get(timeout=20) == 0
        assert bad.connack.get(timeout=20) == 135  # paho's name for CONNACK 5
    finally:
        good.close()
        bad.close()


def test_readings_are_stored_and_hot_ones_alerted(emulator: EmulatorProcess) -> None:
    alerts = _alerts_queue(emulator)
    device = Device(emulator, "sensor3", _password(emulator, "sensor3"))
    try:
        assert device.connack.get(timeout=20) == 0
        device.publish("telemetry/sensor3", {"temperature": 21.5, "humidity": 40})
        device.publish("telemetry/sensor3", {"temperature": 63})
        items = _readings(emulator, "sensor3", 2)
        assert sorted(float(i["temperature"]["N"]) for i in items) == [21.5, 63.0]
        assert all("ts" in i for i in items)
        sqs = emulator.aws_client("sqs")
        received: list[dict[str, Any]] = []
        deadline = time.monotonic() + 20
        while not received and time.monotonic() < deadline:
            messages = sqs.receive_message(QueueUrl=alerts, WaitTimeSeconds=1).get("Messages", [])
            received += [json.loads(m["Body"]) for m in messages]
        # Only the hot reading: the cool one was stored before it and never alerted.
        assert received == [{"device": "sensor3", "temperature": 63}]
    finally:
        device.close()


def test_a_device_may_publish_only_its_own_telemetry(emulator: EmulatorProcess) -> None:
    device = Device(emulator, "sensor4", _password(emulator, "sensor4"))
    try:
        assert device.connack.get(timeout=20) == 0
        device.client.publish("telemetry/sensor5", json.dumps({"temperature": 99}), qos=1)
    finally:
        device.close()
    # The refused publish reaches no rule: once a later, allowed reading is stored,
    # sensor5 still has none.
    other = Device(emulator, "sensor4", _password(emulator, "sensor4"))
    try:
        assert other.connack.get(timeout=20) == 0
        other.publish("telemetry/sensor4", {"temperature": 2})
        assert [i["temperature"]["N"] for i in _readings(emulator, "sensor4", 1)] == ["2"]
        assert _readings(emulator, "sensor5", 0) == []
    finally:
        other.close()
