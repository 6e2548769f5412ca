"""deploy / plan against moto with a miniature template of the real one's shape.

moto 5.2.5 fills no stack Outputs for stacks made through change sets; the
`moto_outputs` fixture repairs that here so the whole site path (config.json from
outputs, CloudFront invalidation) runs. test_real_template.py runs unpatched moto."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.deploy.helpers import (
    client,
    project_args,
    run_cli,
    set_stack_status,
    stack_parameters,
)

pytestmark = pytest.mark.usefixtures("aws", "moto_outputs")


def _distribution() -> str:
    """A CloudFront distribution in moto, so the invalidation has a target."""
    resp = client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": "tests",
            "Comment": "site",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "site",
                        "DomainName": "site.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "site",
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
        }
    )
    return str(resp["Distribution"]["Id"])


def _deploy(capsys, project: Path, *extra: str):
    return run_cli(capsys, "deploy", *project_args(project, "--no-deps-install", *extra))


def _site_objects(bucket: str) -> dict[str, dict]:
    s3 = client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {k: s3.head_object(Bucket=bucket, Key=k) for k in keys}


def test_full_deploy_into_an_empty_account(capsys, project: Path) -> None:
    dist = _distribution()
    res = _deploy(capsys, project, "--parameter", f"DistributionIdValue={dist}")
    assert res.code == 0, res.err
    cfn, s3 = client("cloudformation"), client("s3")
    stack = cfn.describe_stacks(StackName="chat")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert cfn.list_change_sets(StackName="chat")["Summaries"][0]["ExecutionStatus"] == (
        "EXECUTE_COMPLETE"
    )

    params = stack_parameters("chat")
    bucket = params["ArtifactsBucket"]
    assert bucket == "chat-artifacts-123456789012-us-east-1"
    art = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert art == {params["ChatCodeKey"], params["PresenceCodeKey"]}
    assert params["ChatCodeKey"].startswith("functions/ChatFunction-")
    enc = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert enc["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(pab.values())
    owner = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert owner["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"

    fn = client("lambda").get_function(FunctionName="chat-chat")
    assert fn["Configuration"]["Handler"] == "chat.handler"

    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    objects = _site_objects(outputs["SiteBucketName"])
    assert set(objects) == {
        "index.html",
        "style.css",
        "js/app.js",
        "js/chunk.0123abcd.js",
        "vendor/mqtt.min.js",
        "config.json",
    }
    assert objects["index.html"]["ContentType"] == "text/html; charset=utf-8"
    assert objects["index.html"]["CacheControl"] == "no-cache"
    assert objects["config.json"]["CacheControl"] == "no-cache"
    assert objects["js/app.js"]["ContentType"] == "text/javascript; charset=utf-8"
    assert objects["js/app.js"]["CacheControl"] == "public, max-age=300"
    assert objects["vendor/mqtt.min.js"]["CacheControl"] == "public, max-age=86400"
    assert "immutable" in objects["js/chunk.0123abcd.js"]["CacheControl"]

    body = s3.get_object(Bucket=outputs["SiteBucketName"], Key="config.json")["Body"].read()
    config = json.loads(body)
    # moto answers DescribeEndpoint with a new random prefix on every call, so compare
    # with the endpoint this run read (and printed)
    endpoint = re.search(r"IoT data endpoint (\S+)", res.out).group(1)
    assert re.fullmatch(r"[a-z0-9]+-ats\.iot\.us-east-1\.amazonaws\.com", endpoint)
    assert config == {
        "mqttUrl": f"wss://{endpoint}/mqtt",
        "authorizer": "chat-authorizer",
        "tokenUrl": "https://token.lambda-url.us-east-1.on.aws/api/token",
        "topicRoot": "chat",
    }
    invalidations = client("cloudfront").list_invalidations(DistributionId=dist)
    assert invalidations["InvalidationList"]["Quantity"] == 1

    assert "==> packaging ChatFunction" in res.out
    assert "Add     ChatFunction" in res.out
    assert "CREATE_COMPLETE" in res.out
    assert res.out.rstrip().splitlines()[-1] == (
        "==> site URL: https://d111111abcdef8.cloudfront.net/lobby"
    )


def test_second_deploy_without_changes_updates_nothing(capsys, project: Path) -> None:
    dist = _distribution()
    extra = ("--parameter", f"DistributionIdValue={dist}")
    assert _deploy(capsys, project, *extra).code == 0
    cfn = client("cloudformation")
    events = len(cfn.describe_stack_events(StackName="chat")["StackEvents"])
    fn = client("lambda").get_function(FunctionName="chat-chat")["Configuration"]

    res = _deploy(capsys, project, *extra)
    assert res.code == 0, res.err
    assert "no changes: stack chat is already up to date (change set deleted)" in res.out
    assert "executing change set" not in res.out
    assert "web client unchanged" in res.out or "config.json" in res.out
    stack = cfn.describe_stacks(StackName="chat")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert len(cfn.describe_stack_events(StackName="chat")["StackEvents"]) == events
    summaries = cfn.list_change_sets(StackName="chat")["Summaries"]
    assert [s["ExecutionStatus"] for s in summaries] == ["EXECUTE_COMPLETE"]
    again = client("lambda").get_function(FunctionName="chat-chat")["Configuration"]
    assert again["CodeSha256"] == fn["CodeSha256"]


def test_changed_function_updates_only_its_code(capsys, project: Path) -> None:
    dist = _distribution()
    extra = ("--parameter", f"DistributionIdValue={dist}")
    assert _deploy(capsys, project, *extra).code == 0
    lam = client("lambda")
    before = stack_parameters("chat")
    sha = {
        n: lam.get_function(FunctionName=n)["Configuration"]["CodeSha256"]
        for n in ("chat-chat", "chat-presence")
    }

    (project / "lambdas" / "chat.py").write_text("def handler(e, c):\n    return 'v2'\n")
    res = _deploy(capsys, project, *extra)
    assert res.code == 0, res.err
    after = stack_parameters("chat")
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {"ChatCodeKey"}
    assert "ChatCodeKey" in res.out and "PresenceCodeKey" not in res.out.split("ChatCodeKey")[0]
    assert "UPDATE_COMPLETE" in res.out
    new_sha = {
        n: lam.get_function(FunctionName=n)["Configuration"]["CodeSha256"]
        for n in ("chat-chat", "chat-presence")
    }
    assert new_sha["chat-chat"] != sha["chat-chat"]
    assert new_sha["chat-presence"] == sha["chat-presence"]
    keys = {
        o["Key"] for o in client("s3").list_objects_v2(Bucket=after["ArtifactsBucket"])["Contents"]
    }
    assert keys == {before["ChatCodeKey"], after["ChatCodeKey"], after["PresenceCodeKey"]}


def test_template_parameters_from_options(capsys, project: Path) -> None:
    res = _deploy(
        capsys, project, "--topic-root", "team1", "--no-stream", "--allow-missing-outputs"
    )
    assert res.code == 0, res.err
    params = stack_parameters("chat")
    assert params["TopicRoot"] == "team1"
    assert params["EnableStream"] == "false"
    # a later deploy without the options keeps the values chosen earlier
    (project / "lambdas" / "presence.py").write_text("def handler(e, c):\n    return 9\n")
    assert _deploy(capsys, project, "--allow-missing-outputs").code == 0
    assert stack_parameters("chat")["TopicRoot"] == "team1"


def test_unknown_parameter_is_a_clear_error(capsys, project: Path) -> None:
    res = _deploy(capsys, project, "--parameter", "Nope=1")
    assert res.code == 1
    assert res.err.strip() == "error: the template declares no parameter Nope"


def test_plan_shows_the_change_set_and_changes_nothing(capsys, project: Path) -> None:
    res = run_cli(capsys, "plan", *project_args(project, "--no-deps-install"))
    assert res.code == 0, res.err
    assert "(CREATE)" in res.out
    assert "Add     ChatFunction" in res.out and "AWS::Lambda::Function" in res.out
    assert "plan only: change set deleted, nothing was changed" in res.out
    cfn = client("cloudformation")
    assert [s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"]] in (
        [],
        ["DELETE_COMPLETE"],
    )

    assert _deploy(capsys, project, "--allow-missing-outputs").code == 0
    (project / "lambdas" / "chat.py").write_text("def handler(e, c):\n    return 'v3'\n")
    before = stack_parameters("chat")
    res = run_cli(capsys, "plan", *project_args(project, "--no-deps-install"))
    assert res.code == 0, res.err
    assert "(UPDATE)" in res.out and "ChatCodeKey" in res.out
    assert stack_parameters("chat") == before
    assert cfn.describe_stacks(StackName="chat")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    assert all(
        s["ExecutionStatus"] == "EXECUTE_COMPLETE"
        for s in cfn.list_change_sets(StackName="chat")["Summaries"]
    )


def test_rollback_complete_is_explained_and_can_be_replaced(capsys, project: Path) -> None:
    assert _deploy(capsys, project, "--allow-missing-outputs").code == 0
    set_stack_status("chat", "ROLLBACK_COMPLETE")
    res = _deploy(capsys, project, "--allow-missing-outputs")
    assert res.code == 1
    assert len(res.err.strip().splitlines()) == 1
    assert "ROLLBACK_COMPLETE" in res.err and "--replace-failed" in res.err
    assert "Traceback" not in res.err + res.out

    res = _deploy(capsys, project, "--allow-missing-outputs", "--replace-failed")
    assert res.code == 0, res.err
    assert "deleting stack chat (ROLLBACK_COMPLETE)" in res.out
    stack = client("cloudformation").describe_stacks(StackName="chat")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"


def test_stack_in_progress_is_a_clear_message(capsys, project: Path) -> None:
    assert _deploy(capsys, project, "--allow-missing-outputs").code == 0
    set_stack_status("chat", "UPDATE_IN_PROGRESS")
    res = _deploy(capsys, project)
    assert res.code == 1
    assert res.err.strip() == (
        "error: stack chat is busy (UPDATE_IN_PROGRESS): wait until it finishes, then run again"
    )


def test_missing_outputs_fail_clearly_without_the_flag(
    capsys, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tpl = json.loads((project / "templates" / "chat.json").read_text())
    del tpl["Outputs"]["DistributionId"], tpl["Outputs"]["AuthorizerName"]
    (project / "templates" / "chat.json").write_text(json.dumps(tpl))
    res = _deploy(capsys, project)
    assert res.code == 1
    assert "has no output AuthorizerName (from AWS::IoT::Authorizer ChatAuthorizer)" in res.err
    assert "DistributionId (from AWS::CloudFront::Distribution SiteDistribution)" in res.err
    assert "the web client was not uploaded" in res.err

    res = _deploy(capsys, project, "--allow-missing-outputs")
    assert res.code == 0
    assert "warning: stack outputs missing, continuing without them: AuthorizerName" in res.err
    assert "CloudFront cache not invalidated" in res.err


def test_missing_vendor_file_says_make_setup(capsys, project: Path) -> None:
    (project / "web" / "vendor" / "mqtt.min.js").unlink()
    res = _deploy(capsys, project)
    assert res.code == 1
    assert "vendor/mqtt.min.js is missing: run `make setup`" in res.err
    assert client("cloudformation").list_stacks()["StackSummaries"] == []


def test_stale_web_files_are_removed(capsys, project: Path) -> None:
    assert _deploy(capsys, project, "--allow-missing-outputs").code == 0
    (project / "web" / "style.css").unlink()
    res = _deploy(capsys, project, "--allow-missing-outputs")
    assert res.code == 0, res.err
    assert "removed stale style.css" in res.out
    bucket = [
        b["Name"] for b in client("s3").list_buckets()["Buckets"] if "sitebucket" in b["Name"]
    ]
    assert "style.css" not in _site_objects(bucket[0])
