"""Substitution templates (``${expression}``) in action fields.

As AWS documents, a template is evaluated separately from the SELECT: it sees the
original payload, the functions and the operators, never an ``AS`` alias. ``$$`` is a
literal ``$`` (how a republish action names a reserved ``$aws/...`` topic).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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

    @classmethod
    def parse(cls, text: str) -> SubstitutionTemplate:
        """Parse once at rule registration; raises SqlSyntaxError on a bad expression."""
        parts: list[str | Evaluator] = []
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
        return cls(text, tuple(parts))

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
