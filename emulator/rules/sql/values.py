"""Values of the IoT SQL dialect: JSON values plus Undefined, and AWS's standard conversions.

Representation: Int is ``int``, Decimal is ``float`` (double precision, not AWS's 34
digits), Boolean ``bool``, String ``str``, Array ``list``, Object ``dict``, Null ``None``
and Undefined the ``UNDEFINED`` singleton. As in SQL version 2016-03-23, a whole-number
Decimal (``10.0``) is processed as an Int (``10``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Final


class _Undefined:
    """Not a value: a missing field, or what a function returns for bad arguments."""

    __slots__ = ()
    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "Undefined"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> tuple[type[_Undefined], tuple[()]]:
        return (_Undefined, ())


UNDEFINED: Final = _Undefined()

# Strings that AWS converts to Decimal (its documented pattern).
_DECIMAL_RE = re.compile(r"-?\d+(\.\d+)?([eE]-?\d+)?")
_MAX_EXACT = 2**63


def normalize_number(value: float) -> int | float:
    """A whole-number Decimal becomes an Int, as SQL version 2016-03-23 does."""
    if value.is_integer() and abs(value) < _MAX_EXACT:
        return int(value)
    return value


def parse_json_float(text: str) -> int | float:
    """``json.loads`` hook: ``10.0`` in a payload is the Int 10 (SQL V2)."""
    return normalize_number(float(text))


def loads(data: bytes | str) -> Any:
    """Parse a JSON payload the way the rules engine sees it."""
    return json.loads(data, parse_float=parse_json_float)


def dumps(value: Any) -> str:
    """Compact JSON of a value (no Undefined inside: callers drop those first)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def type_name(value: Any) -> str:
    """The AWS type name (what typeof() returns)."""
    if value is UNDEFINED:
        return "Undefined"
    if value is None:
        return "Null"
    kind = type(value)
    if kind is bool:
        return "Boolean"
    if kind is int:
        return "Int"
    if kind is float:
        return "Decimal"
    if kind is str:
        return "String"
    if kind is list:
        return "Array"
    if kind is dict:
        return "Object"
    return "Binary"


def is_number(value: Any) -> bool:
    """Int or Decimal (a Boolean is not a number here, unlike in Python)."""
    kind = type(value)
    return kind is int or kind is float


def parse_decimal(text: str) -> int | float | Any:
    """A string to a number by AWS's pattern, or Undefined."""
    text = text.strip()
    if not _DECIMAL_RE.fullmatch(text):
        return UNDEFINED
    if "." not in text and "e" not in text and "E" not in text:
        return int(text)
    return normalize_number(float(text))


def number_operand(value: Any) -> int | float | Any:
    """An operand of arithmetic/comparison: numbers, numeric strings, else Undefined."""
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is str:
        return parse_decimal(value)
    return UNDEFINED


def to_int(value: Any) -> int | Any | None:
    """Standard conversion to Int: Decimals round to nearest, strings truncate."""
    kind = type(value)
    if kind is int:
        return value
    if kind is float:
        return round_half_up(value) if math.isfinite(value) else UNDEFINED
    if kind is str:
        number = parse_decimal(value)
        if number is UNDEFINED or not math.isfinite(number):
            return UNDEFINED
        return int(number)
    if value is None:
        return None
    return UNDEFINED


def round_half_up(value: float) -> int:
    """Round to nearest, ties away from zero (AWS's round())."""
    result = math.floor(abs(value) + 0.5)
    return int(-result if value < 0 else result)


def to_bool(value: Any) -> bool | Any:
    """Standard conversion to Boolean: only Booleans and "true"/"false" strings."""
    if value is True or value is False:
        return value
    if type(value) is str:
        lowered = value.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
    return UNDEFINED


def to_string(value: Any) -> str | Any:
    """Standard conversion to String (Null and Undefined give Undefined)."""
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return repr(value)
    if kind is list or kind is dict:
        return dumps(strip_undefined(value))
    return UNDEFINED


def strip_undefined(value: Any) -> Any:
    """Drop Undefined members, as serializing to JSON does."""
    kind = type(value)
    if kind is dict:
        return {k: strip_undefined(v) for k, v in value.items() if v is not UNDEFINED}
    if kind is list:
        return [strip_undefined(v) for v in value if v is not UNDEFINED]
    return value


def deep_equal(left: Any, right: Any) -> bool:
    """AWS's ``=``: same type (Int and Decimal compare as numbers), deep for collections."""
    lkind, rkind = type(left), type(right)
    if lkind is not rkind:
        if (lkind is int or lkind is float) and (rkind is int or rkind is float):
            return left == right
        return False
    if lkind is list:
        return len(left) == len(right) and all(
            deep_equal(a, b) for a, b in zip(left, right, strict=True)
        )
    if lkind is dict:
        return left.keys() == right.keys() and all(deep_equal(v, right[k]) for k, v in left.items())
    return bool(left == right)
