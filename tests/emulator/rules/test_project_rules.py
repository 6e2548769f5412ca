"""The chat's own topic rules, read from templates/chat.json, run against moto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator.aws.provision import provision
from emulator.rules import BotoClients, MessageContext, RulesEngine, TopicRule
from emulator.template import load_template
from tests.emulator.rules.conftest import RecordingTarget

TEMPLATE = Path(__file__).resolve().parents[3] / "templates" / "chat.json"
CTX = MessageContext(client_id="alice-1", principal="alice", timestamp_ms=1700000000123)
VALID = {"type": "message", "room": "lobby", "name": "Alice", "text": "hi"}


def template_rules() -> list[TopicRule]:
    loaded = load_template(TEMPLATE)
    return [
        TopicRule(r.properties["RuleName"], r.properties["TopicRulePayload"])
        for r in loaded.resources("AWS::IoT::TopicRule")
    ]


class LoopbackTarget(RecordingTarget):
    """Republished messages go back through the engine, as the broker would do."""

    engine: RulesEngine | None = None

    async def republish(
        self, topic: str, payload: bytes, qos: int, role_arn: str | None = None, rule_name: str = ""
    ) -> None:
        await super().republish(topic, payload, qos, role_arn, rule_name)
        assert self.engine is not None
        self.engine.dispatch(topic, payload, MessageContext())


@pytest.fixture
def aws(boto_clients: BotoClients) -> BotoClients:
    """The template's tables, stream and log groups, created as the emulator creates them."""
    provision(load_template(TEMPLATE), boto_clients)
    return boto_clients


@pytest.fixture
async def chat(aws: BotoClients) -> Any:
    target = LoopbackTarget(clients=aws)
    engine = RulesEngine(template_rules(), target)
    target.engine = engine
    yield engine, target, aws
    await engine.close()


def dispatch(engine: RulesEngine, topic: str, body: dict[str, Any]) -> int:
    return engine.dispatch(topic, json.dumps(body).encode(), CTX)


async def test_all_rules_compile(chat: Any) -> None:
    engine, _, _ = chat
    assert sorted(r.name for r in engine.compiled) == [
        "local_lifecycle",
        "local_republish",
        "local_route",
        "local_store",
        "local_stream",
    ]
    assert engine.warnings == []


async def test_message_is_republished_stamped_and_stored(chat: Any) -> None:
    engine, target, aws = chat
    dispatch(engine, "chat/out", {**VALID, "id": "forged", "sender": "mallory"})
    await engine.drain()
    await engine.drain()  # the republished copy's store rule
    ((topic, body, qos),) = target.published
    assert (topic, qos) == ("chat/pub/lobby", 1)
    message = json.loads(body)
    assert message["sender"] == "alice" and message["clientId"] == "alice-1"
    assert message["ts"] == 1700000000123 and message["id"] != "forged"
    assert target.invoked == []  # messages do not go to the chat function
    items = aws("dynamodb").scan(TableName="local-messages")["Items"]
    assert len(items) == 1
    assert message["seq"] == 0  # absent from the command: 0, so the key always has one
    assert items[0]["sk"] == {"S": f"1700000000123#1000000000#{message['id']}"}
    assert items[0]["expiresAt"] == {"N": str(1700000000 + 7 * 86400)}
    assert engine.stats.actions_failed == 0


async def test_commands_are_routed_to_the_chat_function(chat: Any) -> None:
    engine, target, _ = chat
    dispatch(engine, "chat/out", {"type": "join", "room": "lobby", "name": "Alice"})
    await engine.drain()
    ((arn, event),) = target.invoked
    assert arn.endswith(":function:local-chat")
    assert event == {
        "type": "join",
        "room": "lobby",
        "name": "Alice",
        "clientId": "alice-1",
        "sender": "alice",
        "ts": 1700000000123,
    }


async def test_stream_rule_puts_to_kinesis_by_room(chat: Any) -> None:
    engine, _, aws = chat
    dispatch(engine, "chat/stream", VALID)
    await engine.drain()
    kinesis = aws("kinesis")
    shards = kinesis.describe_stream(StreamName="local-ChatStream")["StreamDescription"]["Shards"]
    records = []
    for shard in shards:  # the template's stream is on-demand: several shards
        iterator = kinesis.get_shard_iterator(
            StreamName="local-ChatStream",
            ShardId=shard["ShardId"],
            ShardIteratorType="TRIM_HORIZON",
        )["ShardIterator"]
        records += kinesis.get_records(ShardIterator=iterator)["Records"]
    (record,) = records
    assert record["PartitionKey"] == "lobby"
    assert json.loads(record["Data"])["sender"] == "alice"


async def test_lifecycle_events_go_to_presence(chat: Any) -> None:
    engine, target, _ = chat
    event = {"clientId": "alice-1", "eventType": "connected", "timestamp": 1, "versionNumber": 0}
    dispatch(engine, "$aws/events/presence/connected/alice-1", event)
    await engine.drain()
    ((arn, received),) = target.invoked
    assert arn.endswith(":function:local-presence")
    assert received == event


async def test_failed_lambda_is_logged_to_the_error_log_group(chat: Any) -> None:
    engine, target, aws = chat
    target.fail_lambda = "Function not found"
    dispatch(engine, "chat/out", {"type": "leave", "room": "lobby"})
    await engine.drain()
    assert engine.stats.error_actions_ok == 1
    events = aws("logs").get_log_events(
        logGroupName="/aws/iot/local/rule-errors", logStreamName="local_route"
    )["events"]
    error = json.loads(events[0]["message"])
    assert error["ruleName"] == "local_route"
    assert error["failures"][0]["errorMessage"] == "Function not found"
