"""`python -m emulator sql --template`: get_dynamodb, get_secret and aws_lambda reach a
template's table, secret and function, as the roles and permissions the template gives
("Functions", https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html:
get_dynamodb, get_secret, aws_lambda)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.commands import ROOT
from tests.support.templates import (
    ACCOUNT,
    ENRICH_CODE,
    devices_and_api_key,
    function,
    permission,
    trust,
)


def _role(action: str, resource: Any) -> dict[str, Any]:
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
    }
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": f"read-{action.split(':')[1]}",
            "AssumeRolePolicyDocument": trust("iot.amazonaws.com"),
            "Policies": [{"PolicyName": "p", "PolicyDocument": policy}],
        },
    }


def _enrich() -> dict[str, Any]:
    enrich = function({"ZipFile": ENRICH_CODE}, "FnRole")
    enrich["Properties"]["FunctionName"] = "enrich"
    return enrich


TEMPLATE = {
    "Resources": {
        **devices_and_api_key(),
        "ReadDevices": _role("dynamodb:GetItem", {"Fn::GetAtt": ["Devices", "Arn"]}),
        "ReadSecret": _role("secretsmanager:GetSecretValue", {"Ref": "ApiKey"}),
        "FnRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": trust("lambda.amazonaws.com")},
        },
        "Enrich": _enrich(),
        "EnrichPermission": permission(
            "Enrich",
            "iot.amazonaws.com",
            "lambda:InvokeFunction",
            SourceArn=f"arn:aws:iot:us-east-1:{ACCOUNT}:rule/enrich_rule",
        ),
    }
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("tester")
    template = work / "template.json"
    template.write_text(json.dumps(TEMPLATE))
    state = work / "state"
    (state / "tables").mkdir(parents=True)
    item = {"id": {"S": "d1"}, "site": {"S": "plant-7"}, "limit": {"N": "40"}}
    (state / "tables" / "devices.jsonl").write_text(json.dumps(item) + "\n")
    (state / "secrets.json").write_text(json.dumps({"api": '{"key": "s3cr3t"}'}))
    return template, state


def _run(files: tuple[Path, Path], query: str, *lines: str, rule: str = "enrich_rule") -> list[Any]:
    template, state = files
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "emulator",
            "sql",
            "--template",
            str(template),
            "--state-dir",
            str(state),
            "--rule-name",
            rule,
            "--query",
            query,
        ],
        cwd=ROOT,
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_calls_reach_the_template_as_its_roles(files: tuple[Path, Path]) -> None:
    query = (
        "SELECT get_dynamodb('devices', 'id', id, "
        "'arn:aws:iam::123456789012:role/read-GetItem').site AS site, "
        "get_secret('api', 'SecretString', 'key', "
        "'arn:aws:iam::123456789012:role/read-GetSecretValue') AS key, "
        "aws_lambda('arn:aws:lambda:us-east-1:123456789012:function:enrich', {'n': n}).doubled "
        "AS doubled FROM 'dev/1'"
    )
    out = _run(files, query, '{"id": "d1", "n": 21}', '{"id": "nobody", "n": 1}')
    assert out[:2] == [
        {"site": "plant-7", "key": "s3cr3t", "doubled": 42},
        {"key": "s3cr3t", "doubled": 2},  # no such device: Undefined, left out
    ]


def test_a_role_without_the_permission_fails_the_evaluation(files: tuple[Path, Path]) -> None:
    query = (
        "SELECT get_dynamodb('devices', 'id', id, "
        "'arn:aws:iam::123456789012:role/read-GetSecretValue') AS d FROM 't'"
    )
    (out,) = _run(files, query, '{"id": "d1"}')
    assert "not authorized to perform: dynamodb:GetItem" in out["error"]


def test_a_rule_the_function_does_not_trust_cannot_invoke_it(files: tuple[Path, Path]) -> None:
    query = "SELECT aws_lambda('arn:aws:lambda:us-east-1:123456789012:function:enrich', *) FROM 't'"
    (out,) = _run(files, query, '{"n": 1}', rule="other")
    assert "aws_lambda" in out["error"]
