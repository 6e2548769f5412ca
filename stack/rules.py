"""The topic rules: one AWS::IoT::TopicRule per iot_rules module, each with a role
allowing exactly its actions, and the shared error log every rule reports to.

What each action becomes (property, role statement, permission) is rule_actions.py's
table; this module assembles rules from it.
"""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Join, Ref, Split, Template, iot

from iot_rules import RULES
from iot_rules import spec as rule_spec
from stack.iam import role
from stack.logs import log_group
from stack.rule_actions import action_property, resource_permission, role_statement, rule_text


def rule_prefix() -> Join:
    """The stack name with its '-' as '_' (rule names: [A-Za-z0-9_])."""
    return Join("_", Split("-", Ref("AWS::StackName")))


def rule_name(rule: rule_spec.Rule) -> Join:
    """<rule_prefix>_<rule>."""
    return Join("", [rule_prefix(), f"_{rule.name}"])


def add_rules(t: Template) -> None:
    """RuleErrorsLogGroup and RuleErrorsRole, then each rule with its own role."""
    t.add_resource(log_group("RuleErrorsLogGroup", "/aws/iot/${AWS::StackName}/rule-errors"))
    # One role for every rule's error action: each distinct action's statement once.
    error_statements = {str(rule.error_action): role_statement(rule.error_action) for rule in RULES}
    t.add_resource(
        role(
            "RuleErrorsRole",
            "iot.amazonaws.com",
            "rule-errors",
            [s for s in error_statements.values() if s is not None],
        )
    )
    for rule in RULES:
        add_rule(t, rule)


def add_rule(t: Template, rule: rule_spec.Rule) -> None:
    """One TopicRule, its role (if an action needs one) and its resource permissions."""
    needs = [s for a in rule.actions if (s := role_statement(a)) is not None]
    role_arn: Any = None
    if needs:
        role_title = f"{rule.logical_id}Role"
        t.add_resource(
            role(role_title, "iot.amazonaws.com", f"{rule.name}-rule", needs, rule.condition)
        )
        role_arn = GetAtt(role_title, "Arn")
    for action in (*rule.actions, rule.error_action):
        permission = resource_permission(rule, action)
        if permission is not None:
            t.add_resource(permission)
    t.add_resource(
        iot.TopicRule(
            rule.logical_id,
            RuleName=rule_name(rule),
            TopicRulePayload=iot.TopicRulePayload(
                Description=rule.description,
                Sql=rule_text(rule.sql),
                AwsIotSqlVersion=rule.sql_version,
                RuleDisabled=False,
                Actions=[action_property(a, role_arn) for a in rule.actions],
                ErrorAction=action_property(rule.error_action, GetAtt("RuleErrorsRole", "Arn")),
            ),
            **({"Condition": rule.condition} if rule.condition else {}),
        )
    )
