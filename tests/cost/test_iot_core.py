"""This design's traffic comes from the template's own rules, evaluated on real payloads."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from cost import payloads
from cost.designs import iot_core
from cost.stack import TEMPLATE, load_stack
from cost.workload import Workload

CHAT_OUT = "chat/out"


def test_a_chat_message_triggers_route_and_republish_and_the_room_copy_is_stored():
    stack = load_stack()
    command = payloads.client_command("message", 100)
    run = stack.run_rules(CHAT_OUT, command, payloads.CLIENT_ID)
    # route's WHERE is false (type = message) but it is triggered and bills one action
    assert (run.triggered, run.actions_billed) == (2, 2)
    assert not run.invoked
    [(topic, room_message)] = run.republished
    assert topic == "chat/pub/lobby"
    stamped = json.loads(room_message)
    assert stamped["sender"] == payloads.PRINCIPAL and stamped["clientId"] == payloads.CLIENT_ID
    stored = stack.run_rules(topic, room_message)
    assert (stored.triggered, stored.actions_billed) == (1, 1)
    [item] = stored.items_put
    assert item["sk"].endswith("#" + stamped["id"]) and "expiresAt" in item


def test_commands_go_to_the_chat_function_and_lifecycle_events_to_presence():
    stack = load_stack()
    join = stack.run_rules(CHAT_OUT, payloads.client_command("join"), payloads.CLIENT_ID)
    assert [(f, json.loads(e)["type"]) for f, e in join.invoked] == [("ChatFunction", "join")]
    roster = stack.run_rules("chat/pub/lobby", payloads.payloads(100, 5).roster)
    assert (roster.triggered, roster.actions_billed, roster.items_put) == (1, 1, ())
    event = json.dumps({"clientId": payloads.CLIENT_ID, "eventType": "connected"}).encode()
    presence = stack.run_rules(f"$aws/events/presence/connected/{payloads.CLIENT_ID}", event)
    assert [f for f, _ in presence.invoked] == ["PresenceFunction"]


def test_a_rule_added_to_the_template_is_billed(tmp_path: Path):
    raw = json.loads(TEMPLATE.read_text())
    extra = json.loads(json.dumps(raw["Resources"]["StoreRule"]))
    extra["Properties"]["TopicRulePayload"]["Sql"] = "SELECT * FROM 'chat/out'"
    raw["Resources"]["AuditRule"] = extra
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(raw))
    run = load_stack(True, path).run_rules(CHAT_OUT, payloads.client_command("message", 100))
    assert (run.triggered, run.actions_billed, len(run.items_put)) == (3, 3, 1)


def test_the_stream_rule_exists_only_with_the_stream_path():
    command = payloads.client_command("message", 100)
    with_stream = load_stack(True).run_rules("chat/stream", command, payloads.CLIENT_ID)
    assert with_stream.triggered == 1 and len(with_stream.records_put) == 1
    assert load_stack(False).run_rules("chat/stream", command).triggered == 0


def test_function_settings_come_from_the_template():
    stack = load_stack()
    assert stack.memory_mb("ChatFunction") == 512
    assert stack.token_lifetime_s() == 3600
    assert iot_core.connect_interval_s(stack) == 2880
    assert stack.stream_batching() == (100, 1.0)
    assert stack.retention_default() == Workload().retention_days


def test_qos0_subscriptions_save_exactly_one_puback_per_delivery():
    w = Workload(users=100, stream=False)
    qos1 = iot_core.usage(w)
    qos0 = iot_core.usage(dataclasses.replace(w, subscribe_qos=0))
    pubacks = sum(u for label, u in qos1.parts["iot_messaging"] if "PUBACK" in label)
    deliveries = sum(u for label, u in qos1.parts["iot_messaging"] if "deliveries" in label)
    assert pubacks > 0 and deliveries >= pubacks
    assert qos0.units("iot_messaging") == pytest.approx(qos1.units("iot_messaging") - pubacks)


def test_the_stream_path_writes_each_message_once_and_costs_stream_hours():
    """The chat function publishes stream messages; only the store rule writes them."""
    w = Workload(users=100, stream=True, stream_share=1.0)
    on = iot_core.usage(w)
    off = iot_core.usage(dataclasses.replace(w, stream=False, stream_share=0.0))
    writes = {label: u for label, u in on.parts["dynamodb_write_units"] if "message" in label}
    assert writes == {"stream message: to the room: store rule PutItem": w.chat_messages}
    assert on.units("dynamodb_write_units") == pytest.approx(off.units("dynamodb_write_units"))
    assert on.units("kinesis_stream_hours") == 720 and off.units("kinesis_stream_hours") == 0
    assert on.units("kinesis_data_in") > 0 and off.units("kinesis_data_in") == 0


def test_monitoring_is_counted_from_the_template():
    """Alarms bill per metric they list: the stream adds its failure-queue and lag
    alarms (one metric each); metric-math alarms count their metrics, not the sum."""
    assert load_stack(stream=False).alarm_metrics() == 22
    assert load_stack(stream=True).alarm_metrics() == 24
    assert load_stack().dashboards() == 1
    small = Workload(
        users=100, hours=10, messages=10, room_size=10, message_bytes=100, history=1, stream=False
    )
    usage = iot_core.usage(small)
    assert usage.units("cloudwatch_alarm_metrics") == 22
    assert usage.units("cloudwatch_custom_metrics") == 25
    emf = dict(usage.parts["logs_ingestion"])["functions' metric lines (EMF)"]
    assert emf == pytest.approx(usage.units("lambda_requests") * 200 / 2**30)
