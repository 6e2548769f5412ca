"""What the cost model reads from this design's template, templates/chat.json.

The template is the project's one source of truth: the topic rules (compiled by the
emulator's IoT SQL engine, so a rule added to iot_rules/ shows up in the bill), the
functions' memory, the guest-token lifetime, the stream's batching and the default
retention all come from it, through the emulator's template loader.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from emulator.rules.actions import (
    DynamoDBv2Action,
    KinesisAction,
    LambdaAction,
    RepublishAction,
)
from emulator.rules.engine import CompiledRule, TopicRule
from emulator.rules.sql import NO_MATCH, MessageContext, RuleMessage
from emulator.rules.sql.context import encode_output
from emulator.template import Template, load_template

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "templates" / "chat.json"
TOPIC_ROOT = "chat"


@dataclass(frozen=True)
class RuleRun:
    """What the rules do with one publish: how many trigger and bill, and their output.

    Every triggered rule bills at least one action, even when its WHERE is false
    (AWS IoT Core pricing: "a minimum of one action per rule").
    """

    triggered: int
    actions_billed: int
    republished: tuple[tuple[str, bytes], ...]  # (topic, payload)
    invoked: tuple[tuple[str, bytes], ...]  # (function logical id, event)
    items_put: tuple[dict[str, Any], ...]  # DynamoDBv2 PutItem items
    records_put: tuple[bytes, ...]  # Kinesis records


@dataclass(frozen=True)
class Stack:
    """The bound template and its compiled, enabled topic rules."""

    template: Template
    rules: tuple[CompiledRule, ...]

    def memory_mb(self, function: str) -> int:
        return int(self.template.resource(function).properties["MemorySize"])

    def token_lifetime_s(self) -> int:
        env = self.template.resource("TokenFunction").properties["Environment"]["Variables"]
        return int(env["TOKEN_LIFETIME_SECONDS"])

    def stream_batching(self) -> tuple[int, float]:
        """(BatchSize, MaximumBatchingWindowInSeconds) of the Kinesis mapping."""
        mapping = self.template.resource("ChatStreamMapping").properties
        return int(mapping["BatchSize"]), float(mapping.get("MaximumBatchingWindowInSeconds", 0))

    def alarm_metrics(self) -> int:
        """Metrics the deployed alarms list (CloudWatch bills alarms per metric listed: a
        metric-math alarm pays for each metric it reads, not for its expression)."""
        count = 0
        for alarm in self.template.resources("AWS::CloudWatch::Alarm"):
            queries = alarm.properties.get("Metrics")
            count += sum("MetricStat" in q for q in queries) if queries else 1
        return count

    def dashboards(self) -> int:
        return sum(1 for _ in self.template.resources("AWS::CloudWatch::Dashboard"))

    def retention_default(self) -> int:
        return int(self.template.raw["Parameters"]["MessageRetentionDays"]["Default"])

    def _function_id(self, arn: str) -> str:
        found = self.template.find(arn, "AWS::Lambda::Function")
        if found is None:
            raise LookupError(f"a rule invokes {arn}, which the template does not declare")
        return found.logical_id

    def run_rules(self, topic: str, payload: bytes, client_id: str | None = None) -> RuleRun:
        """Evaluate every rule on one publish, as the IoT rules engine would."""
        ctx = MessageContext(client_id=client_id, principal=client_id and client_id.split("-")[0])
        msg = RuleMessage(topic, payload, ctx)
        triggered = billed = 0
        republished: list[tuple[str, bytes]] = []
        invoked: list[tuple[str, bytes]] = []
        items: list[dict[str, Any]] = []
        records: list[bytes] = []
        for rule in self.rules:
            if not rule.query.matches_topic(topic):
                continue
            triggered += 1
            output = rule.query.evaluate(msg)
            if output is NO_MATCH:
                billed += 1
                continue
            billed += max(1, len(rule.actions))
            for action in rule.actions:
                if isinstance(action, RepublishAction):
                    republished.append((action.resource(msg), encode_output(output)))
                elif isinstance(action, LambdaAction):
                    invoked.append((self._function_id(action.resource(msg)), encode_output(output)))
                elif isinstance(action, DynamoDBv2Action):
                    items.append(json.loads(encode_output(output)))
                elif isinstance(action, KinesisAction):
                    records.append(encode_output(output))
                else:
                    raise NotImplementedError(f"no cost model for {type(action).__name__}")
        return RuleRun(
            triggered, billed, tuple(republished), tuple(invoked), tuple(items), tuple(records)
        )


@cache
def load_stack(stream: bool = True, path: Path = TEMPLATE) -> Stack:
    """The template bound as deployed with ``EnableStream`` on or off."""
    template = load_template(
        path, {"TopicRoot": TOPIC_ROOT, "EnableStream": "true" if stream else "false"}
    )
    rules = tuple(
        rule
        for rule in (
            CompiledRule.build(TopicRule(r.logical_id, r.properties["TopicRulePayload"]))
            for r in template.resources("AWS::IoT::TopicRule")
        )
        if not rule.disabled
    )
    return Stack(template, rules)
