"""Substitution templates (``${expression}``) in action fields.

As AWS documents, a template is evaluated separately from the SELECT: it sees the
original payload, the functions and the operators, never an ``AS`` alias. ``$$`` is a
literal ``$`` (how a republish action names a reserved ``$aws/...`` topic).

A template may read its rule's SET variables, ``${@name}``: "Variables can also be used
in action substitution templates" (and error action ones, "SET clause",
https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-set.html), which the
Substitution templates page, written before SET, does not list. A template is parsed
apart from its rule's SQL, so its variables are checked when the rule is built
(``check_variables``) and read from the message's scope, computed once per message for
the SQL and the templates alike (emulator.rules.sql.context.VariableScope).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from emulator.rules.sql import ast
from emulator.rules.sql.compiler import Evaluator, compile_expr
from emulator.rules.sql.context import RuleMessage
from emulator.rules.sql.errors import SqlSyntaxError
from emulator.rules.sql.parser import parse_expression
from emulator.rules.sql.values import UNDEFINED, to_string


@dataclass(frozen=True, slots=True)
class SubstitutionTemplate:
    """A parsed action field: literal text and compiled expressions, in order."""

    text: str
    parts: tuple[str | Evaluator, ...]
    variables: tuple[tuple[str, int], ...] = ()  # each ${@name}: name and offset in text

    @classmethod
    def parse(cls, text: str) -> SubstitutionTemplate:
        """Parse once at rule registration; raises SqlSyntaxError on a bad expression."""
        parts: list[str | Evaluator] = []
        variables: list[tuple[str, int]] = []
        literal: list[str] = []
        i, n = 0, len(text)
        while i < n:
            if text.startswith("$$", i):
                literal.append("$")
                i += 2
            elif text.startswith("${", i):
                end = _closing_brace(text, i + 2)
                source = text[i + 2 : end]
                try:
                    node = parse_expression(source)
                    evaluator = compile_expr(node, source)
                except SqlSyntaxError as exc:
                    raise SqlSyntaxError(
                        f"in substitution template: {exc.reason}", text, i + 2 + exc.position
                    ) from None
                variables += ((v.name, i + 2 + v.pos) for v in ast.variables_used(node))
                if literal:
                    parts.append("".join(literal))
                    literal = []
                parts.append(evaluator)
                i = end + 1
            else:
                literal.append(text[i])
                i += 1
        if literal:
            parts.append("".join(literal))
        return cls(text, tuple(parts), tuple(variables))

    def check_variables(self, assigned: tuple[str, ...]) -> None:
        """Refuse a variable its rule's SQL does not SET, as a rule's own SQL would."""
        for name, position in self.variables:
            if name not in assigned:
                raise SqlSyntaxError(
                    f"in substitution template: undefined variable @{name} "
                    "(the rule's SQL does not SET it)",
                    self.text,
                    position,
                )

    @property
    def is_static(self) -> bool:
        """True when the field has no expression (rendering is a constant)."""
        return all(isinstance(p, str) for p in self.parts)

    def render(self, msg: RuleMessage) -> str:
        """The field's value for ``msg``; Undefined and Null render as empty text."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                out.append(_as_text(part(msg)))
        return "".join(out)


def templates_in(action: Any) -> Iterator[SubstitutionTemplate]:
    """The substitution templates among a rule action's fields (a dataclass)."""
    if is_dataclass(action) and not isinstance(action, type):
        for part in fields(action):
            value = getattr(action, part.name)
            if isinstance(value, SubstitutionTemplate):
                yield value


def _as_text(value: Any) -> str:
    text = to_string(value)
    return "" if text is UNDEFINED else text


def _closing_brace(text: str, start: int) -> int:
    """Index of the ``}`` closing a ``${`` whose body begins at ``start``.

    Quotes and nested braces (JSON object literals) inside the expression are skipped.
    """
    depth, quote = 0, ""
    i = start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    raise SqlSyntaxError("unterminated substitution template '${'", text, start - 2)
