"""FunctionConfig from the template: handler, code folder, env, limits."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from emulator.lambda_runtime import FunctionConfig, LambdaRuntime, functions_from_template
from emulator.template import TemplateError, load_template, template_from_dict

REPO = Path(__file__).resolve().parents[3]
CHAT_TEMPLATE = REPO / "templates" / "chat.json"


def _raw(source: str) -> dict[str, Any]:
    return {
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role"},
            "ChatFunction": {
                "Type": "AWS::Lambda::Function",
                "Metadata": {"Build": {"Source": source}},
                "Properties": {
                    "FunctionName": {"Fn::Sub": "${AWS::StackName}-chat"},
                    "Handler": "chat.handler",
                    "Timeout": 30,
                    "MemorySize": 512,
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Environment": {"Variables": {"DAYS": 7, "ON": True}},
                },
            },
        }
    }


def test_config_from_template_finds_source_next_to_the_templates_folder(tmp_path: Path) -> None:
    (tmp_path / "lambdas").mkdir()
    (tmp_path / "templates").mkdir()
    path = tmp_path / "templates" / "t.json"
    path.write_text(__import__("json").dumps(_raw("lambdas")))
    (config,) = functions_from_template(load_template(path, stack_name="s"))
    assert config == FunctionConfig(
        name="s-chat",
        handler="chat.handler",
        source_dir=(tmp_path / "lambdas").resolve(),
        environment={"DAYS": "7", "ON": "true"},
        timeout=30.0,
        memory_size=512,
        logical_id="ChatFunction",
        role_arn="arn:aws:iam::123456789012:role/s-Role",
    )
    assert config.arn == "arn:aws:lambda:us-east-1:123456789012:function:s-chat"


def test_missing_source_or_metadata_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="not found"):
        functions_from_template(template_from_dict(_raw("no-such-dir")), root=tmp_path)
    raw = _raw("x")
    del raw["Resources"]["ChatFunction"]["Metadata"]
    with pytest.raises(TemplateError, match=r"no code the emulator can find"):
        functions_from_template(template_from_dict(raw))


async def test_real_chat_template_functions_import() -> None:
    configs = functions_from_template(load_template(CHAT_TEMPLATE))
    assert {c.logical_id for c in configs} >= {
        "AuthorizerFunction",
        "TokenFunction",
        "ChatFunction",
        "PresenceFunction",
    }
    assert {c.source_dir for c in configs} == {(REPO / "lambdas").resolve()}
    runtime = LambdaRuntime(configs)
    try:
        await runtime.prewarm()  # every handler imports in its worker
    finally:
        await runtime.close()


def _coded(code: dict[str, Any], runtime: str = "python3.12") -> dict[str, Any]:
    function = {"Handler": "index.handler", "Runtime": runtime, "Code": code}
    return {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": function}}}


def test_inline_zipfile_becomes_index_py(tmp_path: Path) -> None:
    """CloudFormation writes inline Python code to index.py ("AWS::Lambda::Function Code",
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-function-code.html)."""
    raw = _coded({"ZipFile": "def handler(e, c):\n    return 1\n"})
    (config,) = functions_from_template(template_from_dict(raw), scratch=tmp_path)
    assert (config.source_dir / "index.py").read_text().startswith("def handler")
    with pytest.raises(TemplateError, match="only for Python runtimes"):
        functions_from_template(template_from_dict(_coded({"ZipFile": "x"}, "nodejs20.x")))


def test_s3_code_is_found_through_the_mapping(tmp_path: Path) -> None:
    raw = _coded({"S3Bucket": "b", "S3Key": "k.zip"})
    with pytest.raises(TemplateError, match=r"--code s3://b/k.zip=PATH"):
        functions_from_template(template_from_dict(raw), scratch=tmp_path)
    folder = tmp_path / "src"
    folder.mkdir()
    (config,) = functions_from_template(
        template_from_dict(raw), code={"s3://b/k.zip": folder}, scratch=tmp_path
    )
    assert config.source_dir == folder.resolve()
    archive = tmp_path / "k.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("index.py", "def handler(e, c): return 2\n")
    (config,) = functions_from_template(
        template_from_dict(raw), code={"s3://b/k.zip": archive}, scratch=tmp_path / "w"
    )
    assert (config.source_dir / "index.py").is_file()


def test_bad_s3_code_is_a_clear_error(tmp_path: Path) -> None:
    raw = _coded({"S3Bucket": "b", "S3Key": "k.zip"})
    not_zip = tmp_path / "k.zip"
    not_zip.write_text("no zip")
    with pytest.raises(TemplateError, match="is not a zip file"):
        functions_from_template(template_from_dict(raw), code={"s3://b/k.zip": not_zip})
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../escape.py", "x = 1\n")
    with pytest.raises(TemplateError, match="unsafe path"):
        functions_from_template(template_from_dict(raw), code={"s3://b/k.zip": evil})
    with pytest.raises(TemplateError, match="no such folder or zip"):
        functions_from_template(template_from_dict(raw), code={"s3://b/k.zip": tmp_path / "x"})
