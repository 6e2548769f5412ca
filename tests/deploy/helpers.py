"""Test helpers: a miniature project, the CLI run in-process, moto backend access."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from deploy.__main__ import main

ACCOUNT = "123456789012"
REGION = "us-east-1"
FAST = ["--poll-interval", "0.01", "--timeout", "30"]


def function(name: str, handler: str, key_param: str) -> dict[str, Any]:
    """A function resource shaped like the real template's."""
    return {
        "Type": "AWS::Lambda::Function",
        "Metadata": {"Build": {"Source": "lambdas", "Requirements": "lambdas/requirements.txt"}},
        "Properties": {
            "FunctionName": {"Fn::Sub": "${AWS::StackName}-" + name},
            "Handler": handler,
            "Runtime": "python3.12",
            "Architectures": ["arm64"],
            "Role": {"Fn::GetAtt": ["FunctionRole", "Arn"]},
            "Code": {"S3Bucket": {"Ref": "ArtifactsBucket"}, "S3Key": {"Ref": key_param}},
            "Environment": {"Variables": {"TOPIC_ROOT": {"Ref": "TopicRoot"}}},
        },
    }


def mini_template() -> dict[str, Any]:
    """Two functions, a role, a table and the site bucket; every output the deploy tool
    reads, the ones from resources moto lacks taken from parameters instead."""
    assume = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    string = {"Type": "String"}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            "ArtifactsBucket": string,
            "ChatCodeKey": string,
            "PresenceCodeKey": string,
            "TopicRoot": {"Type": "String", "Default": "chat"},
            "EnableStream": {"Type": "String", "Default": "true"},
            "DistributionIdValue": {"Type": "String", "Default": ""},
        },
        "Resources": {
            "FunctionRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {"AssumeRolePolicyDocument": assume},
            },
            "ChatFunction": function("chat", "chat.handler", "ChatCodeKey"),
            "PresenceFunction": function("presence", "presence.handler", "PresenceCodeKey"),
            "MessagesTable": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "room", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "room", "KeyType": "HASH"}],
                },
            },
            "SiteBucket": {"Type": "AWS::S3::Bucket"},
        },
        "Outputs": {
            "SiteBucketName": {"Value": {"Ref": "SiteBucket"}},
            "TopicRoot": {"Value": {"Ref": "TopicRoot"}},
            "AuthorizerName": {"Value": {"Fn::Sub": "${AWS::StackName}-authorizer"}},
            "TokenUrl": {"Value": "https://token.lambda-url.us-east-1.on.aws/api/token"},
            "DistributionId": {"Value": {"Ref": "DistributionIdValue"}},
            "SiteUrl": {"Value": "https://d111111abcdef8.cloudfront.net/lobby"},
        },
    }


def write_project(root: Path) -> Path:
    """templates/chat.json, lambdas/ (two handlers, chatlib, a tests dir and caches that
    must stay out of the zips) and web/ (with vendor/mqtt.min.js)."""
    (root / "templates").mkdir(parents=True)
    (root / "templates" / "chat.json").write_text(json.dumps(mini_template(), indent=2))
    lambdas = root / "lambdas"
    (lambdas / "chatlib").mkdir(parents=True)
    chat = "from chatlib import util\n\n\ndef handler(e, c):\n    return util.X\n"
    (lambdas / "chat.py").write_text(chat)
    (lambdas / "presence.py").write_text("def handler(e, c):\n    return 2\n")
    (lambdas / "chatlib" / "__init__.py").write_text("")
    (lambdas / "chatlib" / "util.py").write_text("X = 1\n")
    (lambdas / "chatlib" / "__pycache__").mkdir()
    (lambdas / "chatlib" / "__pycache__" / "util.cpython-311.pyc").write_bytes(b"\0junk")
    (lambdas / "tests").mkdir()
    (lambdas / "tests" / "__init__.py").write_text("")
    (lambdas / "requirements.txt").write_text("# nothing beyond the runtime\n")
    web = root / "web"
    (web / "js").mkdir(parents=True)
    (web / "vendor").mkdir()
    (web / "index.html").write_text("<!doctype html><title>chat</title>\n")
    (web / "style.css").write_text("body{}\n")
    (web / "js" / "app.js").write_text("console.log('app');\n")
    (web / "js" / "chunk.0123abcd.js").write_text("// hashed\n")
    (web / "vendor" / "mqtt.min.js").write_text("/* mqtt.js */\n")
    (web / ".DS_Store").write_text("x")
    return root


@dataclass
class Result:
    """Exit code and captured output of one CLI run."""

    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """`python -m deploy ...` in-process (same moto backend, fast)."""
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def project_args(root: Path, *extra: str) -> list[str]:
    """Paths of the miniature project, a private build dir, fast polling."""
    return [
        "--root",
        str(root),
        "--build-dir",
        str(root / "build"),
        *FAST,
        *extra,
    ]


def client(service: str) -> Any:
    """A boto3 client against moto (the `aws` fixture sets the environment)."""
    return boto3.client(service, region_name=REGION)


def cfn_backend() -> Any:
    """moto's in-process CloudFormation backend (the threaded server shares it)."""
    from moto.cloudformation.models import cloudformation_backends

    return cloudformation_backends[ACCOUNT][REGION]


def set_stack_status(name: str, status: str) -> None:
    """Put a stack in a state moto never reaches by itself (e.g. ROLLBACK_COMPLETE)."""
    for stack in cfn_backend().stacks.values():
        if stack.name == name:
            stack.status = status
            return
    raise AssertionError(f"no stack {name}")


def stack_parameters(name: str) -> dict[str, str]:
    stack = client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}


def tiny_wheel(directory: Path) -> Path:
    """A pure-Python wheel with a console script, built by hand (no network, no build
    backend), so the dependency path of packaging runs offline."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "tinydep/__init__.py": b"VALUE = 42\n\ndef main():\n    print(VALUE)\n",
        "tinydep-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tinydep\nVersion: 1.0\n",
        "tinydep-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        "tinydep-1.0.dist-info/entry_points.txt": b"[console_scripts]\ntinydep = tinydep:main\n",
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("tinydep-1.0.dist-info/RECORD,,")
    files["tinydep-1.0.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    path = directory / "tinydep-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path
