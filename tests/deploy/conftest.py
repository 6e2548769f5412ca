"""Fixtures for the deploy tool's tests: a moto server on loopback, an isolated AWS
environment pointing at it, and a tiny project (template, lambdas, web) in tmp_path."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from emulator.testing import free_port
from tests.deploy.helpers import write_project


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """One moto server (all services) on 127.0.0.1 for the session, reset per test."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws(moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Fake credentials, region us-east-1, every endpoint at moto, no real ~/.aws files."""
    req = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=10).close()
    for name in list(os.environ):
        if name.startswith("AWS_") or name == "STACK":
            monkeypatch.delenv(name)
    empty = tmp_path / "aws-empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    return moto_url


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small project of the real one's shape: see helpers.write_project."""
    return write_project(tmp_path / "project")


@pytest.fixture
def moto_outputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Work around moto 5.2.5 never filling Outputs for a stack made by change sets:
    `execute_change_set` stores the new template text but neither re-parses it nor
    rebuilds the output map (CreateStack and UpdateStack do both). Do that after each
    execution, in this process's moto backend (the threaded server shares it)."""
    from moto.cloudformation.models import CloudFormationBackend

    original = CloudFormationBackend.execute_change_set

    def execute_and_refresh(
        self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
    ) -> None:
        original(self, change_set_name, stack_name)
        for stack in self.stacks.values():
            if isinstance(stack.template, str) and stack.template:
                stack._parse_template()
                stack.output_map = stack._create_output_map()

    monkeypatch.setattr(CloudFormationBackend, "execute_change_set", execute_and_refresh)
