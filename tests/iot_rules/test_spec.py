"""iot_rules/spec.py: placeholders for CloudFormation and for IoT, and SQL literals."""

from __future__ import annotations

import pytest

from iot_rules import spec


def test_to_sub_escapes_iot_templates_and_maps_parameters() -> None:
    """${room} is for IoT, {root} for CloudFormation."""
    assert spec.to_sub("{root}/pub/${room}") == "${TopicRoot}/pub/${!room}"
    assert spec.to_sub("x {retention_days} y") == "x ${MessageRetentionDays} y"
    assert spec.to_sub("'^[a]{1,64}$'") == "'^[a]{1,64}$'"  # regex braces are not placeholders
    assert spec.render("{root}/pub/${room}", root="demo") == "demo/pub/${room}"
    with pytest.raises(KeyError):
        spec.render("{root}/out")


def test_sql_literals_refuse_quotes() -> None:
    """A quote in a pattern would end the literal early; refuse instead of escaping."""
    with pytest.raises(ValueError):
        spec.sql_string("it's")
