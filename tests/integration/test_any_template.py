"""The emulator on templates that are not the chat's: a default authorizer only, several
function URLs, code inline or from a mapped S3 location (issue 10).

AWS behaviour followed: "AuthorizerConfig"
(https://docs.aws.amazon.com/iot/latest/apireference/API_AuthorizerConfig.html); function
URLs, "Invoking Lambda function URLs"
(https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html) and "Control access to
Lambda function URLs" (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html);
inline code in index.py, "AWS::Lambda::Function Code"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-function-code.html).
"""

from __future__ import annotations

import json
import queue
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from emulator.testing import EmulatorProcess
from tests.support.templates import authorizer, domain, function, permission, trust

AUTHORIZER_CODE = """
import json

def handler(event, context):
    ok = event.get("protocolData", {}).get("mqtt", {}).get("username") == "device"
    arn = "arn:aws:iot:us-east-1:123456789012"
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": arn + ":client/*"}]}
    return {"isAuthenticated": ok, "principalId": "device", "policyDocuments": [json.dumps(policy)],
            "disconnectAfterInSeconds": 3600, "refreshAfterInSeconds": 3600}
"""

ECHO_CODE = """
import json

def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(
        {"who": "%s", "path": event["rawPath"], "version": event["version"]})}
"""


def _function(code: dict[str, Any], handler: str = "index.handler") -> dict[str, Any]:
    return function(code, "Role", handler)


def _url(function: str, **props: Any) -> dict[str, Any]:
    target = {"TargetFunctionArn": {"Fn::GetAtt": [function, "Arn"]}}
    return {"Type": "AWS::Lambda::Url", "Properties": {"AuthType": "NONE", **target, **props}}


def template() -> dict[str, Any]:
    """A default authorizer, three function URLs, inline and S3 code, nothing of the chat."""
    return {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {"AssumeRolePolicyDocument": trust("lambda.amazonaws.com")},
            },
            "AuthFn": _function({"ZipFile": AUTHORIZER_CODE}),
            "AuthPermission": permission("AuthFn", "iot.amazonaws.com", "lambda:InvokeFunction"),
            "DeviceAuthorizer": authorizer("AuthFn"),
            "Domain": domain(AllowAuthorizerOverride=False),
            "AlphaFn": {
                **_function({"ZipFile": ECHO_CODE % "alpha"}),
                "Properties": {
                    **_function({"ZipFile": ECHO_CODE % "alpha"})["Properties"],
                    "Architectures": ["arm64"],
                },
            },
            "BetaFn": _function({"S3Bucket": "code-bucket", "S3Key": "beta.zip"}, "beta.handler"),
            "AlphaUrl": _url(
                "AlphaFn",
                Cors={"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET"]},
            ),
            "BetaUrl": _url("BetaFn"),
            "IamUrl": _url("AlphaFn", AuthType="AWS_IAM"),
            "GammaFn": _function({"ZipFile": ECHO_CODE % "gamma"}),
            "GammaUrl": _url("GammaFn"),
            "BetaUrlPermission": permission(
                "BetaFn", "*", "lambda:InvokeFunctionUrl", FunctionUrlAuthType="NONE"
            ),
            "BetaInvokePermission": permission("BetaFn", "*", "lambda:InvokeFunction"),
            "AlphaUrlPermission": permission(
                "AlphaFn", "*", "lambda:InvokeFunctionUrl", FunctionUrlAuthType="NONE"
            ),
            "AlphaInvokePermission": permission("AlphaFn", "*", "lambda:InvokeFunction"),
            "Alarm": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {"DashboardBody": "{}"}},
        },
        "Outputs": {"AlphaUrl": {"Value": {"Fn::GetAtt": ["AlphaUrl", "FunctionUrl"]}}},
    }


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    work = tmp_path_factory.mktemp("any-template")
    path = work / "template.json"
    path.write_text(json.dumps(template()))
    with zipfile.ZipFile(work / "beta.zip", "w") as zf:
        zf.writestr("beta.py", ECHO_CODE % "beta")
    args = [
        "--code",
        f"s3://code-bucket/beta.zip={work / 'beta.zip'}",
        "--function-url-path",
        "BetaUrl=/beta/",
        "--site-config",
        "alpha=AlphaUrl",
    ]
    process = EmulatorProcess(args, template=path).start()
    try:
        yield process
    finally:
        process.stop()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _connect(emulator: EmulatorProcess, username: str) -> int:
    """CONNACK return code of a plain MQTT connect that names no authorizer."""
    codes: queue.Queue[int] = queue.Queue()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{username}-1")
    client.username_pw_set(username, "secret")
    client.on_connect = lambda c, u, f, rc, p: codes.put(rc.value)
    client.connect("127.0.0.1", emulator.mqtt_port)
    client.loop_start()
    try:
        return codes.get(timeout=15)
    finally:
        client.disconnect()
        client.loop_stop()


def test_every_function_url_is_served_at_its_path(emulator: EmulatorProcess) -> None:
    status, _, body = _get(f"{emulator.base_url}/lambda-url/AlphaUrl/some/path?x=1")
    assert status == 200
    assert json.loads(body) == {"who": "alpha", "path": "/some/path", "version": "2.0"}
    # From the S3 location mapped to a local zip, at the path the command line gave.
    status, _, body = _get(f"{emulator.base_url}/beta/")
    assert status == 200 and json.loads(body)["who"] == "beta"
    assert _get(f"{emulator.base_url}/lambda-url/BetaUrl/")[0] == 404


def test_function_url_cors_and_permissions(emulator: EmulatorProcess) -> None:
    _, headers, _ = _get(
        f"{emulator.base_url}/lambda-url/AlphaUrl/", {"Origin": "https://app.example"}
    )
    assert headers.get("Access-Control-Allow-Origin") == "https://app.example"
    _, headers, _ = _get(
        f"{emulator.base_url}/lambda-url/AlphaUrl/", {"Origin": "https://evil.example"}
    )
    assert "Access-Control-Allow-Origin" not in headers
    # GammaFn's policy does not let the public call its URL: Lambda answers 403.
    status, _, body = _get(f"{emulator.base_url}/lambda-url/GammaUrl/")
    assert status == 403 and b"Forbidden" in body
    # AWS_IAM: an unsigned request never reaches the function.
    status, _, body = _get(f"{emulator.base_url}/lambda-url/IamUrl/")
    assert status == 403 and b"Forbidden" in body


def test_config_json_and_outputs_use_the_mount_path(emulator: EmulatorProcess) -> None:
    config = emulator.config()
    assert config["alpha"] == f"{emulator.base_url}/lambda-url/AlphaUrl/"
    assert config["mqttUrl"].endswith("/mqtt")


def test_the_default_authorizer_serves_clients_that_name_none(emulator: EmulatorProcess) -> None:
    assert _connect(emulator, "device") == 0
    assert _connect(emulator, "intruder") == 135  # paho reports CONNACK 5 as 135, not authorized


def test_startup_report_names_emulated_skipped_and_ignored(emulator: EmulatorProcess) -> None:
    log = "\n".join(emulator.output)
    assert "AWS::CloudWatch::Dashboard" in log and "skipped" in log
    ignored = next(line for line in emulator.output if "ignored properties:" in line)
    assert "AlphaFn.Architectures" in ignored and "AuthFn" not in ignored
    assert "default: devices (override not allowed)" in log
    assert "function URL BetaUrl (AuthType NONE): /beta/" in log
