"""The real templates/chat.json, deployed into moto 5.2.5 (unpatched) and destroyed.

What moto cannot do, and what these tests therefore do not claim:
- its CloudFormation skips AWS::IoT::Authorizer, AWS::IoT::TopicRule,
  AWS::SecretsManager::Secret, AWS::Lambda::Url, AWS::S3::BucketPolicy and every
  AWS::CloudFront::* type (a warning is logged; nothing is created);
- ExecuteChangeSet fails outright when a kept resource uses Fn::GetAtt on a skipped one,
  so `for_moto` drops those few (the rule/authorizer invoke permissions) and says so;
- it creates the stack's KMS key (its DescribeKey then fails: moto keeps the template's
  policy as an object) but ignores what uses it: the functions' KmsKeyArn, the tables'
  SSESpecification and point-in-time recovery, the log groups' KmsKeyId, the site
  bucket's versioning; and it deletes the key at once where AWS schedules its deletion;
- it lacks the public SSM parameter naming AWS's Powertools layer and refuses to create
  one under /aws/: `provide_public_parameters` points PowertoolsLayer at a parameter of
  the test's own; moto reports the resolved ARN as the stack's parameter value (AWS
  reports the parameter's name, the ARN as ResolvedValue), so the tests pass the name
  each time; and its CloudFormation drops a function's Layers;
- stacks made through change sets get no Outputs at all, so the deploy tool's
  fallbacks run (SiteBucket resource, TopicRoot parameter) and the outputs only the
  skipped resources provide (AuthorizerName, TokenUrl, DistributionId, SiteUrl) are
  missing: in real use that stops the deploy; here `--allow-missing-outputs` turns
  it into the warning these tests check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from deploy.site import REQUIRED_OUTPUTS
from tests.deploy.helpers import FAST, client, run_cli, stack_parameters
from tests.deploy.moto_support import STAND_IN_ARN, for_moto, provide_public_parameters

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "templates" / "chat.json"

pytestmark = [
    pytest.mark.usefixtures("aws"),
    # moto's own warning for each type it skips (listed in the docstring above)
    pytest.mark.filterwarnings("ignore:Tried to parse .*moto's CloudFormation:UserWarning"),
]


@pytest.fixture
def real(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """CLI arguments deploying the real lambdas with a moto-runnable template copy."""
    tpl, removed = for_moto(json.loads(TEMPLATE.read_text()))
    stand_ins = provide_public_parameters(tpl, client("ssm"))
    removed.update(stand_ins)
    path = tmp_path / "chat-for-moto.json"
    path.write_text(json.dumps(tpl, indent=1))
    web = tmp_path / "web"
    shutil.copytree(ROOT / "web", web, ignore=shutil.ignore_patterns("vendor", "config.json"))
    (web / "vendor").mkdir()
    (web / "vendor" / "mqtt.min.js").write_text("/* stand-in for the npm file */\n")
    args = [
        "--template",
        str(path),
        "--web-dir",
        str(web),
        "--build-dir",
        str(tmp_path / "build"),
        "--no-deps-install",  # PyJWT/cryptography would come from PyPI
        *FAST,
    ]
    for name in stand_ins:
        args += ["--parameter", f"{name}={tpl['Parameters'][name]['Default']}"]
    return args, removed


def test_template_provides_what_deploy_reads() -> None:
    tpl = json.loads(TEMPLATE.read_text())
    assert set(REQUIRED_OUTPUTS) <= set(tpl["Outputs"])
    assert "SiteBucket" in tpl["Resources"] and "TopicRoot" in tpl["Parameters"]
    for lid, res in tpl["Resources"].items():
        if res["Type"] == "AWS::Lambda::Function":
            assert res["Metadata"]["Build"]["Source"], lid
            assert res["Properties"]["Code"]["S3Bucket"] == {"Ref": "ArtifactsBucket"}
            assert res["Properties"]["Code"]["S3Key"]["Ref"].endswith("CodeKey")


def test_deploy_and_destroy_the_real_template(capsys, real) -> None:
    args, removed = real
    assert "ChatAuthorizer" in removed or "AuthorizerInvokePermission" in removed

    strict = run_cli(capsys, "deploy", *args)
    assert strict.code == 1
    assert "has no output AuthorizerName (from AWS::IoT::Authorizer ChatAuthorizer)" in strict.err
    assert "the web client was not uploaded" in strict.err

    res = run_cli(capsys, "deploy", *args, "--allow-missing-outputs")
    assert res.code == 0, res.err
    assert "no changes: stack chat is already up to date" in res.out
    for name in ("AuthorizerName", "TokenUrl", "DistributionId", "SiteUrl"):
        assert name in res.err
    cfn, s3 = client("cloudformation"), client("s3")
    assert cfn.describe_stacks(StackName="chat")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    params = stack_parameters("chat")
    code_keys = {k: v for k, v in params.items() if k.endswith("CodeKey")}
    assert set(code_keys) == {
        "AuthorizerCodeKey",
        "TokenCodeKey",
        "ChatCodeKey",
        "PresenceCodeKey",
        "JwksLayerCodeKey",
    }
    artifacts = {o["Key"] for o in s3.list_objects_v2(Bucket=params["ArtifactsBucket"])["Contents"]}
    # The template is over CloudFormation's 51,200-byte TemplateBody limit, so it goes
    # to the artifacts bucket too, under its content hash.
    assert len((ROOT / "templates" / "chat.json").read_bytes()) > 51_200
    templates = {key for key in artifacts if key.startswith("templates/")}
    assert len(templates) == 1 and next(iter(templates)).endswith(".json")
    assert artifacts - templates == set(code_keys.values())
    lam = client("lambda")
    for fn in ("chat-chat", "chat-presence", "chat-token", "chat-authorizer"):
        assert lam.get_function(FunctionName=fn)["Configuration"]["Runtime"] == "python3.12"
    # The stack key is created (what moto can show of it: see the module docstring).
    resources = cfn.list_stack_resources(StackName="chat")["StackResourceSummaries"]
    (key_id,) = [r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::KMS::Key"]
    assert key_id in {k["KeyId"] for k in client("kms").list_keys()["Keys"]}
    assert params["PowertoolsLayer"] == STAND_IN_ARN  # moto's value: the resolved ARN
    # JwksLayer is for stacks that set JwksUrl: packaged and uploaded, not created.
    assert not lam.list_layers()["Layers"]

    site = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "sitebucket" in b["Name"])
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=site)["Contents"]}
    assert {"index.html", "vendor/mqtt.min.js", "config.json"} <= keys
    config = json.loads(s3.get_object(Bucket=site, Key="config.json")["Body"].read())
    assert config["mqttUrl"].startswith("wss://") and config["mqttUrl"].endswith(
        "-ats.iot.us-east-1.amazonaws.com/mqtt"
    )
    assert config["topicRoot"] == "chat"
    assert config["authorizer"] is None and config["tokenUrl"] is None  # skipped by moto

    res = run_cli(capsys, "destroy", *args)
    assert res.code == 0, res.err
    assert s3.list_buckets()["Buckets"] == []
    assert [s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"]] == ["DELETE_COMPLETE"]
    assert client("kms").list_keys()["Keys"] == []
