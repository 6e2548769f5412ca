"""Parameter defaults, overrides, placeholders and CloudFormation's constraint errors."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.template import ParameterError, template_from_dict

PARAMETERS: dict[str, Any] = {
    "TopicRoot": {"Type": "String", "Default": "chat", "AllowedPattern": "^[A-Za-z0-9_-]{1,32}$"},
    "MessageRetentionDays": {"Type": "Number", "Default": 7, "MinValue": 1, "MaxValue": 365},
    "EnableStream": {"Type": "String", "Default": "true", "AllowedValues": ["true", "false"]},
    "JwksUrl": {"Type": "String", "Default": ""},
    "ArtifactsBucket": {"Type": "String"},
    "ChatCodeKey": {"Type": "String"},
    "Mode": {"Type": "String", "AllowedValues": ["a", "b"]},
    "Short": {"Type": "String", "Default": "ab", "MinLength": 2, "MaxLength": 3},
}
RAW = {"Parameters": PARAMETERS, "Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}


def test_defaults_and_placeholders() -> None:
    template = template_from_dict(RAW)
    assert template.parameters["TopicRoot"] == "chat"
    assert template.parameters["MessageRetentionDays"] == "7"
    assert template.parameters["JwksUrl"] == ""
    assert template.parameters["ArtifactsBucket"] == "emulator-placeholder-artifactsbucket"
    assert template.parameters["Mode"] == "a"  # first allowed value
    assert sorted(template.placeholders) == ["ArtifactsBucket", "ChatCodeKey", "Mode"]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"TopicRoot": "room_1"}, {"TopicRoot": "room_1"}),
        ({"MessageRetentionDays": 30}, {"MessageRetentionDays": "30"}),
        ({"EnableStream": False}, {"EnableStream": "false"}),
        ({"ArtifactsBucket": "b"}, {"ArtifactsBucket": "b"}),
    ],
)
def test_overrides(overrides: dict[str, Any], expected: dict[str, Any]) -> None:
    template = template_from_dict(RAW, overrides)
    for key, value in expected.items():
        assert template.parameters[key] == value
    assert not set(overrides) & set(template.placeholders)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"TopicRoot": "bad/root"}, "TopicRoot must match pattern"),
        ({"TopicRoot": "x" * 33}, "TopicRoot must match pattern"),
        ({"EnableStream": "yes"}, r"EnableStream must be one of \['true', 'false'\], got 'yes'"),
        ({"MessageRetentionDays": "seven"}, "must be a number"),
        ({"MessageRetentionDays": 0}, "must be >= 1"),
        ({"MessageRetentionDays": 1000}, "must be <= 365"),
        ({"Short": "a"}, "at least 2"),
        ({"Short": "abcd"}, "at most 3"),
        ({"Nope": "x"}, "unknown parameter.*Nope.*declares"),
        ({"TopicRoot": ["a", "b"]}, "takes a single value"),
    ],
)
def test_constraint_errors(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        template_from_dict(RAW, overrides)


def test_constraint_description_is_used() -> None:
    raw = {
        "Parameters": {
            "P": {
                "Type": "String",
                "Default": "x",
                "AllowedPattern": "[0-9]+",
                "ConstraintDescription": "digits only",
            }
        },
        "Resources": {},
    }
    with pytest.raises(ParameterError, match="P digits only"):
        template_from_dict(raw)
