"""iot_rules' rule modules: the registry, the rule data, and the message validation.

What the republish rule accepts is checked against the shared table of good and bad
inputs (tests/contract/cases.json), with the SQL actually deployed.
"""

from __future__ import annotations

import re

import pytest

from chatlib import contract
from iot_rules import RULES, RULES_BY_NAME, spec


def test_registry_lists_the_five_rules_sorted() -> None:
    """Discovered from the modules, stable order for a stable template."""
    assert [r.name for r in RULES] == ["lifecycle", "republish", "route", "store", "stream"]
    assert RULES_BY_NAME["route"].logical_id == "RouteRule"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_rule_texts_use_the_root_placeholder(rule: spec.Rule) -> None:
    """Every topic but the account-wide lifecycle one is under {root}."""
    (topic,) = re.findall(r"FROM '([^']*)'", rule.sql)
    if rule.name == "lifecycle":
        assert topic == "$aws/events/presence/+/+"
    else:
        assert topic.startswith("{root}/")
    assert "chat/" not in rule.sql
    assert rule.error_action == spec.RULE_ERRORS


def test_shapes_from_the_design() -> None:
    """The exact SQL shapes the functions and the emulator are written against."""
    assert RULES_BY_NAME["route"].sql == (
        "SELECT *, clientid() AS clientId, principal() AS sender, timestamp() AS ts "
        "FROM '{root}/out' WHERE (type <> 'message' AND type <> 'typing') OR "
        "(CASE isUndefined(private) WHEN true THEN false ELSE private = true END)"
    )
    assert RULES_BY_NAME["lifecycle"].sql == "SELECT * FROM '$aws/events/presence/+/+'"
    store = RULES_BY_NAME["store"]
    assert (
        "concat(cast(ts AS String), '#', cast(floor(seq) + 1000000000 AS String), '#', id) AS sk"
        in store.sql
    )
    assert "floor(ts / 1000) + {retention_days} * 86400 AS expiresAt" in store.sql
    assert store.sql.endswith("FROM '{root}/pub/+' WHERE type = 'message'")
    stream = RULES_BY_NAME["stream"]
    assert stream.condition == "StreamEnabled"
    assert stream.actions == (spec.Kinesis(stream="ChatStream", partition_key="${room}"),)
    republish = RULES_BY_NAME["republish"]
    assert republish.actions == (spec.Republish(topic="{root}/pub/${room}", qos=1),)
    for stamp in (
        "CASE type WHEN 'message' THEN newuuid() END AS id",
        "timestamp() AS ts",
        "principal() AS sender",
        "CASE type WHEN 'message' THEN clientid() END AS clientId",
    ):
        assert stamp in republish.sql
    for stamp in (
        "newuuid() AS id",
        "timestamp() AS ts",
        "principal() AS sender",
        "clientid() AS clientId",
    ):
        assert stamp in stream.sql


def test_republish_sql_is_built_from_the_contract() -> None:
    """One source of truth: the numbers and classes come from chatlib.contract (what
    the SQL accepts is tests/contract/cases.json's business)."""
    sql = RULES_BY_NAME["republish"].sql
    assert f"NOT regexp_matches(room, '[^{contract.ROOM_CHARS}]')" in sql
    assert f"NOT regexp_matches(name, '(?s)^.{{{contract.NAME_MAX + 1}}}')" in sql
    assert f"NOT regexp_matches(text, '(?s)^.{{{contract.TEXT_MAX + 1}}}')" in sql
    assert f"[{contract.NAME_FORBIDDEN}]" in sql and f"[^{contract.TEXT_BLANK}]" in sql
    assert "$'" not in sql  # Java's $ matches before a final newline
