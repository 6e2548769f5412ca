"""Operator semantics exactly as AWS's operator tables give them (Undefined included)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from emulator.rules.sql.values import (
    UNDEFINED,
    deep_equal,
    normalize_number,
    number_operand,
    to_bool,
    to_string,
)


def op_eq(left: Any, right: Any) -> Any:
    """``=``: Undefined if either side is; mismatched types are simply not equal."""
    if left is UNDEFINED or right is UNDEFINED:
        return UNDEFINED
    return deep_equal(left, right)


def op_ne(left: Any, right: Any) -> Any:
    """``<>`` / ``!=``: mismatched types are unequal (true)."""
    if left is UNDEFINED or right is UNDEFINED:
        return UNDEFINED
    return not deep_equal(left, right)


def _ordering(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    def op(left: Any, right: Any) -> Any:
        a, b = number_operand(left), number_operand(right)
        if a is UNDEFINED or b is UNDEFINED:
            return UNDEFINED
        return compare(a, b)

    return op


op_lt = _ordering(lambda a, b: a < b)
op_le = _ordering(lambda a, b: a <= b)
op_gt = _ordering(lambda a, b: a > b)
op_ge = _ordering(lambda a, b: a >= b)


def op_and(left: Any, right: Any) -> Any:
    """AND of Booleans or "true"/"false" strings; anything else is Undefined."""
    a, b = to_bool(left), to_bool(right)
    if a is UNDEFINED or b is UNDEFINED:
        return UNDEFINED
    return a and b


def op_or(left: Any, right: Any) -> Any:
    """OR of Booleans or "true"/"false" strings; anything else is Undefined."""
    a, b = to_bool(left), to_bool(right)
    if a is UNDEFINED or b is UNDEFINED:
        return UNDEFINED
    return a or b


def op_not(value: Any) -> Any:
    """NOT of a Boolean or a "true"/"false" string."""
    b = to_bool(value)
    return UNDEFINED if b is UNDEFINED else not b


def op_in(left: Any, right: Any) -> Any:
    """``x IN array``: whether an equal element is present."""
    if left is UNDEFINED or type(right) is not list:
        return UNDEFINED
    return any(deep_equal(left, item) for item in right)


def op_add(left: Any, right: Any) -> Any:
    """``+``: string concatenation if either side is a String, else numeric addition."""
    if left is UNDEFINED or right is UNDEFINED:
        return UNDEFINED
    lkind, rkind = type(left), type(right)
    if lkind is str or rkind is str:
        a, b = to_string(left), to_string(right)
        if a is UNDEFINED or b is UNDEFINED:
            return UNDEFINED
        return a + b
    if lkind is int and rkind is int:
        return left + right
    if lkind in (int, float) and rkind in (int, float):
        return _decimal(left + right)
    return UNDEFINED


def _arith(
    int_op: Callable[[int, int], Any], dec_op: Callable[[float, float], float]
) -> Callable[[Any, Any], Any]:
    """A binary arithmetic operator: Int op Int stays Int, numeric strings are Decimals."""

    def op(left: Any, right: Any) -> Any:
        lkind, rkind = type(left), type(right)
        if lkind is int and rkind is int:
            return int_op(left, right)
        a, b = number_operand(left), number_operand(right)
        if a is UNDEFINED or b is UNDEFINED:
            return UNDEFINED
        try:
            return _decimal(dec_op(float(a), float(b)))
        except (ZeroDivisionError, OverflowError, ValueError):
            return UNDEFINED

    return op


def _int_div(a: int, b: int) -> Any:
    """Integer division truncating toward zero (Java semantics); /0 is Undefined."""
    if b == 0:
        return UNDEFINED
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b >= 0) else -quotient


def _int_mod(a: int, b: int) -> Any:
    """Remainder with the sign of the dividend (Java's %); %0 is Undefined."""
    if b == 0:
        return UNDEFINED
    return a - b * _int_div(a, b)


def _decimal(value: float) -> Any:
    if math.isnan(value) or math.isinf(value):
        return UNDEFINED
    return normalize_number(value)


op_sub = _arith(lambda a, b: a - b, lambda a, b: a - b)
op_mul = _arith(lambda a, b: a * b, lambda a, b: a * b)
op_div = _arith(_int_div, lambda a, b: a / b)
op_mod = _arith(_int_mod, math.fmod)


def op_neg(value: Any) -> Any:
    """Unary minus of a number or numeric string."""
    number = number_operand(value)
    return UNDEFINED if number is UNDEFINED else -number


BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "=": op_eq, "<>": op_ne, "<": op_lt, "<=": op_le, ">": op_gt, ">=": op_ge,
    "AND": op_and, "OR": op_or, "IN": op_in,
    "+": op_add, "-": op_sub, "*": op_mul, "/": op_div, "%": op_mod,
}  # fmt: skip

UNARY: dict[str, Callable[[Any], Any]] = {"-": op_neg, "NOT": op_not}
