"""A compiled rule statement: topic match, WHERE and SELECT over one message.

A statement with a SET clause compiles to a ScopedQuery: each message it evaluates gets
a scope of its variables (``bind``), which the rule's substitution templates read too.
A statement without one compiles as before and does no more work per message.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from emulator.rules.sql import ast
from emulator.rules.sql.compiler import Evaluator, compile_expr
from emulator.rules.sql.context import RuleMessage, ScopedMessage
from emulator.rules.sql.errors import SqlEvaluationError
from emulator.rules.sql.more_functions import CALLOUT_FUNCTIONS
from emulator.rules.sql.parser import parse_query
from emulator.rules.sql.topics import TopicFilter
from emulator.rules.sql.values import UNDEFINED, to_bool

SQL_VERSIONS = frozenset({"2015-10-08", "2016-03-23", "beta"})
DEFAULT_SQL_VERSION = "2016-03-23"


class _NoMatch:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_MATCH"


NO_MATCH: Final = _NoMatch()
_STAR: Final = object()


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """Everything a rule needs per message, built once from its SQL text."""

    sql: str
    sql_version: str
    topic_filter: TopicFilter | None
    columns: tuple[tuple[str, Any], ...]
    value: bool
    where: Evaluator | None
    star_only: bool
    calls_out: bool = False  # uses get_dynamodb(), get_secret() or aws_lambda(): blocks
    variables: tuple[str, ...] = ()  # the SET clause's names, in order (without @)
    assignments: tuple[Evaluator, ...] = ()  # and their compiled expressions

    def bind(self, msg: RuleMessage) -> RuleMessage:
        """``msg`` with a fresh scope of this statement's SET variables (``msg`` itself
        when it has none): evaluate it, then render the rule's templates with it, so a
        variable is computed once per message for all of them."""
        if not self.variables:
            return msg
        return msg.with_scope(self.variables, self.assignments)

    def matches_topic(self, topic: str) -> bool:
        """Whether the FROM filter accepts ``topic``."""
        return self.topic_filter is not None and self.topic_filter.matches(topic)

    def evaluate(self, msg: RuleMessage) -> Any:
        """The SELECT output for ``msg``, or NO_MATCH if WHERE does not hold.

        The output is a dict, or for ``SELECT VALUE`` any value, or the raw payload
        bytes for ``SELECT *`` of a non-JSON payload. Undefined columns are left out.
        """
        where = self.where
        if where is not None and to_bool(where(msg)) is not True:
            return NO_MATCH
        if self.value:
            return self.columns[0][1](msg)
        if self.star_only:
            return msg.doc if msg.is_json else msg.payload
        out: dict[str, Any] = {}
        for name, column in self.columns:
            if column is _STAR:
                doc = msg.doc
                if type(doc) is dict:
                    out.update(doc)
                elif doc is UNDEFINED:
                    raise SqlEvaluationError(
                        "a binary payload can only be selected alone (SELECT *)"
                    )
                continue
            result = column(msg)
            if result is not UNDEFINED:
                out[name] = result
        return out


def compile_query(sql: str, sql_version: str = DEFAULT_SQL_VERSION) -> CompiledQuery:
    """Parse and compile a rule's SQL (cached: the same text compiles once).

    Raises SqlSyntaxError with the position of the problem.
    """
    return _compile_cached(sql, sql_version or DEFAULT_SQL_VERSION)


@dataclass(frozen=True, slots=True)
class ScopedQuery(CompiledQuery):
    """A statement with a SET clause ("SET clause",
    https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-set.html)."""

    def evaluate(self, msg: RuleMessage) -> Any:
        """As CompiledQuery.evaluate; a message not yet bound to this statement's
        variables (the rule tester's) is bound first."""
        if type(msg) is not ScopedMessage or msg.scope.evaluators is not self.assignments:
            msg = self.bind(msg)
        return CompiledQuery.evaluate(self, msg)


def _payload_variable(msg: RuleMessage) -> Any:
    """``SET @v = *``: "Variables can accept JSON payloads directly as is (non-JSON
    payloads must first be encoded/decoded)"."""
    doc = msg.doc
    if doc is UNDEFINED:
        raise SqlEvaluationError(
            "a SET variable cannot hold a non-JSON payload: encode it first, "
            "as in SET @v = encode(*, 'base64')"
        )
    return doc


@lru_cache(maxsize=512)
def _compile_cached(sql: str, sql_version: str) -> CompiledQuery:
    tree = parse_query(sql)
    assignments = tuple(
        _payload_variable
        if isinstance(item.expr, ast.Star)
        else compile_expr(item.expr, sql, sql_version)
        for item in tree.assignments
    )
    columns: list[tuple[str, Any]] = []
    for item in tree.items:
        if isinstance(item.expr, ast.Star):
            columns.append((item.name, _STAR))
        else:
            columns.append((item.name, compile_expr(item.expr, sql, sql_version)))
    where = compile_expr(tree.where, sql, sql_version) if tree.where is not None else None
    star_only = len(tree.items) == 1 and isinstance(tree.items[0].expr, ast.Star)
    topic_filter = TopicFilter.parse(tree.topic_filter) if tree.topic_filter else None
    calls_out = not CALLOUT_FUNCTIONS.isdisjoint(ast.called_functions(tree))
    parts = (sql, sql_version, topic_filter, tuple(columns), tree.value, where, star_only)
    if not assignments:
        return CompiledQuery(*parts, calls_out)
    names = tuple(item.name for item in tree.assignments)
    return ScopedQuery(*parts, calls_out, names, assignments)
