"""Stack logic moto cannot produce: failed executions, parameter reuse, state checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from deploy.errors import DeployError
from deploy.stack import ChangeSet, Timing, build_parameters, check_state, execute
from emulator.template.document import TemplateDocument


class FakeCfn:
    """Just enough CloudFormation for `execute`: a create that rolls back."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.status = "REVIEW_IN_PROGRESS"
        self.calls = 0

    def _event(self, lid: str, rtype: str, status: str, reason: str = "") -> None:
        t = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=len(self.events))
        self.events.insert(
            0,
            {
                "EventId": str(len(self.events)),
                "Timestamp": t,
                "LogicalResourceId": lid,
                "ResourceType": rtype,
                "ResourceStatus": status,
                "ResourceStatusReason": reason,
            },
        )

    def execute_change_set(self, **_: Any) -> None:
        self.status = "CREATE_IN_PROGRESS"
        self._event("chat", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated")

    def describe_stacks(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls == 2:
            self._event("ChatFunction", "AWS::Lambda::Function", "CREATE_FAILED", "Role not ready")
            self._event("chat", "AWS::CloudFormation::Stack", "ROLLBACK_IN_PROGRESS")
            self.status = "ROLLBACK_IN_PROGRESS"
        elif self.calls == 3:
            self._event("chat", "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE")
            self.status = "ROLLBACK_COMPLETE"
        return {"Stacks": [{"StackStatus": self.status}]}

    def get_paginator(self, _: str) -> FakeCfn:
        return self

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        return [{"StackEvents": list(self.events)}]


def test_failed_execution_lists_the_failed_resources(capsys) -> None:
    cfn = FakeCfn()
    cs = ChangeSet("arn:cs", "arn:stack", "CREATE", "CREATE_COMPLETE")
    with pytest.raises(DeployError) as err:
        execute(cfn, cs, "chat", None, Timing(poll=0, sleep=lambda _: None))
    assert str(err.value) == (
        "stack chat ended in ROLLBACK_COMPLETE (expected CREATE_COMPLETE): "
        "1 resource(s) failed, reasons above"
    )
    out = capsys.readouterr().out
    assert "ChatFunction  AWS::Lambda::Function  CREATE_FAILED  Role not ready" in out
    assert out.index("CREATE_IN_PROGRESS") < out.index("ROLLBACK_COMPLETE")


@pytest.mark.parametrize(
    ("status", "replace", "expected"),
    [
        (None, False, "create"),
        ("CREATE_COMPLETE", False, "update"),
        ("UPDATE_ROLLBACK_COMPLETE", False, "update"),
        ("REVIEW_IN_PROGRESS", False, "replace"),
        ("ROLLBACK_COMPLETE", True, "replace"),
        ("DELETE_FAILED", True, "replace"),
    ],
)
def test_check_state(status: str | None, replace: bool, expected: str) -> None:
    stack = {"StackStatus": status} if status else None
    assert check_state(stack, "chat", replace) == expected


@pytest.mark.parametrize(
    ("status", "text"),
    [
        ("ROLLBACK_COMPLETE", "--replace-failed"),
        ("DELETE_FAILED", "--replace-failed"),
        ("UPDATE_IN_PROGRESS", "is busy"),
        ("UPDATE_ROLLBACK_FAILED", "continue-update-rollback"),
    ],
)
def test_check_state_refusals(status: str, text: str) -> None:
    with pytest.raises(DeployError, match=text):
        check_state({"StackStatus": status}, "chat", False)


def test_parameters_keep_earlier_non_default_values() -> None:
    tpl = TemplateDocument(
        path=Path("template.json"),
        body="{}",
        data={
            "Parameters": {
                "ArtifactsBucket": {"Type": "String"},
                "TopicRoot": {"Type": "String", "Default": "chat"},
                "EnableStream": {"Type": "String", "Default": "true"},
            },
            "Resources": {},
        },
    )
    existing = {"ArtifactsBucket": "b", "TopicRoot": "team1", "EnableStream": "true"}
    assert build_parameters(tpl, {"ArtifactsBucket": "b2"}, existing) == [
        {"ParameterKey": "ArtifactsBucket", "ParameterValue": "b2"},
        {"ParameterKey": "TopicRoot", "UsePreviousValue": True},
    ]
    with pytest.raises(DeployError, match="ArtifactsBucket has no default"):
        build_parameters(tpl, {}, None)
