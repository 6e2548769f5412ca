"""stack/parameters.py: the parameters' names and defaults, what EnableStream=false
leaves out, and TopicRoot as the first level of every topic."""

from __future__ import annotations

import copy
import re
from typing import Any

from tests.stack.conftest import of_type, role_statements

STREAM_TYPES = {"AWS::Kinesis::Stream", "AWS::Lambda::EventSourceMapping"}


def test_parameters_follow_internals(template: dict[str, Any]) -> None:
    """Names and defaults the deploy tool and emulator pass."""
    params = template["Parameters"]
    assert params["TopicRoot"]["Default"] == "chat"
    assert params["TopicRoot"]["AllowedPattern"] == "^[A-Za-z0-9_-]{1,32}$"
    assert params["MessageRetentionDays"]["Default"] == "7"
    assert params["EnableStream"]["AllowedValues"] == ["true", "false"]
    assert params["EnableStream"]["Default"] == "true"
    for name in ("JwksUrl", "JwtIssuer", "JwtAudience"):
        assert params[name]["Default"] == ""


def test_options_that_cost_say_so(template: dict[str, Any]) -> None:
    """The security options with a monthly cost: their defaults, and the cost in USD in
    each description (docs/deploy.md, "Security posture", has the same figures)."""
    params = template["Parameters"]
    assert params["EnablePointInTimeRecovery"]["Default"] == "true"
    assert params["EnablePointInTimeRecovery"]["AllowedValues"] == ["true", "false"]
    assert params["SiteWebAclArn"]["Default"] == ""
    assert params["SiteLogBucket"]["Default"] == ""
    for name in ("EnablePointInTimeRecovery", "SiteWebAclArn", "SiteLogBucket"):
        assert "USD" in params[name]["Description"], name
    assert template["Conditions"]["SiteWebAclGiven"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "SiteWebAclArn"}, ""]}]
    }
    assert template["Conditions"]["SiteLogsEnabled"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "SiteLogBucket"}, ""]}]
    }


# ------------------------------------------------------------------ EnableStream


def resolve(node: Any, conditions: dict[str, bool]) -> Any:
    """Resolve Fn::If (and drop AWS::NoValue) for the given condition values."""
    if isinstance(node, list):
        out = [resolve(item, conditions) for item in node]
        return [item for item in out if item != {"Ref": "AWS::NoValue"}]
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, then, otherwise = node["Fn::If"]
            return resolve(then if conditions[name] else otherwise, conditions)
        return {k: resolve(v, conditions) for k, v in node.items()}
    return node


def references(node: Any) -> set[str]:
    """Logical ids a tree refers to through Ref, GetAtt or Fn::Sub."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                names = {m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text)}
                if not isinstance(value, str):
                    names -= set(value[1])  # the Sub's own variables
                    found |= references(value[1])
                found |= names
            else:
                found |= references(value)
    return found


def stack_with(template: dict[str, Any], conditions: dict[str, bool]) -> dict[str, Any]:
    """Resources as CloudFormation would create them with these condition values."""
    return {
        k: resolve(copy.deepcopy(v), conditions)
        for k, v in template["Resources"].items()
        if conditions.get(v.get("Condition", ""), True)
    }


PSEUDO_PARAMETERS = {"AWS::StackName", "AWS::Region", "AWS::AccountId", "AWS::Partition"}


def resolvable(template: dict[str, Any], resources: dict[str, Any]) -> set[str]:
    """What a Ref, GetAtt or Sub may name once these resources exist."""
    return set(resources) | set(template["Parameters"]) | PSEUDO_PARAMETERS | {"AWS::NoValue"}


def stack_without_stream(template: dict[str, Any]) -> dict[str, Any]:
    """Resources with EnableStream=false and every other option at its default (off)."""
    return stack_with(template, {name: False for name in template["Conditions"]})


def test_condition_is_enable_stream_true(template: dict[str, Any]) -> None:
    """StreamEnabled means exactly EnableStream == "true"."""
    assert template["Conditions"]["StreamEnabled"] == {
        "Fn::Equals": [{"Ref": "EnableStream"}, "true"]
    }


def test_stream_resources_are_conditional(template: dict[str, Any]) -> None:
    """Stream, mapping, failure queue and its alarm, the stream's lag alarm, stream rule
    and its role all carry the condition (the only other conditional resources are
    JwksLayer, test_layers.py, and AlarmEmailSubscription, test_observability.py)."""
    others = {"JwksLayer", "AlarmEmailSubscription"}
    conditional = {
        k for k, v in template["Resources"].items() if v.get("Condition") and k not in others
    }
    assert conditional == {
        "ChatStream",
        "ChatStreamMapping",
        "StreamFailureQueue",
        "StreamFailureAlarm",
        "StreamIteratorAgeAlarm",
        "StreamRule",
        "StreamRuleRole",
    }
    for name in conditional:
        assert template["Resources"][name]["Condition"] == "StreamEnabled"


def test_without_stream_nothing_refers_to_a_missing_resource(template: dict[str, Any]) -> None:
    """With EnableStream=false every reference still resolves (a dangling one would
    fail the deployment), and no stream-type resource is left."""
    resources = stack_without_stream(template)
    assert not {v["Type"] for v in resources.values()} & STREAM_TYPES
    assert "StreamFailureQueue" not in resources and "AsyncFailureQueue" in resources
    known = resolvable(template, resources)
    for name, resource in resources.items():
        missing = references(resource) - known
        assert not missing, f"{name} refers to {missing} without the stream"
    outputs = resolve(
        copy.deepcopy(template["Outputs"]), {name: False for name in template["Conditions"]}
    )
    assert not references(outputs) - known


def test_with_every_option_on_nothing_refers_to_a_missing_resource(
    template: dict[str, Any],
) -> None:
    """The site's opt-ins (web ACL, access logs) and the stream all on: every reference
    resolves too."""
    resources = stack_with(template, {name: True for name in template["Conditions"]})
    known = resolvable(template, resources)
    for name, resource in resources.items():
        assert not references(resource) - known, name


# --------------------------------------------------------------------- TopicRoot


def _strings(node: Any) -> list[str]:
    """Every string in a JSON tree (including Fn::Sub texts)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in _strings(key) + _strings(value)]
    return []


def test_no_literal_topic_root(template: dict[str, Any]) -> None:
    """'chat' is only TopicRoot's default: no topic, SQL or policy spells it out."""
    texts = _strings(template["Resources"])
    offenders = [s for s in texts if re.search(r"(^|[/' ])chat/", s)]
    assert not offenders, offenders


def test_every_topic_is_under_topic_root(resources: dict[str, Any]) -> None:
    """FROM clauses, republish topics and iot:Publish resources start at TopicRoot."""
    for name, rule in of_type(resources, "AWS::IoT::TopicRule").items():
        payload = rule["Properties"]["TopicRulePayload"]
        sql = payload["Sql"] if isinstance(payload["Sql"], str) else payload["Sql"]["Fn::Sub"]
        (topic,) = re.findall(r"FROM '([^']*)'", sql)
        if topic.startswith("$aws/events/"):
            continue  # lifecycle events are account-wide by AWS's design
        assert topic.startswith("${TopicRoot}/"), (name, topic)
        for action in payload["Actions"]:
            if "Republish" in action:
                assert action["Republish"]["Topic"]["Fn::Sub"].startswith("${TopicRoot}/")
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        for stmt in role_statements(role):
            if "iot:Publish" in stmt["Action"]:
                for res in stmt["Resource"]:
                    assert ":topic/${TopicRoot}/" in res["Fn::Sub"], name
