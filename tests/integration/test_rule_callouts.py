"""The running emulator's rules call out while they are evaluated: get_dynamodb, get_secret
and aws_lambda reach the template's table, secret and function, as the roles the calls name
and the rule the function's permission names ("Functions",
https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html); a call that
is denied fails the evaluation, so the rule sends nothing. A device publishes over MQTT and
watches the republished results (issue 10)."""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from emulator.testing import EmulatorProcess
from tests.support.templates import (
    ACCOUNT,
    ENRICH_CODE,
    authorizer,
    devices_and_api_key,
    domain,
    function,
    permission,
    trust,
)

READER = f"arn:aws:iam::{ACCOUNT}:role/rule-reader"
PUBLISHER = f"arn:aws:iam::{ACCOUNT}:role/rule-publisher"  # may publish, may not read
ENRICH = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:enrich"

AUTHORIZER_CODE = """
import json

def handler(event, context):
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["iot:Connect", "iot:Publish", "iot:Subscribe", "iot:Receive"],
        "Resource": "*"}]}
    return {"isAuthenticated": True, "principalId": "device",
            "policyDocuments": [json.dumps(policy)],
            "disconnectAfterInSeconds": 3600, "refreshAfterInSeconds": 3600}
"""

# name -> IoT SQL (no database: S608 does not apply); each rule republishes to out/<name>
# as a role that may publish there.
RULES = {
    "dynamo_rule": f"SELECT id, get_dynamodb('devices', 'id', id, '{READER}').site AS site"  # noqa: S608
    " FROM 'dev/+'",
    "secret_rule": f"SELECT get_secret('api', 'SecretString', 'key', '{READER}') AS key"  # noqa: S608
    " FROM 'dev/+'",
    "lambda_rule": f"SELECT aws_lambda('{ENRICH}', {{'n': n}}).doubled AS doubled FROM 'dev/+'",  # noqa: S608
    "plain_rule": "SELECT id FROM 'dev/+'",
    # The role named cannot read the table: the evaluation fails, nothing is sent.
    "denied_rule": f"SELECT get_dynamodb('devices', 'id', id, '{PUBLISHER}') AS d FROM 'dev/+'",  # noqa: S608
    # The function's permission is for lambda_rule only.
    "other_rule": f"SELECT aws_lambda('{ENRICH}', {{'n': n}}) AS r FROM 'dev/+'",  # noqa: S608
}


def _iot_role(name: str, *statements: dict[str, Any]) -> dict[str, Any]:
    publish = {
        "Effect": "Allow",
        "Action": "iot:Publish",
        "Resource": f"arn:aws:iot:us-east-1:{ACCOUNT}:topic/out/*",
    }
    policy = {"Version": "2012-10-17", "Statement": [publish, *statements]}
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": name,
            "AssumeRolePolicyDocument": trust("iot.amazonaws.com"),
            "Policies": [{"PolicyName": "rule", "PolicyDocument": policy}],
        },
    }


def _rule(name: str, sql: str, role: str) -> dict[str, Any]:
    republish = {"Republish": {"Topic": f"out/{name}", "Qos": 0, "RoleArn": role}}
    return {
        "Type": "AWS::IoT::TopicRule",
        "Properties": {
            "RuleName": name,
            "TopicRulePayload": {
                "Sql": sql,
                "AwsIotSqlVersion": "2016-03-23",
                "Actions": [republish],
            },
        },
    }


