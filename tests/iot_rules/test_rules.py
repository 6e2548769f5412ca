"""iot_rules' rule modules: the registry, the rule data, and the message validation.

The republish rule's SQL is evaluated by the emulator's IoT SQL engine (itself tested
against the AWS IoT SQL reference), so the design's accept/reject cases are checked
against the SQL actually deployed, built from chatlib.limits.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from chatlib.limits import NAME_MAX, ROOM_PATTERN, TEXT_MAX
from emulator.rules.sql import NO_MATCH, Message, compile_query
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
        "FROM '{root}/out' WHERE type <> 'message'"
    )
    assert RULES_BY_NAME["lifecycle"].sql == "SELECT * FROM '$aws/events/presence/+/+'"
    store = RULES_BY_NAME["store"]
    assert "concat(cast(ts AS String), '#', id) AS sk" in store.sql
    assert "floor(ts / 1000) + {retention_days} * 86400 AS expiresAt" in store.sql
    assert store.sql.endswith("FROM '{root}/pub/+' WHERE type = 'message'")
    stream = RULES_BY_NAME["stream"]
    assert stream.condition == "StreamEnabled"
    assert stream.actions == (spec.KinesisAction(stream="ChatStream", partition_key="${room}"),)
    republish = RULES_BY_NAME["republish"]
    assert republish.actions == (spec.RepublishAction(topic="{root}/pub/${room}", qos=1),)
    for stamp in (
        "newuuid() AS id",
        "timestamp() AS ts",
        "principal() AS sender",
        "clientid() AS clientId",
    ):
        assert stamp in republish.sql
        assert stamp in stream.sql


def test_republish_sql_carries_the_limits() -> None:
    """One source of truth: the numbers and pattern come from chatlib.limits."""
    sql = RULES_BY_NAME["republish"].sql
    assert f"regexp_matches(room, '{ROOM_PATTERN}')" in sql
    assert f"length(name) <= {NAME_MAX}" in sql
    assert f"length(text) <= {TEXT_MAX}" in sql
    assert "length(name) >= 1" in sql and "length(text) >= 1" in sql


# ------------------------------------------------------- WHERE clause evaluation


def where(sql: str, payload: dict[str, Any]) -> bool:
    """Whether the rule fires for this payload published on <root>/out."""
    query = compile_query(spec.render(sql, root="chat", retention_days=7))
    return query.evaluate(Message("chat/out", json.dumps(payload).encode())) is not NO_MATCH


GOOD = {"type": "message", "room": "lobby", "name": "Alice", "text": "hi"}


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"text": "x" * TEXT_MAX},
        {"name": "n" * NAME_MAX},
        {"room": "R" * 64},
        {"room": "a_b-C9"},
        {"text": "é" * TEXT_MAX},  # characters, not bytes
    ],
    ids=json.dumps,
)
def test_valid_messages_are_republished(change: dict[str, Any]) -> None:
    """Within every limit: the rule fires."""
    assert where(RULES_BY_NAME["republish"].sql, {**GOOD, **change})


@pytest.mark.parametrize(
    "change",
    [
        {"text": ""},
        {"text": "x" * (TEXT_MAX + 1)},
        {"text": None},
        {"text": 5},
        {"text": ["hi"]},
        {"text": True},
        {"text": 12345},
        {"name": ""},
        {"name": "n" * (NAME_MAX + 1)},
        {"name": {"first": "A"}},
        {"room": "lob by"},
        {"room": "a/b"},
        {"room": "+"},
        {"room": "R" * 65},
        {"room": ""},
        {"room": 7},
        {"type": "join"},
    ],
    ids=json.dumps,
)
def test_invalid_messages_are_not_republished(change: dict[str, Any]) -> None:
    """Any limit broken, or a field of the wrong type: the rule does not fire."""
    assert not where(RULES_BY_NAME["republish"].sql, {**GOOD, **change})


@pytest.mark.parametrize("field", ["room", "name", "text"])
def test_missing_fields_are_not_republished(field: str) -> None:
    """A missing field is Undefined, and so fails its check."""
    payload = {k: v for k, v in GOOD.items() if k != field}
    assert not where(RULES_BY_NAME["republish"].sql, payload)
