"""The Template object: resources by type, outputs, the emulated/skipped report."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from emulator.template import TemplateError, load_template, template_from_dict

REPO = Path(__file__).resolve().parents[3]
CHAT_TEMPLATE = REPO / "templates" / "chat.json"

RAW: dict[str, Any] = {
    "Parameters": {"EnableStream": {"Type": "String", "Default": "true"}},
    "Conditions": {"StreamOn": {"Fn::Equals": [{"Ref": "EnableStream"}, "true"]}},
    "Resources": {
        "MessagesTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {"TableName": "messages", "BillingMode": "PAY_PER_REQUEST"},
        },
        "ChatStream": {"Type": "AWS::Kinesis::Stream", "Condition": "StreamOn", "Properties": {}},
        "ChatFunction": {
            "Type": "AWS::Lambda::Function",
            "Metadata": {"Build": {"Source": "lambdas"}},
            "DependsOn": "MessagesTable",
            "Properties": {
                "Handler": "chat.handler",
                "Environment": {
                    "Variables": {
                        "MESSAGES_TABLE": {"Ref": "MessagesTable"},
                        "STREAM": {"Fn::If": ["StreamOn", {"Ref": "ChatStream"}, ""]},
                    }
                },
            },
        },
        "TokenFunctionUrl": {
            "Type": "AWS::Lambda::Url",
            "Properties": {"TargetFunctionArn": {"Fn::GetAtt": ["ChatFunction", "Arn"]}},
        },
        "SiteBucket": {"Type": "AWS::S3::Bucket"},
        "SiteDistribution": {"Type": "AWS::CloudFront::Distribution", "Properties": {}},
    },
    "Outputs": {
        "MessagesTableName": {"Value": {"Ref": "MessagesTable"}},
        "TokenUrl": {"Value": {"Fn::GetAtt": ["TokenFunctionUrl", "FunctionUrl"]}},
        "StreamName": {"Condition": "StreamOn", "Value": {"Ref": "ChatStream"}},
        "SiteUrl": {"Value": {"Fn::Sub": "https://${SiteDistribution.DomainName}/"}},
    },
}


def test_resources_by_type_are_resolved() -> None:
    template = template_from_dict(RAW)
    (function,) = template.resources(type="AWS::Lambda::Function")
    assert function.logical_id == "ChatFunction"
    assert function.physical_id == "local-ChatFunction"
    assert function.arn == "arn:aws:lambda:us-east-1:123456789012:function:local-ChatFunction"
    assert function.metadata == {"Build": {"Source": "lambdas"}}
    assert function.properties["Environment"]["Variables"] == {
        "MESSAGES_TABLE": "messages",
        "STREAM": "local-ChatStream",
    }
    assert function.depends_on == ("MessagesTable",)
    assert [r.logical_id for r in template.resources()] == list(RAW["Resources"])


def test_condition_filters_resources_and_outputs() -> None:
    template = template_from_dict(RAW, {"EnableStream": "false"})
    assert "ChatStream" not in [r.logical_id for r in template.resources()]
    assert "StreamName" not in template.outputs
    (function,) = template.resources(type="AWS::Lambda::Function")
    assert function.properties["Environment"]["Variables"]["STREAM"] == ""


def test_outputs_and_attribute_overrides() -> None:
    template = template_from_dict(RAW)
    outputs = template.outputs
    assert outputs["MessagesTableName"] == "messages"
    assert outputs["TokenUrl"].startswith("https://")
    assert outputs["TokenUrl"].endswith(".lambda-url.us-east-1.on.aws/")
    assert outputs["SiteUrl"].endswith(".cloudfront.net/")
    local = template_from_dict(
        RAW, attribute_overrides={"TokenFunctionUrl.FunctionUrl": "http://127.0.0.1:8080/api/token"}
    )
    assert local.outputs["TokenUrl"] == "http://127.0.0.1:8080/api/token"


def test_find_by_name_arn_or_logical_id() -> None:
    template = template_from_dict(RAW)
    arn = "arn:aws:lambda:us-east-1:123456789012:function:local-ChatFunction"
    for key in ("ChatFunction", "local-ChatFunction", arn, arn + ":$LATEST"):
        found = template.find(key)
        assert found is not None and found.logical_id == "ChatFunction"
    assert template.find("nothing") is None


def test_types_report_emulated_and_skipped() -> None:
    template = template_from_dict(RAW)
    types = {t.type: t for t in template.resource_types()}
    assert types["AWS::Lambda::Function"].emulated
    assert types["AWS::Lambda::Url"].emulated
    assert types["AWS::S3::Bucket"].emulated  # an empty bucket in moto
    assert not types["AWS::CloudFront::Distribution"].emulated
    assert types["AWS::CloudFront::Distribution"].logical_ids == ("SiteDistribution",)
    report = template.report()
    assert "skipped  AWS::CloudFront::Distribution" in report
    assert "emulated AWS::DynamoDB::Table" in report


def test_kms_key_is_skipped_but_named_as_aws_names_it() -> None:
    """A key is not emulated, yet roles and log groups refer to its ARN (IAM wants an
    ARN): Ref is the key id, a UUID stable across loads; Arn and KeyId follow it."""
    raw = {"Resources": {"StackKey": {"Type": "AWS::KMS::Key", "Properties": {}}}}
    template = template_from_dict(raw, region="eu-west-1", account_id="111122223333")
    key = template.resource("StackKey")
    assert str(uuid.UUID(key.ref)) == key.ref
    assert key.arn == f"arn:aws:kms:eu-west-1:111122223333:key/{key.ref}"
    assert template.resolve({"Fn::GetAtt": ["StackKey", "KeyId"]}) == key.ref
    assert template_from_dict(raw).resource("StackKey").ref == key.ref
    (entry,) = template.resource_types()
    assert (entry.type, entry.emulated) == ("AWS::KMS::Key", False)
    assert "skipped  AWS::KMS::Key" in template.report()


def test_region_account_and_stack_are_used() -> None:
    template = template_from_dict(
        RAW, stack_name="s", region="eu-west-1", account_id="111122223333"
    )
    table = template.resource("ChatStream")
    assert table.arn == "arn:aws:kinesis:eu-west-1:111122223333:stream/s-ChatStream"


def test_load_template_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(RAW))
    template = load_template(path)
    assert template.directory == tmp_path
    with pytest.raises(TemplateError, match="not found"):
        load_template(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(TemplateError, match="not valid JSON"):
        load_template(tmp_path / "bad.json")


def test_real_chat_template_resolves() -> None:
    template = load_template(CHAT_TEMPLATE)
    resources = list(template.resources())  # every property resolves
    assert resources
    functions = {r.logical_id: r for r in template.resources(type="AWS::Lambda::Function")}
    assert {"AuthorizerFunction", "TokenFunction", "ChatFunction", "PresenceFunction"} <= set(
        functions
    )
    for function in functions.values():
        assert function.metadata["Build"]["Source"] == "lambdas"
        assert "TOPIC_ROOT" in function.properties["Environment"]["Variables"]
    tables = {r.logical_id for r in template.resources(type="AWS::DynamoDB::Table")}
    assert {"MessagesTable", "ConnectionsTable"} <= tables
    outputs = template.outputs
    assert outputs["TopicRoot"] == "chat"
    types = {t.type: t.emulated for t in template.resource_types()}
    assert types["AWS::IoT::TopicRule"] and not types["AWS::CloudFront::Distribution"]
    without_stream = load_template(CHAT_TEMPLATE, {"EnableStream": "false"})
    assert not list(without_stream.resources(type="AWS::Kinesis::Stream"))
    assert not list(without_stream.resources(type="AWS::Lambda::EventSourceMapping"))


def test_mapping_and_permission_are_not_named_after_their_function() -> None:
    raw = {
        "Resources": {
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "f"}},
            "Map": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"FunctionName": "f"}},
            "Perm": {"Type": "AWS::Lambda::Permission", "Properties": {"FunctionName": "f"}},
        }
    }
    template = template_from_dict(raw)
    mapping = template.resource("Map")
    assert mapping.physical_id != "f" and len(mapping.physical_id) == 36  # a UUID
    assert template.resolve({"Fn::GetAtt": ["Map", "Id"]}) == mapping.physical_id
    assert template.resource("Perm").physical_id == "local-Perm"
