"""Preflight failures: one line on stderr, no traceback, non-zero exit, nothing created."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.deploy.helpers import client, project_args, run_cli
from tests.support.commands import run_module

pytestmark = pytest.mark.usefixtures("aws")


def _subprocess(project: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m deploy` as `make deploy` runs it."""
    return run_module("deploy", *args, *project_args(project, "--no-deps-install"), env=env)


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_no_credentials(project: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    }
    proc = _subprocess(project, "deploy", env=env)
    assert proc.returncode == 1
    assert _one_line(proc.stderr).startswith("error: no AWS credentials found:")
    assert "==> packaging" not in proc.stdout


def test_unknown_profile(project: Path) -> None:
    proc = _subprocess(project, "deploy", "--profile", "nosuchprofile", env=dict(os.environ))
    assert proc.returncode == 1
    assert _one_line(proc.stderr) == (
        "error: AWS profile 'nosuchprofile' not found in ~/.aws/config or ~/.aws/credentials: "
        "pass --profile (or set AWS_PROFILE) to a configured profile"
    )


def test_unknown_profile_from_environment(project: Path) -> None:
    proc = _subprocess(project, "destroy", env=dict(os.environ, AWS_PROFILE="ghost"))
    assert proc.returncode == 1
    assert "AWS profile 'ghost' not found" in _one_line(proc.stderr)


def test_bad_region(project: Path) -> None:
    proc = _subprocess(project, "plan", "--region", "moon-base-one", env=dict(os.environ))
    assert proc.returncode == 1
    assert _one_line(proc.stderr) == (
        "error: unknown AWS region 'moon-base-one': use a region name such as us-east-1 "
        "or eu-west-1"
    )


def test_missing_region(capsys, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    res = run_cli(capsys, "deploy", *project_args(project))
    assert res.code == 1
    assert _one_line(res.err).startswith("error: no AWS region: pass --region")


def test_rejected_credentials(capsys, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto accepts any key, so STS's answer to a bad one is stubbed here."""
    import boto3
    from botocore.exceptions import ClientError

    real_client = boto3.Session.client

    def client_with_bad_sts(self, service, *args, **kwargs):
        c = real_client(self, service, *args, **kwargs)
        if service == "sts":

            def rejected(**_: object) -> None:
                error = {
                    "Code": "InvalidClientTokenId",
                    "Message": "The security token is invalid.",
                }
                raise ClientError({"Error": error}, "GetCallerIdentity")

            c.get_caller_identity = rejected
        return c

    monkeypatch.setattr(boto3.Session, "client", client_with_bad_sts)
    res = run_cli(capsys, "deploy", *project_args(project))
    assert res.code == 1
    assert _one_line(res.err) == (
        "error: AWS rejected the credentials (InvalidClientTokenId): The security token is invalid."
    )


def test_garbled_aws_answer_is_one_line(
    capsys, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An endpoint that is not AWS (here a 404 page) still ends in one line."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", os.environ["AWS_ENDPOINT_URL"] + "/nothing-here")
    res = run_cli(capsys, "deploy", *project_args(project))
    assert res.code == 1
    assert _one_line(res.err).startswith("error: Unable to parse response")


def test_good_preflight_reads_the_iot_endpoint(capsys, project: Path) -> None:
    res = run_cli(capsys, "plan", *project_args(project, "--no-deps-install"))
    assert res.code == 0, res.err
    assert "account 123456789012, region us-east-1" in res.out
    assert "-ats.iot.us-east-1.amazonaws.com" in res.out
    assert client("cloudformation").list_stacks()["StackSummaries"] in ([],) or all(
        s["StackStatus"] == "DELETE_COMPLETE"
        for s in client("cloudformation").list_stacks()["StackSummaries"]
    )