def template() -> dict[str, Any]:
    reads = [
        {
            "Effect": "Allow",
            "Action": "dynamodb:GetItem",
            "Resource": {"Fn::GetAtt": ["Devices", "Arn"]},
        },
        {
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": {"Ref": "ApiKey"},
        },
    ]
    enrich = function({"ZipFile": ENRICH_CODE}, "FnRole")
    enrich["Properties"]["FunctionName"] = "enrich"
    rule_arn = f"arn:aws:iot:us-east-1:{ACCOUNT}:rule/lambda_rule"
    resources: dict[str, Any] = {
        **devices_and_api_key(),
        "ReaderRole": _iot_role("rule-reader", *reads),
        "PublisherRole": _iot_role("rule-publisher"),
        "FnRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": trust("lambda.amazonaws.com")},
        },
        "AuthFn": function({"ZipFile": AUTHORIZER_CODE}, "FnRole"),
        "AuthPermission": permission("AuthFn", "iot.amazonaws.com", "lambda:InvokeFunction"),
        "Authorizer": authorizer("AuthFn"),
        "Domain": domain(),
        "Enrich": enrich,
        "EnrichPermission": permission(
            "Enrich",
            "iot.amazonaws.com",
            "lambda:InvokeFunction",
            SourceArn=rule_arn,
            SourceAccount=ACCOUNT,
        ),
    }
    for name, sql in RULES.items():
        role = PUBLISHER if name == "denied_rule" else READER
        resources[name.title().replace("_", "")] = _rule(name, sql, role)
    return {"Resources": resources}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    path = tmp_path_factory.mktemp("callouts") / "template.json"
    path.write_text(json.dumps(template()))
    process = EmulatorProcess(template=path).start()
    try:
        process.aws_client("dynamodb").put_item(
            TableName="devices", Item={"id": {"S": "d1"}, "site": {"S": "plant-7"}}
        )
        yield process
    finally:
        process.stop()


class Device:
    """One MQTT client that publishes readings and receives what the rules send to out/#."""

    def __init__(self, emulator: EmulatorProcess) -> None:
        self.received: queue.Queue[tuple[str, Any]] = queue.Queue()
        events: queue.Queue[str] = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="device-1")
        self.client.username_pw_set("device", "any")
        self.client.on_connect = lambda c, u, f, rc, p: events.put(f"connack {rc.value}")
        self.client.on_subscribe = lambda c, u, mid, rcs, p: events.put("suback")
        self.client.on_message = lambda c, u, m: self.received.put(
            (m.topic, json.loads(m.payload) if m.payload else None)
        )
        self.client.connect("127.0.0.1", emulator.mqtt_port)
        self.client.loop_start()
        assert events.get(timeout=20) == "connack 0"
        self.client.subscribe("out/#", qos=0)
        assert events.get(timeout=10) == "suback"

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self.client.publish(topic, json.dumps(payload), qos=1).wait_for_publish(10)

    def collect(self, wanted: int, settle: float = 1.0, timeout: float = 30.0) -> dict[str, Any]:
        """What out/# received by topic: ``wanted`` messages, then ``settle`` s more."""
        got: dict[str, Any] = {}
        deadline = time.monotonic() + timeout
        while len(got) < wanted and time.monotonic() < deadline:
            try:
                topic, body = self.received.get(timeout=0.2)
            except queue.Empty:
                continue
            got[topic] = body
        end = time.monotonic() + settle
        while time.monotonic() < end:
            try:
                topic, body = self.received.get(timeout=0.1)
            except queue.Empty:
                continue
            got[topic] = body
        return got

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_rules_call_out_as_their_roles_and_for_themselves(emulator: EmulatorProcess) -> None:
    device = Device(emulator)
    try:
        device.publish("dev/1", {"id": "d1", "n": 21})
        got = device.collect(4)
    finally:
        device.close()
    assert got == {
        "out/dynamo_rule": {"id": "d1", "site": "plant-7"},  # the item enriches the republish
        "out/secret_rule": {"key": "s3cr3t"},
        "out/lambda_rule": {"doubled": 42},
        "out/plain_rule": {"id": "d1"},
        # denied_rule and other_rule sent nothing: their evaluation failed.
    }
    log = "\n".join(emulator.output)
    assert "rule denied_rule: get_dynamodb('devices')" in log
    assert "not authorized to perform: dynamodb:GetItem" in log
    assert "rule other_rule: aws_lambda(" in log


def test_a_missing_item_is_undefined_and_the_rest_is_sent(emulator: EmulatorProcess) -> None:
    device = Device(emulator)
    try:
        device.publish("dev/2", {"id": "nobody", "n": 1})
        got = device.collect(4)
    finally:
        device.close()
    assert got["out/dynamo_rule"] == {"id": "nobody"}
    assert got["out/lambda_rule"] == {"doubled": 2}
    assert "out/denied_rule" not in got and "out/other_rule" not in got
