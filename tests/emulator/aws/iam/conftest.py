"""moto behind the IAM gate, in a thread of the test process, with a clock tests can move."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from emulator.aws.iam.gate import IamGate
from emulator.aws.iam.policies import RolePolicies

ACCOUNT = "123456789012"
REGION = "us-east-1"
ADMIN = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
LAMBDA = "lambda.amazonaws.com"


def create_role(iam: Any, statements: list[dict[str, Any]], service: str = LAMBDA) -> str:
    """A new role that ``service`` may assume, with one inline policy; returns its ARN."""
    name = f"role-{uuid.uuid4().hex[:8]}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if statements:
        document = {"Version": "2012-10-17", "Statement": statements}
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(document))
    return arn


@dataclass
class Clock:
    """time.time() plus an offset the test sets (to make credentials expire)."""

    offset: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Gate:
    """The endpoint, the gate's clock, admin clients, and roles made for a test."""

    endpoint_url: str
    clock: Clock

    def admin(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=REGION, **ADMIN)

    def role(self, statements: list[dict[str, Any]]) -> str:
        """A new Lambda role with one inline policy; returns its ARN."""
        return create_role(self.admin("iam"), statements)

    def credentials(self, role_arn: str) -> dict[str, Any]:
        return self.admin("sts").assume_role(RoleArn=role_arn, RoleSessionName="test")[
            "Credentials"
        ]

    def as_role(self, role_arn: str) -> Callable[[str], Any]:
        """A client factory signing with the role's fresh credentials."""
        got = self.credentials(role_arn)
        session = boto3.session.Session(
            aws_access_key_id=got["AccessKeyId"],
            aws_secret_access_key=got["SecretAccessKey"],
            aws_session_token=got["SessionToken"],
            region_name=REGION,
        )
        return lambda service: session.client(service, endpoint_url=self.endpoint_url)


@pytest.fixture(scope="module")
def gate() -> Iterator[Gate]:
    """One gated moto for the module (policies re-read on every request: ttl 0)."""
    clock = Clock()
    holder: list[str] = []
    policies = RolePolicies(
        lambda: boto3.client("iam", endpoint_url=holder[0], region_name=REGION, **ADMIN), ttl=0
    )
    app = IamGate(DomainDispatcherApplication(create_backend_app), policies, ACCOUNT, clock)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    holder.append(f"http://127.0.0.1:{server.server_port}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Gate(holder[0], clock)
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def clock(gate: Gate) -> Iterator[Clock]:
    yield gate.clock
    gate.clock.offset = 0.0
