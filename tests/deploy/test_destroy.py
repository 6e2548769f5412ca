"""destroy: every bucket emptied (versions and delete markers too), stack and buckets gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.helpers import client, project_args, run_cli

pytestmark = pytest.mark.usefixtures("aws")


def test_destroy_leaves_no_stack_and_no_buckets(capsys, project: Path) -> None:
    res = run_cli(
        capsys, "deploy", *project_args(project, "--no-deps-install", "--allow-missing-outputs")
    )
    assert res.code == 0, res.err
    s3 = client("s3")
    site = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "sitebucket" in b["Name"])
    s3.put_bucket_versioning(Bucket=site, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=site, Key="old.txt", Body=b"1")
    s3.put_object(Bucket=site, Key="old.txt", Body=b"2")
    s3.delete_object(Bucket=site, Key="old.txt")  # leaves a delete marker

    res = run_cli(capsys, "destroy", *project_args(project))
    assert res.code == 0, res.err
    assert f"==> emptying bucket {site}" in res.out
    assert "==> stack chat: DELETE_COMPLETE" in res.out
    assert "==> deleting artifacts bucket chat-artifacts-123456789012-us-east-1" in res.out
    assert s3.list_buckets()["Buckets"] == []
    cfn = client("cloudformation")
    assert [s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"]] == ["DELETE_COMPLETE"]


def test_destroy_of_a_missing_stack_is_a_clear_message(capsys, project: Path) -> None:
    res = run_cli(capsys, "destroy", "--stack", "ghost", *project_args(project))
    assert res.code == 0
    assert (
        "==> stack ghost does not exist in us-east-1 (account 123456789012): nothing to delete"
        in res.out
    )
    assert res.err == ""


def test_destroy_removes_a_leftover_artifacts_bucket(capsys, project: Path) -> None:
    res = run_cli(capsys, "plan", *project_args(project, "--no-deps-install"))
    assert res.code == 0, res.err  # plan uploads the zips, so the bucket exists
    res = run_cli(capsys, "destroy", *project_args(project))
    assert res.code == 0, res.err
    assert client("s3").list_buckets()["Buckets"] == []
