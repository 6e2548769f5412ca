"""Syntax tree of an IoT SQL statement: plain frozen dataclasses, compiled once per rule."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Node:
    """Base of every node; ``pos`` is the source offset, for error messages."""

    pos: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A number, string, boolean or null written in the SQL."""

    value: Any


@dataclass(frozen=True, slots=True)
class Star(Node):
    """``*``: the whole payload (raw bytes in encode(*, ...))."""


@dataclass(frozen=True, slots=True)
class Field(Node):
    """A top-level name, looked up in the payload object."""

    name: str


@dataclass(frozen=True, slots=True)
class Variable(Node):
    """``@name``, a SET variable. ``slot`` is its place in the statement's SET clause;
    None in a substitution template, which is parsed apart from its rule's SQL (the
    rule checks the name when it is built)."""

    name: str
    slot: int | None


@dataclass(frozen=True, slots=True)
class Member(Node):
    """``obj.name``."""

    obj: Node
    name: str


@dataclass(frozen=True, slots=True)
class Index(Node):
    """``obj[index]``."""

    obj: Node
    index: Node


@dataclass(frozen=True, slots=True)
class Unary(Node):
    """``-x`` or ``NOT x``."""

    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """``left op right`` (arithmetic, comparison, AND, OR, IN)."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A function call; ``name`` is lower-cased (IoT SQL function names ignore case)."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Cast(Node):
    """``cast(expr AS Type)``; ``type`` is one of String, Int, Decimal, Bool, Double."""

    expr: Node
    type: str


@dataclass(frozen=True, slots=True)
class Case(Node):
    """Simple (``subject`` set) or searched (``subject`` None) CASE."""

    subject: Node | None
    whens: tuple[tuple[Node, Node], ...]
    default: Node | None


@dataclass(frozen=True, slots=True)
class ObjectLit(Node):
    """A JSON object literal ``{"k": expr, ...}``."""

    items: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class ArrayLit(Node):
    """A JSON array literal ``[expr, ...]``."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class SelectItem:
    """One column: ``expr`` (or Star) and its output key."""

    expr: Node
    name: str


@dataclass(frozen=True, slots=True)
class SubQuery(Node):
    """A nested ``(SELECT [VALUE] items FROM source [WHERE cond])`` over an array."""

    items: tuple[SelectItem, ...]
    value: bool
    source: Node
    where: Node | None


@dataclass(frozen=True, slots=True)
class Assignment:
    """``@name = expr`` of a SET clause; ``expr`` may be Star (the JSON payload)."""

    pos: int
    name: str
    expr: Node


@dataclass(frozen=True, slots=True)
class Query:
    """A whole statement. ``topic_filter`` is None for a Basic-Ingest-only rule;
    ``assignments`` is the SET clause, in order (a variable's slot is its index)."""

    sql: str
    items: tuple[SelectItem, ...]
    value: bool = False
    topic_filter: str | None = None
    where: Node | None = None
    filter_pos: int = field(default=0)
    assignments: tuple[Assignment, ...] = ()


def walk(tree: Any) -> Iterator[Any]:
    """Every node of ``tree`` (a Query, a node, or a tuple of them), depth first, nested
    SELECTs included."""
    if isinstance(tree, tuple):
        for item in tree:
            yield from walk(item)
    elif is_dataclass(tree) and not isinstance(tree, type):
        yield tree
        for part in fields(tree):
            yield from walk(getattr(tree, part.name))


def called_functions(tree: Any) -> Iterator[str]:
    """The name of every function ``tree`` calls."""
    return (node.name for node in walk(tree) if isinstance(node, Call))


def variables_used(tree: Any) -> Iterator[Variable]:
    """Every variable reference in ``tree``."""
    return (node for node in walk(tree) if isinstance(node, Variable))
