"""EnableStream=false leaves out the stream and everything that needs it."""

from __future__ import annotations

import copy
from typing import Any

STREAM_TYPES = {"AWS::Kinesis::Stream", "AWS::Lambda::EventSourceMapping", "AWS::SQS::Queue"}


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
    import re

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
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text)}
                if not isinstance(value, str):
                    found |= references(value[1])
            else:
                found |= references(value)
    return found


def stack_without_stream(template: dict[str, Any]) -> dict[str, Any]:
    """Resources as CloudFormation would create them with EnableStream=false."""
    conditions = {"StreamEnabled": False}
    return {
        k: resolve(copy.deepcopy(v), conditions)
        for k, v in template["Resources"].items()
        if conditions.get(v.get("Condition", ""), True)
    }


def test_condition_is_enable_stream_true(template: dict[str, Any]) -> None:
    """StreamEnabled means exactly EnableStream == "true"."""
    assert template["Conditions"]["StreamEnabled"] == {
        "Fn::Equals": [{"Ref": "EnableStream"}, "true"]
    }


def test_stream_resources_are_conditional(template: dict[str, Any]) -> None:
    """Stream, mapping, failure queue, stream rule and its role all carry the condition."""
    conditional = {k for k, v in template["Resources"].items() if v.get("Condition")}
    assert conditional == {
        "ChatStream",
        "ChatStreamMapping",
        "StreamFailureQueue",
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
    known = (
        set(resources)
        | set(template["Parameters"])
        | {
            "AWS::StackName",
            "AWS::Region",
            "AWS::AccountId",
            "AWS::Partition",
            "AWS::NoValue",
        }
    )
    for name, resource in resources.items():
        missing = references(resource) - known
        assert not missing, f"{name} refers to {missing} without the stream"
    outputs = resolve(copy.deepcopy(template["Outputs"]), {"StreamEnabled": False})
    assert not references(outputs) - known


def test_with_stream_chat_reads_it(template: dict[str, Any]) -> None:
    """EnableStream=true: the mapping feeds the chat function, failures go to SQS."""
    mapping = template["Resources"]["ChatStreamMapping"]["Properties"]
    assert mapping["FunctionName"] == {"Ref": "ChatFunction"}
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["ChatStream", "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["BatchSize"] == 100
    assert mapping["MaximumBatchingWindowInSeconds"] == 1
    assert mapping["MaximumRetryAttempts"] == 3
    assert mapping["StartingPosition"] == "LATEST"
    assert mapping["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": ["StreamFailureQueue", "Arn"]}}
    }
