"""`python -m emulator`: what a user sees when starting and stopping it."""

from __future__ import annotations

import json
import socket
import subprocess

from emulator.testing import EmulatorProcess
from tests.support.commands import ROOT, run_module
from tests.support.ports import port_is_free


def test_prints_one_url_and_stops_cleanly_on_ctrl_c() -> None:
    emulator = EmulatorProcess().start()
    try:
        assert emulator.guest_token("Alice")["token"]  # the functions answer
    finally:
        emulator.stop()
    output = "\n".join(emulator.output)
    assert emulator.returncode == 0, output
    assert f"Running at {emulator.base_url}/lobby" in output
    assert "emulated AWS::IoT::TopicRule" in output
    assert "skipped  AWS::CloudFront::Distribution" in output
    assert "skipped  AWS::KMS::Key" in output
    # Observability (stack/observability.py): alarms, dashboard and metric filter are
    # AWS's alone, reported as skipped; the alarm topic is an SNS topic in moto.
    for kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard", "AWS::Logs::MetricFilter"):
        assert f"skipped  {kind}" in output
    assert "emulated AWS::SNS::Topic                       1  (moto) AlarmTopic" in output
    # The token function's business metric, as an EMF line in its log (chatlib.metrics).
    emf = [json.loads(line.split("] ", 1)[1]) for line in emulator.output if '"_aws"' in line]
    assert [d["TokensIssued"] for d in emf if "TokensIssued" in d] == [[1.0]]
    assert {d["_aws"]["CloudWatchMetrics"][0]["Namespace"] for d in emf} == {"ServerlessChat/local"}
    assert "emulated AWS::IAM::Role                        8  (moto IAM, enforced)" in output
    assert "IAM: enforced (8 roles; --no-iam turns it off)" in output
    assert "Traceback" not in output, output
    for port in (emulator.port, emulator.mqtt_port, emulator.aws_port):
        assert port_is_free(port), f"port {port} still in use after Ctrl-C"
    workers = subprocess.run(
        ["pgrep", "-f", f"emulator.lambda_runtime.worker.*{emulator.port}"],
        capture_output=True,
        text=True,
    )
    assert workers.stdout == ""


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_module("emulator", *args)


def test_missing_template_is_a_clear_error(tmp_path) -> None:
    done = run_cli("--template", str(tmp_path / "nope.json"))
    assert done.returncode == 2
    assert "template not found" in done.stderr and "make template" in done.stderr


def test_invalid_parameter_is_a_clear_error() -> None:
    done = run_cli("--parameter", "TopicRoot=no/slashes", "--port", "1", "--mqtt-port", "1")
    assert done.returncode == 2
    assert "TopicRoot" in done.stderr
    assert "Traceback" not in done.stderr


def test_broken_template_is_a_clear_error(tmp_path) -> None:
    broken = tmp_path / "broken.json"
    function = {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "app.handler"}}
    broken.write_text(json.dumps({"Resources": {"Fn": function}}))
    done = run_cli("--template", str(broken), "--port", "1", "--mqtt-port", "1")
    assert done.returncode == 2
    assert "Fn: no code the emulator can find" in done.stderr
    assert "Traceback" not in done.stderr


def test_busy_port_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        other = EmulatorProcess()
        done = run_cli("--port", str(port), "--mqtt-port", str(other.mqtt_port))
    assert done.returncode == 1
    assert "PORT" in done.stderr and "Traceback" not in done.stderr


def test_a_role_lambda_cannot_assume_is_a_clear_error(tmp_path) -> None:
    """As CloudFormation's CreateFunction fails when the role does not trust Lambda."""
    template = json.loads((ROOT / "templates" / "chat.json").read_text())
    trust = template["Resources"]["ChatFunctionRole"]["Properties"]["AssumeRolePolicyDocument"]
    trust["Statement"][0]["Principal"] = {"Service": "iot.amazonaws.com"}
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(template))
    other = EmulatorProcess()
    done = run_cli(
        "--template", str(path), "--port", str(other.port), "--mqtt-port", str(other.mqtt_port)
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "ChatFunction: role arn:aws:iam::123456789012:role/local-ChatFunctionRole" in done.stderr
    assert "cannot be assumed by lambda.amazonaws.com" in done.stderr
    assert "Traceback" not in done.stderr
