"""The one template file reader (emulator.template.document), for deploy and the emulator."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from deploy.errors import DeployError
from deploy.template import functions, load_template
from emulator.template import TemplateError
from emulator.template import load_template as load_bound
from emulator.template.document import BuildMetadata, TemplateFileError, read_template

TEMPLATE = {
    "Resources": {
        "Zeta": {"Type": "AWS::SQS::Queue"},
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Metadata": {"Build": {"Source": "lambdas", "Requirements": "req.txt"}},
            "Properties": {"Handler": "app.handler", "Code": {"S3Key": {"Ref": "FnCodeKey"}}},
        },
        "Alpha": {"Type": "AWS::SQS::Queue"},
    }
}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_keeps_the_exact_text_and_sorts_resources_of_a_type(tmp_path: Path) -> None:
    text = json.dumps(TEMPLATE, indent=3)
    document = read_template(write(tmp_path / "t.json", text))
    assert document.body == text
    assert document.directory == tmp_path.resolve()
    assert [name for name, _ in document.resources_of_type("AWS::SQS::Queue")] == [
        "Alpha",
        "Zeta",
    ]
    assert document.parameters == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[]", "no Resources section"),
        ('{"A": 1}', "no Resources section"),
    ],
)
def test_bad_files_are_clear_errors_for_both(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "t.json", text)
    with pytest.raises(TemplateFileError, match=message):
        read_template(path)
    with pytest.raises(TemplateError, match=message):  # the emulator's
        load_bound(path)
    with pytest.raises(DeployError, match=message):  # the deploy tool's
        load_template(path)


def test_a_missing_file_tells_deploy_users_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(DeployError, match=r"not found: run `make template`"):
        load_template(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        (None, BuildMetadata()),
        ({"Build": "lambdas"}, BuildMetadata()),
        ({"Build": {"Source": "src"}}, BuildMetadata(source="src")),
        ({"Build": {"Requirements": "r.txt", "Other": 1}}, BuildMetadata(requirements="r.txt")),
    ],
)
def test_build_metadata(metadata: dict | None, expected: BuildMetadata) -> None:
    assert BuildMetadata.of(metadata) == expected


def test_deploy_reads_build_metadata_through_it(tmp_path: Path) -> None:
    document = read_template(write(tmp_path / "t.json", json.dumps(TEMPLATE)))
    [spec] = functions(document, tmp_path)
    assert spec.source == (tmp_path / "lambdas").resolve()
    assert spec.requirements == (tmp_path / "req.txt").resolve()
    assert spec.code_key_parameter == "FnCodeKey"


def test_deploy_needs_a_function_source(tmp_path: Path) -> None:
    no_source = copy.deepcopy(TEMPLATE)
    del no_source["Resources"]["Fn"]["Metadata"]["Build"]["Source"]
    document = read_template(write(tmp_path / "t.json", json.dumps(no_source)))
    with pytest.raises(DeployError, match=r"Fn: the template gives no Metadata\.Build\.Source"):
        functions(document, tmp_path)
