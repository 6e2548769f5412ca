"""stack/rules.py: one TopicRule per iot_rules module, deployed as written there, each
named after the stack and reporting errors to the shared log."""

from __future__ import annotations

from typing import Any

from iot_rules import RULES, spec
from tests.stack.conftest import of_type


def test_one_topic_rule_per_iot_rules_module(resources: dict[str, Any]) -> None:
    """The emulator finds rules by type: exactly the iot_rules modules, no more."""
    assert set(of_type(resources, "AWS::IoT::TopicRule")) == {r.logical_id for r in RULES}
    assert {r.name for r in RULES} == {"route", "republish", "store", "stream", "lifecycle"}


def test_every_rule_has_an_error_action(resources: dict[str, Any]) -> None:
    """A failed action is never silent."""
    for name, rule in of_type(resources, "AWS::IoT::TopicRule").items():
        error = rule["Properties"]["TopicRulePayload"].get("ErrorAction")
        assert error, f"{name} has no ErrorAction"
        assert error["CloudwatchLogs"]["LogGroupName"] == {"Ref": "RuleErrorsLogGroup"}
    assert resources["RuleErrorsLogGroup"]["Properties"]["RetentionInDays"] > 0


def test_rule_names_carry_the_stack_name(resources: dict[str, Any]) -> None:
    """Rule names allow only [A-Za-z0-9_]: the stack name's '-' become '_'."""
    for rule in RULES:
        name = resources[rule.logical_id]["Properties"]["RuleName"]
        assert name == {
            "Fn::Join": [
                "",
                [
                    {"Fn::Join": ["_", {"Fn::Split": ["-", {"Ref": "AWS::StackName"}]}]},
                    f"_{rule.name}",
                ],
            ]
        }


def test_template_sql_is_the_rule_sql(template: dict[str, Any]) -> None:
    """What is deployed is the iot_rules text with only the placeholders replaced."""
    for rule in RULES:
        sql = template["Resources"][rule.logical_id]["Properties"]["TopicRulePayload"]["Sql"]
        expected = (
            {"Fn::Sub": spec.to_sub(rule.sql)} if spec.has_placeholders(rule.sql) else rule.sql
        )
        assert sql == expected
