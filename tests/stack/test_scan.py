"""stack/scan.py: checkov passes every generated template, and the gate fails on what it
must: a finding neither fixed nor suppressed, a skip without a reason, a skip that
suppresses nothing; templates are found by a glob, under templates/ and examples/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stack import scan
from tests.stack.conftest import REPO, TEMPLATE_PATH

ENCRYPTED_GROUP = {"RetentionInDays": 30, "KmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/k"}


def skip(check: str, comment: str | None) -> dict[str, Any]:
    entry = {"id": check} if comment is None else {"id": check, "comment": comment}
    return {"checkov": {"skip": [entry]}}


def group(properties: dict[str, Any], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {"Type": "AWS::Logs::LogGroup", "Properties": properties}
    if metadata:
        resource["Metadata"] = metadata
    return resource


# Four log groups: one failing, one failing with a skip and its reason, one with a
# skip and no reason, and one that passes yet still carries a skip.
BAD_TEMPLATE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "Plain": group({"RetentionInDays": 30}),
        "Explained": group({"RetentionInDays": 30}, skip("CKV_AWS_158", "a test's reason")),
        "Unexplained": group({"RetentionInDays": 30}, skip("CKV_AWS_158", None)),
        "Stale": group(ENCRYPTED_GROUP, skip("CKV_AWS_158", "was needed once")),
    },
}
# A hand-written YAML example with short forms, an unencrypted queue among them.
EXAMPLE_YAML = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Telemetry:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-telemetry"
"""


@pytest.fixture(scope="module")
def chat_reports() -> list[scan.Report]:
    """The repository's templates, scanned as `make lint` does."""
    return scan.scan(scan.find_templates(REPO))


def test_every_generated_template_is_found(chat_reports: list[scan.Report]) -> None:
    assert TEMPLATE_PATH in {r.path for r in chat_reports}


def test_every_generated_template_passes(chat_reports: list[scan.Report]) -> None:
    """No finding is left neither fixed nor suppressed with a reason; no skip is stale."""
    for report in chat_reports:
        assert report.ok, "\n".join(report.lines())
        # checkov really ran: the chat's template alone gets more than 100 checks.
        assert report.passed > (100 if report.path == TEMPLATE_PATH else 20), report.lines()


def test_chat_template_skips_are_exactly_its_metadata(chat_reports: list[scan.Report]) -> None:
    """What checkov honoured is what the template declares, each with its reason."""
    (chat,) = [r for r in chat_reports if r.path == TEMPLATE_PATH]
    declared = scan.declared_skips(json.loads(TEMPLATE_PATH.read_text()))
    assert chat.suppressed == declared
    assert all(reason.strip() for reason in declared.values())


@pytest.fixture(scope="module")
def bad_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository with a failing generated template, and an example in YAML beside a
    JSON and a text file that are not templates."""
    root = tmp_path_factory.mktemp("repo")
    (root / "templates").mkdir()
    (root / "templates" / "bad.json").write_text(json.dumps(BAD_TEMPLATE))
    example = root / "examples" / "telemetry"
    example.mkdir(parents=True)
    (example / "template.yaml").write_text(EXAMPLE_YAML)
    (example / "package.json").write_text('{"name": "not-a-template"}')
    (example / "notes.txt").write_text("Resources: none")
    return root


@pytest.fixture(scope="module")
def bad_reports(bad_root: Path) -> dict[str, scan.Report]:
    reports = scan.scan(scan.find_templates(bad_root))
    return {r.path.relative_to(bad_root).as_posix(): r for r in reports}


def test_templates_are_found_by_glob(bad_reports: dict[str, scan.Report]) -> None:
    """Any depth under examples/, JSON or YAML; files that are not templates are left."""
    assert set(bad_reports) == {"templates/bad.json", "examples/telemetry/template.yaml"}


def test_unsuppressed_finding_fails(bad_reports: dict[str, scan.Report]) -> None:
    bad = bad_reports["templates/bad.json"]
    assert not bad.ok
    assert ("CKV_AWS_158", "Plain") in {(f.check_id, f.logical_id) for f in bad.unsuppressed}
    example = bad_reports["examples/telemetry/template.yaml"]
    assert ("CKV_AWS_27", "Telemetry") in {(f.check_id, f.logical_id) for f in example.unsuppressed}


def test_skip_with_a_reason_suppresses(bad_reports: dict[str, scan.Report]) -> None:
    bad = bad_reports["templates/bad.json"]
    assert bad.suppressed[("Explained", "CKV_AWS_158")] == "a test's reason"
    assert "Explained" not in {f.logical_id for f in bad.unsuppressed}


def test_skip_without_a_reason_fails(bad_reports: dict[str, scan.Report]) -> None:
    assert bad_reports["templates/bad.json"].unexplained == [("Unexplained", "CKV_AWS_158")]


def test_skip_that_suppresses_nothing_fails(bad_reports: dict[str, scan.Report]) -> None:
    assert bad_reports["templates/bad.json"].stale == [("Stale", "CKV_AWS_158")]


def test_command_exits_1_and_names_each_problem(
    bad_root: Path,
    bad_reports: dict[str, scan.Report],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`make lint`'s view of the same reports (scanned once above)."""
    monkeypatch.setattr(scan, "scan", lambda templates: list(bad_reports.values()))
    assert scan.main(["--root", str(bad_root)]) == 1
    out = capsys.readouterr().out
    assert "templates/bad.json: " in out
    assert "FAILED CKV_AWS_158 on AWS::Logs::LogGroup Plain" in out
    assert "STALE  skip of CKV_AWS_158 on Stale" in out
    assert "NO REASON  skip of CKV_AWS_158 on Unexplained" in out
    assert "FAILED CKV_AWS_27 on AWS::SQS::Queue Telemetry" in out


def test_no_template_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert scan.main(["--root", str(tmp_path)]) == 1
    assert "no CloudFormation template" in capsys.readouterr().err


def test_missing_checkov_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHECKOV", str(REPO / "no-such-checkov"))
    assert scan.main([]) == 1
    err = capsys.readouterr().err
    assert "checkov is not installed at" in err
    assert "run `make setup`" in err
