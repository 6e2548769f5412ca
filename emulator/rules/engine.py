"""The rules engine: match each accepted publish against the topic rules, off the broker's path.

``dispatch`` only matches FROM filters and enqueues; each rule has its own bounded
queue and worker tasks, which evaluate SQL and run the actions, so a slow action of
one rule (a DynamoDB write waiting on moto) never holds up another (a republish), as
rules are independent on AWS. Under a flood, work is dropped and counted rather than
piling up in memory. A failing
action triggers the rule's ErrorAction with AWS's error message; nothing a rule does
can stop the engine.

A rule whose SQL calls out (get_dynamodb, get_secret, aws_lambda) is given its own
callouts (emulator.rules.callouts) and evaluated on the engine's thread pool, since each
call blocks; every other rule is evaluated inline, on the loop.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from emulator.rules.actions import (
    ActionEnv,
    RuleAction,
    RuleDefinitionError,
    UnsupportedAction,
    build_action,
)
from emulator.rules.sql import NO_MATCH, CompiledQuery, MessageContext, RuleMessage, compile_query
from emulator.rules.sql.context import Callouts
from emulator.rules.sql.errors import SqlEvaluationError
from emulator.rules.sql.query import DEFAULT_SQL_VERSION
from emulator.rules.substitution import templates_in
from emulator.rules.target import ActionTarget

log = logging.getLogger(__name__)

BASIC_INGEST_PREFIX = "$aws/rules/"


@dataclass(frozen=True)
class TopicRule:
    """A topic rule as CloudFormation declares it (intrinsics already resolved)."""

    name: str
    payload: Mapping[str, Any]


def _get(params: Mapping[str, Any], name: str, default: Any = None) -> Any:
    for key, value in params.items():
        if key.lower() == name.lower():
            return value
    return default


@dataclass(frozen=True)
class CompiledRule:
    """A rule ready to run: its compiled SQL and built actions."""

    name: str
    query: CompiledQuery
    actions: tuple[RuleAction, ...]
    error_action: RuleAction | None
    disabled: bool = False

    @classmethod
    def build(cls, rule: TopicRule) -> CompiledRule:
        """Compile SQL and templates; raises SqlSyntaxError / RuleDefinitionError."""
        payload = rule.payload
        sql = _get(payload, "Sql")
        if not isinstance(sql, str):
            raise RuleDefinitionError(f"rule {rule.name}: Sql is missing")
        version = _get(payload, "AwsIotSqlVersion") or DEFAULT_SQL_VERSION
        query = compile_query(sql, str(version))
        actions = tuple(build_action(spec) for spec in _get(payload, "Actions") or ())
        error_spec = _get(payload, "ErrorAction")
        error_action = build_action(error_spec) if error_spec else None
        for action in (*actions, error_action):  # ${@name} needs the SQL to SET @name
            for template in templates_in(action):
                template.check_variables(query.variables)
        disabled = _get(payload, "RuleDisabled", False) in (True, "true", "True")
        return cls(rule.name, query, actions, error_action, disabled)


@dataclass
class EngineStats:
    """Counters for tests and logs."""

    dispatched: int = 0
    scheduled: int = 0
    dropped: int = 0
    matched: int = 0
    not_matched: int = 0
    eval_errors: int = 0
    actions_ok: int = 0
    actions_failed: int = 0
    error_actions_ok: int = 0
    error_actions_failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class _Failure:
    action: RuleAction
    resource: str
    message: str


@dataclass
class RulesEngine:
    """Runs the template's topic rules against the broker's accepted publishes."""

    rules: Iterable[TopicRule]
    target: ActionTarget
    account_id: str = "123456789012"
    region: str = "us-east-1"
    queue_size: int = 10_000
    concurrency: int = 32
    action_timeout: float = 30.0
    blocking_threads: int = 8
    # A rule's name -> what its SQL's get_dynamodb(), get_secret() and aws_lambda() call;
    # None: they fail the evaluation.
    callouts: Callable[[str], Callouts] | None = None
    stats: EngineStats = field(default_factory=EngineStats, init=False)

    def __post_init__(self) -> None:
        self.compiled: tuple[CompiledRule, ...] = tuple(CompiledRule.build(r) for r in self.rules)
        self.by_name = {rule.name: rule for rule in self.compiled}
        self.warnings = [
            f"rule {rule.name}: action {action.kind} is not emulated"
            for rule in self.compiled
            for action in (*rule.actions, rule.error_action)
            if isinstance(action, UnsupportedAction)
        ]
        for warning in self.warnings:
            log.warning(warning)
        self._active = tuple(rule for rule in self.compiled if not rule.disabled)
        make = self.callouts
        self._callouts: dict[str, Callouts] = (
            {}
            if make is None
            else {rule.name: make(rule.name) for rule in self.compiled if rule.query.calls_out}
        )
        self._queues: dict[str, asyncio.Queue[RuleMessage]] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._in_flight = 0  # queued or running, across every rule's queue
        self._idle = asyncio.Event()  # set whenever nothing is in flight
        self._idle.set()
        self._executor = ThreadPoolExecutor(
            max_workers=self.blocking_threads, thread_name_prefix="rules-aws"
        )
        self._last_drop_log = 0.0
        self._closed = False

    # -- broker side -------------------------------------------------------------

    def dispatch(self, topic: str, payload: bytes, ctx: MessageContext | None = None) -> int:
        """Schedule every enabled rule whose FROM matches; returns how many were scheduled.

        Never blocks and never raises for a message: call it from the event loop's
        thread for every publish the broker accepted (after the publish policy check).
        """
        if self._closed:
            return 0
        self.stats.dispatched += 1
        rules, rule_topic = self._matching(topic)
        if not rules:
            return 0
        msg = RuleMessage(rule_topic, bytes(payload), ctx, self.account_id)
        scheduled = 0
        for rule in rules:
            try:
                self._queue_of(rule).put_nowait(msg)
                self._in_flight += 1
                self._idle.clear()
            except asyncio.QueueFull:
                self._dropped(rule, topic)
                continue
            scheduled += 1
        self.stats.scheduled += scheduled
        return scheduled

    def _matching(self, topic: str) -> tuple[list[CompiledRule], str]:
        """Rules for ``topic``; Basic Ingest topics go to one rule, prefix removed."""
        if topic.startswith(BASIC_INGEST_PREFIX):
            name, _, rest = topic[len(BASIC_INGEST_PREFIX) :].partition("/")
            rule = self.by_name.get(name)
            if rule is not None and not rule.disabled and rest:
                return [rule], rest
        return [rule for rule in self._active if rule.query.matches_topic(topic)], topic

    def _dropped(self, rule: CompiledRule, topic: str) -> None:
        self.stats.dropped += 1
        now = time.monotonic()
        if now - self._last_drop_log >= 1.0:
            self._last_drop_log = now
            log.warning(
                "rules queue full (%d): dropped rule %s for %s (%d dropped so far)",
                self.queue_size,
                rule.name,
                topic,
                self.stats.dropped,
            )

    def _queue_of(self, rule: CompiledRule) -> asyncio.Queue[RuleMessage]:
        """The rule's queue, with its workers started on first use."""
        queue = self._queues.get(rule.name)
        if queue is None:
            queue = self._queues[rule.name] = asyncio.Queue(maxsize=self.queue_size)
            self._workers += [
                asyncio.create_task(self._worker(rule, queue), name=f"rules-{rule.name}-{i}")
                for i in range(self.concurrency)
            ]
        return queue

    # -- workers -----------------------------------------------------------------

    async def _worker(self, rule: CompiledRule, queue: asyncio.Queue[RuleMessage]) -> None:
        while True:
            msg = await queue.get()
            try:
                await self.run_rule(rule, msg)
            except Exception:
                log.exception("rule %s crashed on %r", rule.name, msg)
            finally:
                queue.task_done()
                self._in_flight -= 1
                if not self._in_flight:
                    self._idle.set()

    async def run_rule(self, rule: CompiledRule, msg: RuleMessage) -> bool:
        """Evaluate one rule for one message and run its actions; True if it matched."""
        try:
            if rule.query.calls_out:  # it blocks on AWS: off the loop, with its callouts
                callouts = self._callouts.get(rule.name)
                own = msg if callouts is None else msg.with_callouts(callouts)
                if rule.query.variables:  # SET: one scope for the SQL and the templates
                    own = msg = rule.query.bind(own)
                output = await self._run_blocking(rule.query.evaluate, own)
            else:
                if rule.query.variables:  # SET: one scope for the SQL and the templates
                    msg = rule.query.bind(msg)
                output = rule.query.evaluate(msg)
        except SqlEvaluationError as exc:
            self.stats.eval_errors += 1
            log.warning("rule %s: %s (topic %s)", rule.name, exc, msg.topic)
            return False
        except Exception:
            self.stats.eval_errors += 1
            log.exception("rule %s: evaluation failed (topic %s)", rule.name, msg.topic)
            return False
        if output is NO_MATCH:
            self.stats.not_matched += 1
            return False
        self.stats.matched += 1
        env = ActionEnv(self.target, self._run_blocking, rule.name)
        if len(rule.actions) == 1:  # the common case: no task for a gather of one
            results = [await self._run_action(rule.actions[0], output, msg, env)]
        else:
            results = await asyncio.gather(
                *(self._run_action(action, output, msg, env) for action in rule.actions)
            )
        failures = [failure for failure in results if failure is not None]
        self.stats.actions_failed += len(failures)
        self.stats.actions_ok += len(results) - len(failures)
        if failures:
            await self._run_error_action(rule, msg, failures, env)
        return True

    async def _run_action(
        self, action: RuleAction, output: Any, msg: RuleMessage, env: ActionEnv
    ) -> _Failure | None:
        try:
            async with asyncio.timeout(self.action_timeout):
                await action.run(output, msg, env)
        except Exception as exc:  # every failure is reported, none escapes
            message = str(exc) or type(exc).__name__
            if isinstance(exc, TimeoutError):
                message = f"timed out after {self.action_timeout:g}s"
            resource = _safe_resource(action, msg)
            log.warning(
                "rule %s: %s on %s failed: %s",
                env.rule_name,
                action.failed_action,
                resource,
                message,
            )
            return _Failure(action, resource, message)
        return None

    async def _run_error_action(
        self, rule: CompiledRule, msg: RuleMessage, failures: list[_Failure], env: ActionEnv
    ) -> None:
        if rule.error_action is None:
            return
        error_message = self.error_payload(rule.name, msg, failures)
        failure = await self._run_action(rule.error_action, error_message, msg, env)
        if failure is None:
            self.stats.error_actions_ok += 1
        else:
            self.stats.error_actions_failed += 1
            log.error("rule %s: the error action failed too: %s", rule.name, failure.message)

    @staticmethod
    def error_payload(rule_name: str, msg: RuleMessage, failures: list[_Failure]) -> dict[str, Any]:
        """The error action's message, in AWS's documented format."""
        return {
            "ruleName": rule_name,
            "topic": msg.topic,
            "cloudwatchTraceId": msg.ctx.trace_id or str(uuid.uuid4()),
            "clientId": msg.ctx.client_id if msg.ctx.client_id is not None else "n/a",
            "base64OriginalPayload": base64.b64encode(msg.payload).decode("ascii"),
            "failures": [
                {
                    "failedAction": f.action.failed_action,
                    "failedResource": f.resource,
                    "errorMessage": f.message,
                }
                for f in failures
            ],
        }

    async def _run_blocking(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a blocking call (boto3) on the engine's thread pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    # -- lifecycle ---------------------------------------------------------------

    async def drain(self) -> None:
        """Wait until every scheduled rule has finished (actions and error actions), including
        rules scheduled by those (a republish matching another rule)."""
        await self._idle.wait()

    async def close(self, timeout: float = 10.0) -> None:
        """Stop accepting messages, finish in-flight work (up to ``timeout``), stop workers."""
        self._closed = True
        try:
            await asyncio.wait_for(self.drain(), timeout)
        except TimeoutError:
            log.warning("rules engine closed with work still queued")
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        self._executor.shutdown(wait=False, cancel_futures=True)


def _safe_resource(action: RuleAction, msg: RuleMessage) -> str:
    try:
        return action.resource(msg)
    except Exception:
        return ""
