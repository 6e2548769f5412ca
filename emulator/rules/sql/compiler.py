"""AST to Python closures, once per rule, so a message costs calls, not tree walks."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from emulator.rules.sql import ast
from emulator.rules.sql.context import RuleMessage
from emulator.rules.sql.errors import SqlEvaluationError, SqlSyntaxError
from emulator.rules.sql.functions import FUNCTIONS
from emulator.rules.sql.operators import BINARY, UNARY, op_eq
from emulator.rules.sql.values import (
    UNDEFINED,
    normalize_number,
    number_operand,
    to_bool,
    to_int,
    to_string,
)

log = logging.getLogger(__name__)

Evaluator = Callable[[RuleMessage], Any]


def _fixed_arguments(function: str, count: int) -> dict[int, str]:
    """The arguments of ``function`` (called with ``count``) that cannot use a SET
    variable: "roleArn parameters and parameters that switch the mode of a function
    similar to transform("enrichArray", attributes, values) do not support variables"
    ("SET clause", https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-set.html).
    The page names no full list: the emulator reads it as the roleArn of get_dynamodb()
    and get_secret() (their last argument), transform()'s mode and decode()'s scheme
    (base64 or proto: two modes with their own arguments)."""
    if function == "transform":
        return {0: "mode"}
    if function == "decode":
        return {1: "decoding scheme"}
    if function in ("get_dynamodb", "get_secret"):
        return {count - 1: "roleArn"}
    return {}


def compile_expr(node: ast.Node, sql: str, sql_version: str = "2016-03-23") -> Evaluator:
    """Turn an expression tree into ``f(message) -> value``.

    Raises SqlSyntaxError for what AWS refuses when the rule is created (unknown
    functions); wrong argument counts compile to Undefined, as AWS evaluates them.
    """
    return _Compiler(sql, sql_version).compile(node)


class _Compiler:
    def __init__(self, sql: str, sql_version: str) -> None:
        self.sql = sql
        self.sql_version = sql_version

    def compile(self, node: ast.Node) -> Evaluator:
        method = getattr(self, "_" + type(node).__name__.lower())
        result: Evaluator = method(node)
        return result

    def _literal(self, node: ast.Literal) -> Evaluator:
        value = node.value
        return lambda msg: value

    def _star(self, node: ast.Star) -> Evaluator:
        return lambda msg: msg.doc

    def _field(self, node: ast.Field) -> Evaluator:
        name = node.name

        def field(msg: RuleMessage) -> Any:
            doc = msg.doc
            return doc.get(name, UNDEFINED) if type(doc) is dict else UNDEFINED

        return field

    def _variable(self, node: ast.Variable) -> Evaluator:
        """A SET variable, read from the message's scope (context.VariableScope).

        Only a statement with SET compiles these, and CompiledQuery gives its messages
        a scope, so a statement without SET pays nothing for variables.
        """
        slot, name = node.slot, node.name
        if slot is None:  # a substitution template's: resolved by name when rendered

            def named(msg: Any) -> Any:
                scope = getattr(msg, "scope", None)
                if scope is None:
                    raise SqlEvaluationError(f"variable @{name} has no value: no SET clause")
                return scope.named(name, msg)

            return named

        def variable(msg: Any) -> Any:
            return msg.scope.get(slot, msg)

        return variable

    def _member(self, node: ast.Member) -> Evaluator:
        obj, name = self.compile(node.obj), node.name

        def member(msg: RuleMessage) -> Any:
            value = obj(msg)
            return value.get(name, UNDEFINED) if type(value) is dict else UNDEFINED

        return member

    def _index(self, node: ast.Index) -> Evaluator:
        obj, index = self.compile(node.obj), self.compile(node.index)

        def item(msg: RuleMessage) -> Any:
            value, key = obj(msg), index(msg)
            if type(value) is dict:
                return value.get(key, UNDEFINED) if type(key) is str else UNDEFINED
            if type(value) is not list:
                return UNDEFINED
            position = to_int(key)
            if type(position) is not int or not 0 <= position < len(value):
                return UNDEFINED
            return value[position]

        return item

    def _unary(self, node: ast.Unary) -> Evaluator:
        op, operand = UNARY[node.op], self.compile(node.operand)
        return lambda msg: op(operand(msg))

    def _binary(self, node: ast.Binary) -> Evaluator:
        op, left, right = BINARY[node.op], self.compile(node.left), self.compile(node.right)
        return lambda msg: op(left(msg), right(msg))

    def _call(self, node: ast.Call) -> Evaluator:
        if node.name == "sql_version":
            version = self.sql_version
            return lambda msg: version
        function = FUNCTIONS.get(node.name)
        if function is None:
            raise SqlSyntaxError(f"unknown function {node.name!r}", self.sql, node.pos)
        count = len(node.args)
        if count < function.min_args or (
            function.max_args is not None and count > function.max_args
        ):
            log.warning("%s() called with %d argument(s): always Undefined", node.name, count)
            return lambda msg: UNDEFINED
        for position, what in _fixed_arguments(node.name, count).items():
            variable = next(ast.variables_used(node.args[position]), None)
            if variable is not None:
                raise SqlSyntaxError(
                    f"{node.name}()'s {what} (argument {position + 1}) cannot use a SET "
                    f"variable (@{variable.name})",
                    self.sql,
                    variable.pos,
                )
        impl = function.impl
        args = [self._argument(node.name, i, arg) for i, arg in enumerate(node.args)]
        if not args:
            return lambda msg: impl(msg)
        if len(args) == 1:
            (a,) = args
            return lambda msg: impl(msg, a(msg))
        if len(args) == 2:
            a, b = args
            return lambda msg: impl(msg, a(msg), b(msg))
        return lambda msg: impl(msg, *[arg(msg) for arg in args])

    def _argument(self, function: str, position: int, node: ast.Node) -> Evaluator:
        """``*`` is the raw payload for encode(), the parsed payload elsewhere."""
        if isinstance(node, ast.Star) and function == "encode" and position == 0:
            return lambda msg: msg.payload
        return self.compile(node)

    def _cast(self, node: ast.Cast) -> Evaluator:
        expr, convert = self.compile(node.expr), _CASTS[node.type]
        return lambda msg: convert(expr(msg))

    def _case(self, node: ast.Case) -> Evaluator:
        whens = [(self.compile(c), self.compile(r)) for c, r in node.whens]
        default = self.compile(node.default) if node.default is not None else None
        subject = self.compile(node.subject) if node.subject is not None else None

        def case(msg: RuleMessage) -> Any:
            value = subject(msg) if subject is not None else UNDEFINED
            if subject is not None and value is UNDEFINED:
                # "If v is Undefined, the result of the case statement is Undefined."
                # (https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-case.html)
                return UNDEFINED
            for condition, result in whens:
                hit = condition(msg)
                if subject is not None:
                    hit = op_eq(value, hit)
                if hit is True:
                    return result(msg)
            return default(msg) if default is not None else UNDEFINED

        return case

    def _subquery(self, node: ast.SubQuery) -> Evaluator:
        """The array of what the inner SELECT gives for each element of its source that
        WHERE keeps; an object source is one element, anything else Undefined."""
        source = self.compile(node.source)
        where = self.compile(node.where) if node.where is not None else None
        columns = [
            (item.name, None if isinstance(item.expr, ast.Star) else self.compile(item.expr))
            for item in node.items
        ]
        value_column = columns[0][1] if node.value else None  # VALUE * does not parse

        def subquery(msg: RuleMessage) -> Any:
            found = source(msg)
            elements = found if type(found) is list else [found] if type(found) is dict else None
            if elements is None:
                return UNDEFINED
            results: list[Any] = []
            for element in elements:
                child = msg.with_doc(element)
                if where is not None and to_bool(where(child)) is not True:
                    continue
                if value_column is not None:
                    result = value_column(child)
                    if result is not UNDEFINED:
                        results.append(result)
                    continue
                row: dict[str, Any] = {}
                for name, column in columns:
                    if column is None:
                        if type(element) is dict:
                            row.update(element)
                        continue
                    cell = column(child)
                    if cell is not UNDEFINED:
                        row[name] = cell
                results.append(row)
            return results

        return subquery

    def _objectlit(self, node: ast.ObjectLit) -> Evaluator:
        items = [(key, self.compile(value)) for key, value in node.items]

        def obj(msg: RuleMessage) -> Any:
            out = {}
            for key, value in items:
                result = value(msg)
                if result is not UNDEFINED:
                    out[key] = result
            return out

        return obj

    def _arraylit(self, node: ast.ArrayLit) -> Evaluator:
        items = [self.compile(item) for item in node.items]

        def array(msg: RuleMessage) -> Any:
            return [v for v in (item(msg) for item in items) if v is not UNDEFINED]

        return array


def _cast_decimal(value: Any) -> Any:
    if value is True or value is False:
        return 1 if value else 0
    if value is None:
        return UNDEFINED
    number = number_operand(value)
    return number if number is UNDEFINED else normalize_number(float(number))


def _cast_double(value: Any) -> Any:
    return _cast_decimal(value)


def _cast_int(value: Any) -> Any:
    if value is True or value is False:
        return 1 if value else 0
    number = number_operand(value)
    if number is UNDEFINED or not math.isfinite(number):
        return UNDEFINED
    return math.floor(number) if type(number) is float else number


def _cast_bool(value: Any) -> Any:
    kind = type(value)
    if kind is int or kind is float:
        return value != 0
    return to_bool(value)


def _cast_string(value: Any) -> Any:
    return to_string(value)


_CASTS: dict[str, Callable[[Any], Any]] = {
    "String": _cast_string,
    "Int": _cast_int,
    "Decimal": _cast_decimal,
    "Double": _cast_double,
    "Bool": _cast_bool,
}
