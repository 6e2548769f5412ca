"""`python -m emulator sql`: try a rule's SQL on payloads, without a broker or a template.

    echo '{"temp": 31}' | python -m emulator sql --topic dev/1 \
        --query "SELECT temp FROM 'dev/+' WHERE temp > 30"

Reads one JSON payload per line on standard input and writes one line per payload: the
JSON the rule would emit (Undefined fields absent, as AWS drops them), ``null`` when the
topic filter or WHERE does not match, or ``{"error": "..."}`` when evaluation fails (AWS
would run the rule's error action). A query that does not parse exits 2 with the error.
With ``--template``, ``get_dynamodb``, ``get_secret`` and ``aws_lambda`` reach that
template's tables, secrets and functions: the emulator runs it on a loop of its own, on
loopback ports of its own, and gives the rule ``--rule-name``'s callouts
(emulator.rules.callouts), as the running emulator's rules engine gives each rule.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from emulator.rules.callouts import RuleCallouts
from emulator.rules.sql import (
    NO_MATCH,
    MessageContext,
    RuleMessage,
    SqlEvaluationError,
    SqlSyntaxError,
    compile_query,
)
from emulator.rules.sql.query import SQL_VERSIONS, CompiledQuery
from emulator.rules.sql.values import UNDEFINED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m emulator sql",
        description="Evaluate an AWS IoT SQL statement on JSON payloads read from standard "
        "input, one per line; print one JSON line per payload (null: no match).",
    )
    parser.add_argument(
        "--query", required=True, help="[SET @v = ...] SELECT ... FROM 'filter' [WHERE ...]"
    )
    parser.add_argument(
        "--topic",
        help="topic the payloads arrive on (default: the FROM filter, if it has no wildcard)",
    )
    parser.add_argument("--client-id", default=None, help="what clientid() answers")
    parser.add_argument("--principal", default=None, help="what principal() answers")
    parser.add_argument("--source-ip", default=None, help="what sourceip() answers")
    parser.add_argument("--account-id", default="123456789012", help="what accountid() answers")
    parser.add_argument(
        "--template",
        type=Path,
        default=None,
        help="run this template so get_dynamodb(), get_secret() and aws_lambda() reach "
        "its tables, secrets and functions",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="with --template: the tables and secrets kept there (as `make run` keeps them "
        "in .local-state), loaded first and saved back on exit",
    )
    parser.add_argument(
        "--rule-name",
        default="sql_tester",
        help="the rule aws_lambda() invokes for, as its functions' permissions see it",
    )
    parser.add_argument(
        "--sql-version", default="2016-03-23", choices=sorted(SQL_VERSIONS), help="awsIotSqlVersion"
    )
    return parser


def evaluate_line(
    query: CompiledQuery, topic: str, line: str, ctx: MessageContext, account: str
) -> Any:
    """The answer for one input line: the output, None (no match) or {"error": ...}."""
    try:
        json.loads(line)
    except ValueError as exc:
        return {"error": f"the payload is not JSON: {exc}"}
    if not query.matches_topic(topic):
        return None
    try:
        output = query.evaluate(RuleMessage(topic, line.encode(), ctx, account))
    except SqlEvaluationError as exc:
        return {"error": str(exc)}
    if output is NO_MATCH:
        return None
    return output


def _encode(answer: Any) -> str:
    if answer is UNDEFINED:  # SELECT VALUE of an Undefined expression: AWS sends nothing
        return '""'
    return json.dumps(answer, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def run(
    query: CompiledQuery, topic: str, lines: Iterable[str], ctx: MessageContext, account: str
) -> Iterator[str]:
    """One output line per non-blank input line."""
    for line in lines:
        text = line.strip()
        if text:
            yield _encode(evaluate_line(query, topic, text, ctx, account))


def _default_topic(query: CompiledQuery) -> str | None:
    text = query.topic_filter.text if query.topic_filter else None
    return text if text and not any(c in text.split("/") for c in ("+", "#")) else None


@contextmanager
def running(
    template: Path, rule_name: str, state_dir: Path | None = None
) -> Iterator[RuleCallouts]:
    """The template's emulator on a loop and loopback ports of its own, until the block
    ends: the callouts of the rule ``rule_name``."""
    from emulator.app import Emulator, Settings  # the emulator only when a template is given

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="sql-tester", daemon=True)
    thread.start()
    settings = Settings(template_path=template, port=0, mqtt_port=0, state_dir=state_dir)

    def call(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    async def make() -> Emulator:
        return Emulator(settings)

    emulator = call(make())
    try:
        call(emulator.start())
        yield emulator.rule_callouts(rule_name, loop)
    finally:
        call(emulator.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def main(
    argv: list[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    """The command; 2 on a bad query or arguments."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        query = compile_query(args.query, args.sql_version)
    except SqlSyntaxError as exc:
        print(f"emulator sql: {exc}", file=sys.stderr)
        return 2
    if query.topic_filter is None:
        print("emulator sql: the query has no FROM 'topic filter'", file=sys.stderr)
        return 2
    topic = args.topic or _default_topic(query)
    if topic is None:
        parser.error(f"the FROM filter {query.topic_filter.text!r} has wildcards: give --topic")
    ctx = MessageContext(
        client_id=args.client_id, principal=args.principal, source_ip=args.source_ip
    )
    sink, source = stdout or sys.stdout, stdin or sys.stdin
    if args.template is None:
        for out in run(query, topic, source, ctx, args.account_id):
            print(out, file=sink, flush=True)
        return 0
    if not args.template.is_file():
        parser.error(f"template not found: {args.template}")
    from emulator.template import TemplateError

    try:
        with running(args.template, args.rule_name, args.state_dir) as callouts:
            ctx = dataclasses.replace(ctx, callouts=callouts)
            for out in run(query, topic, source, ctx, args.account_id):
                print(out, file=sink, flush=True)
    except TemplateError as exc:
        print(f"emulator sql: template error: {exc}", file=sys.stderr)
        return 2
    return 0
