"""DynamoDB and Kinesis calls reach moto's own service apps; the rest moto's dispatcher."""

from __future__ import annotations

import json
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.test import Client

from emulator.aws.dispatch import DirectDispatch

AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0"
)


def call(app: Any, service: str, target: str, body: dict[str, Any]) -> Any:
    headers = {
        "X-Amz-Target": target,
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": AUTH.format(service),
    }
    return Client(app).post("/", data=json.dumps(body), headers=headers)


def test_known_targets_skip_the_dispatcher_and_answer_as_moto() -> None:
    dispatched: list[str] = []
    moto = DomainDispatcherApplication(create_backend_app)

    def fallback(environ: dict[str, Any], start_response: Any) -> Any:
        dispatched.append(environ.get("HTTP_X_AMZ_TARGET", ""))
        return moto(environ, start_response)

    app = DirectDispatch(fallback)
    created = call(
        app,
        "dynamodb",
        "DynamoDB_20120810.CreateTable",
        {
            "TableName": "dispatch-test",
            "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    assert created.status_code == 200, created.text
    direct = call(app, "dynamodb", "DynamoDB_20120810.ListTables", {})
    via_moto = call(moto, "dynamodb", "DynamoDB_20120810.ListTables", {})
    assert "dispatch-test" in json.loads(direct.text)["TableNames"]
    assert json.loads(direct.text) == json.loads(via_moto.text)  # one backend, one answer
    missing = call(app, "kinesis", "Kinesis_20131202.DescribeStream", {"StreamName": "none"})
    assert missing.status_code == 400
    assert json.loads(missing.text)["__type"] == "ResourceNotFoundException"
    assert dispatched == []
    secrets = call(app, "secretsmanager", "secretsmanager.ListSecrets", {})
    assert secrets.status_code == 200
    assert dispatched == ["secretsmanager.ListSecrets"]
    call(app, "dynamodb", "DynamoDB_20120810.DeleteTable", {"TableName": "dispatch-test"})
