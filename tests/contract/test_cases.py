"""One table of good and bad message fields (cases.json), run against every reader of the
contract: the functions' validation, the republish rule's SQL as deployed (the template's
text through the emulator's IoT SQL engine) and the Python client's checks. The web
client's run is tests/web/contract.test.mjs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chatlib.validation import ValidationError, parse_command
from client.errors import ClientError
from client.limits import check_name, check_room, check_text
from emulator.rules.sql import NO_MATCH, MessageContext, RuleMessage, compile_query
from emulator.template import load_template

HERE = Path(__file__).resolve().parent
TABLE = json.loads((HERE / "cases.json").read_text(encoding="utf-8"))
TEMPLATE = HERE.parents[1] / "templates" / "chat.json"
ABSENT = object()


def value_of(case: dict[str, Any]) -> Any:
    if case.get("absent"):
        return ABSENT
    if "repeat" in case:
        r = case["repeat"]
        return r.get("prefix", "") + r["unit"] * r["times"] + r.get("suffix", "")
    return case["value"]


CASES = [
    pytest.param(field, value_of(case), case["ok"], id=f"{field}-{i}-{case.get('why', '')}")
    for field, cases in TABLE["fields"].items()
    for i, case in enumerate(cases)
]


def message(field: str, value: Any) -> dict[str, Any]:
    body = dict(TABLE["base"])
    if value is ABSENT:
        del body[field]
    else:
        body[field] = value
    return body


def test_the_table_has_both_verdicts_for_every_field() -> None:
    for field, cases in TABLE["fields"].items():
        assert {case["ok"] for case in cases} == {True, False}, field


@pytest.mark.parametrize(("field", "value", "ok"), CASES)
def test_functions(field: str, value: Any, ok: bool) -> None:
    """The chat function's validation of a message the stream rule delivers."""
    stamped = {
        **message(field, value),
        "id": "id-1",
        "ts": 1700000000000,
        "sender": "alice",
        "clientId": "alice-1",
    }
    try:
        parse_command(stamped)
    except ValidationError:
        assert not ok
    else:
        assert ok


@pytest.fixture(scope="module")
def republish_sql() -> Any:
    """The republish rule's SQL exactly as templates/chat.json deploys it."""
    template = load_template(TEMPLATE, stack_name="local")
    payload = template.resource("RepublishRule").properties["TopicRulePayload"]
    return compile_query(payload["Sql"], payload["AwsIotSqlVersion"])


@pytest.mark.parametrize(("field", "value", "ok"), CASES)
def test_republish_rule(republish_sql: Any, field: str, value: Any, ok: bool) -> None:
    """The rule republishes (and so stores) exactly the messages the functions accept."""
    body = json.dumps(message(field, value)).encode()
    ctx = MessageContext(client_id="alice-1", principal="alice", timestamp_ms=1700000000000)
    output = republish_sql.evaluate(RuleMessage("chat/out", body, ctx))
    assert (output is not NO_MATCH) == ok
    if ok and field == "seq":
        assert output["seq"] == (0 if value is ABSENT else value)


CHECKS = {"room": check_room, "name": check_name, "text": check_text}


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [p for p in CASES if p.values[0] in CHECKS and isinstance(p.values[1], str)],
)
def test_python_client(field: str, value: str, ok: bool) -> None:
    """The client refuses, before sending, what the chat would drop."""
    try:
        CHECKS[field](value)
    except ClientError:
        assert not ok
    else:
        assert ok
