"""stack/rule_actions.py: one row per iot_rules action type, and a clear error for an
action type the table lacks."""

from __future__ import annotations

import typing
from dataclasses import dataclass

import pytest

from emulator.rules.actions import SUPPORTED_ACTIONS
from iot_rules import spec
from stack.rule_actions import (
    ACTIONS,
    TopicRuleAction,
    action_property,
    resource_permission,
    role_statement,
)


def test_every_action_type_has_exactly_one_row() -> None:
    """The table and iot_rules.spec's Action union list the same types."""
    assert set(ACTIONS) == set(typing.get_args(spec.Action))


def test_every_row_fills_a_property_the_emulator_runs() -> None:
    """What the generator writes, the emulator reads back from the template."""
    for row in ACTIONS.values():
        assert row.key in TopicRuleAction.props
        assert row.key in SUPPORTED_ACTIONS


@dataclass(frozen=True)
class SnsAction:
    """An action iot_rules does not (yet) have."""

    topic_arn: str


RULE = spec.Rule(
    name="probe",
    description="a rule for the tests",
    sql="SELECT * FROM '{root}/out'",
    actions=(spec.Lambda(function="ChatFunction"),),
    condition="StreamEnabled",
)


@pytest.mark.parametrize(
    "use",
    [
        lambda a: action_property(a, None),
        role_statement,
        lambda a: resource_permission(RULE, a),
    ],
    ids=["property", "statement", "permission"],
)
def test_an_action_without_a_row_is_refused_by_name(use: typing.Callable[..., object]) -> None:
    """A new action type fails the build, saying where its row goes."""
    with pytest.raises(TypeError, match=r"SnsAction.*stack\.rule_actions\.ACTIONS"):
        use(SnsAction(topic_arn="arn:aws:sns:us-east-1:123456789012:t"))


def test_lambda_needs_a_permission_not_a_role() -> None:
    """IoT invokes a function under its resource policy, scoped to the rule, and the
    permission shares the rule's condition (no permission for a rule that is absent)."""
    action = spec.Lambda(function="ChatFunction")
    assert role_statement(action) is None
    permission = resource_permission(RULE, action)
    assert permission is not None
    body = permission.to_dict()
    assert body["Condition"] == "StreamEnabled"
    assert body["Properties"]["SourceArn"] == {"Fn::GetAtt": ["ProbeRule", "Arn"]}
    assert body["Properties"]["Principal"] == "iot.amazonaws.com"
    assert permission.title == "ProbeRuleInvokePermission"


def test_republish_role_allows_every_room() -> None:
    """${room} is only known per message: the role allows the pattern with '*' there."""
    (resource,) = role_statement(spec.Republish(topic="{root}/pub/${room}"))["Resource"]
    assert resource.to_dict() == {
        "Fn::Sub": "arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}"
        ":topic/${TopicRoot}/pub/*"
    }
