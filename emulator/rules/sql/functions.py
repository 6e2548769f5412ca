"""Built-in functions of IoT SQL, each following its table in the AWS SQL reference.

Every function takes the message first (for topic(), clientid(), ...) and its evaluated
arguments after; bad argument types give Undefined, never an exception.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from Crypto.Hash import MD2

from emulator.rules.sql.context import RuleMessage
from emulator.rules.sql.operators import op_mod
from emulator.rules.sql.values import (
    UNDEFINED,
    is_number,
    loads,
    normalize_number,
    number_operand,
    round_half_up,
    to_int,
    to_string,
    type_name,
)

Fn = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Function:
    """A registered function and how many arguments it takes."""

    impl: Fn
    min_args: int
    max_args: int | None


FUNCTIONS: dict[str, Function] = {}


def register(name: str, min_args: int, max_args: int | None = -1) -> Callable[[Fn], Fn]:
    """Add a function under its lower-case name (``max_args`` -1: same as min)."""

    def wrap(impl: Fn) -> Fn:
        FUNCTIONS[name.lower()] = Function(impl, min_args, min_args if max_args == -1 else max_args)
        return impl

    return wrap


def _decimal_result(value: float) -> Any:
    if math.isnan(value) or math.isinf(value):
        return UNDEFINED
    return normalize_number(value)


def _int_arg(value: Any) -> Any:
    """An index/count argument: numbers and numeric strings, truncated toward zero."""
    number = number_operand(value)
    if number is UNDEFINED or not math.isfinite(number):
        return UNDEFINED
    return int(number)


# -- metadata ----------------------------------------------------------------------


@register("topic", 0, 1)
def fn_topic(msg: RuleMessage, level: Any = None) -> Any:
    """The whole topic, or its ``level``-th segment (1-based)."""
    if level is None:
        return msg.topic
    index = to_int(level)
    if type(index) is not int:
        return UNDEFINED
    parts = msg.topic.split("/")
    return parts[index - 1] if 1 <= index <= len(parts) else UNDEFINED


@register("clientid", 0)
def fn_clientid(msg: RuleMessage) -> Any:
    """The publishing client's id, "n/a" when the message did not come over MQTT."""
    return msg.ctx.client_id if msg.ctx.client_id is not None else "n/a"


@register("principal", 0)
def fn_principal(msg: RuleMessage) -> Any:
    """The authenticated principal (custom authorizer principalId, cert, IAM id)."""
    return msg.ctx.principal if msg.ctx.principal is not None else UNDEFINED


@register("sourceip", 0)
def fn_sourceip(msg: RuleMessage) -> Any:
    """The publisher's IP address."""
    return msg.ctx.source_ip if msg.ctx.source_ip is not None else UNDEFINED


@register("traceid", 0)
def fn_traceid(msg: RuleMessage) -> Any:
    """The MQTT message's trace id, Undefined when not sent over MQTT."""
    return msg.ctx.trace_id if msg.ctx.trace_id is not None else UNDEFINED


@register("accountid", 0)
def fn_accountid(msg: RuleMessage) -> Any:
    """The account that owns the rule."""
    return msg.account_id


@register("timestamp", 0)
def fn_timestamp(msg: RuleMessage) -> Any:
    """Epoch milliseconds as observed by the rules engine (one value per message)."""
    return msg.timestamp_ms


@register("newuuid", 0)
def fn_newuuid(msg: RuleMessage) -> Any:
    """A random UUID string, new on every call."""
    return str(uuid.uuid4())


@register("rand", 0)
def fn_rand(msg: RuleMessage) -> Any:
    """A pseudo-random double in [0, 1)."""
    return random.random()


# -- type tests --------------------------------------------------------------------


@register("isundefined", 1)
def fn_isundefined(msg: RuleMessage, value: Any) -> Any:
    return value is UNDEFINED


@register("isnull", 1)
def fn_isnull(msg: RuleMessage, value: Any) -> Any:
    return value is None


@register("isstring", 1)
def fn_isstring(msg: RuleMessage, value: Any) -> Any:
    return type(value) is str


@register("isnumber", 1)
def fn_isnumber(msg: RuleMessage, value: Any) -> Any:
    return is_number(value)


@register("isboolean", 1)
def fn_isboolean(msg: RuleMessage, value: Any) -> Any:
    return type(value) is bool


@register("isarray", 1)
def fn_isarray(msg: RuleMessage, value: Any) -> Any:
    return type(value) is list


@register("isobject", 1)
def fn_isobject(msg: RuleMessage, value: Any) -> Any:
    return type(value) is dict


@register("typeof", 1)
def fn_typeof(msg: RuleMessage, value: Any) -> Any:
    """ "Int", "Decimal", "String", "Boolean", "Array", "Object", "Null" or "Undefined"."""
    return type_name(value)


@register("nanvl", 2)
def fn_nanvl(msg: RuleMessage, value: Any, default: Any) -> Any:
    """``default`` when ``value`` is Undefined, Null or NaN."""
    if value is UNDEFINED or value is None or (type(value) is float and math.isnan(value)):
        return default
    return value


@register("get_or_default", 1, 2)
def fn_get_or_default(msg: RuleMessage, value: Any, default: Any = UNDEFINED) -> Any:
    """``default`` when ``value`` is Undefined or Null."""
    return default if value is UNDEFINED or value is None else value


@register("get", 2)
def fn_get(msg: RuleMessage, collection: Any, key: Any) -> Any:
    """Element of an Array or String by 0-based index, or an Object's member by key."""
    kind = type(collection)
    if kind is dict:
        return collection.get(key, UNDEFINED) if type(key) is str else UNDEFINED
    if kind is list or kind is str:
        index = to_int(key)
        if type(index) is not int or not 0 <= index < len(collection):
            return UNDEFINED
        return collection[index]
    return UNDEFINED


# -- numbers -----------------------------------------------------------------------


def _unary_math(name: str, impl: Callable[[float], float]) -> None:
    def fn(msg: RuleMessage, value: Any) -> Any:
        number = number_operand(value)
        if number is UNDEFINED:
            return UNDEFINED
        try:
            return _decimal_result(impl(float(number)))
        except (ValueError, OverflowError):
            return UNDEFINED

    fn.__doc__ = f"{name}() of a number or numeric string (double precision)."
    register(name, 1)(fn)


for _name, _impl in {
    "sqrt": math.sqrt, "ln": math.log, "log": math.log10, "exp": math.exp,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin,
    "acos": math.acos, "atan": math.atan, "sinh": math.sinh, "cosh": math.cosh,
    "tanh": math.tanh,
}.items():  # fmt: skip
    _unary_math(_name, _impl)


@register("abs", 1)
def fn_abs(msg: RuleMessage, value: Any) -> Any:
    number = number_operand(value)
    return UNDEFINED if number is UNDEFINED else abs(number)


def _rounding(impl: Callable[[float], int]) -> Fn:
    def fn(msg: RuleMessage, value: Any) -> Any:
        number = number_operand(value)
        if number is UNDEFINED:
            return UNDEFINED
        if type(number) is int:
            return number
        return impl(number) if math.isfinite(number) else UNDEFINED

    return fn


register("ceil", 1)(_rounding(math.ceil))
register("floor", 1)(_rounding(math.floor))
register("round", 1)(_rounding(round_half_up))


@register("sign", 1)
def fn_sign(msg: RuleMessage, value: Any) -> Any:
    number = number_operand(value)
    if number is UNDEFINED:
        return UNDEFINED
    return (number > 0) - (number < 0)


@register("power", 2)
def fn_power(msg: RuleMessage, base: Any, exponent: Any) -> Any:
    a, b = number_operand(base), number_operand(exponent)
    if a is UNDEFINED or b is UNDEFINED:
        return UNDEFINED
    try:
        result = math.pow(float(a), float(b))
    except (ValueError, OverflowError):
        return UNDEFINED
    return _decimal_result(result)


@register("atan2", 2)
def fn_atan2(msg: RuleMessage, y: Any, x: Any) -> Any:
    a, b = number_operand(y), number_operand(x)
    if a is UNDEFINED or b is UNDEFINED:
        return UNDEFINED
    return _decimal_result(math.atan2(float(a), float(b)))


@register("mod", 2)
def fn_mod(msg: RuleMessage, left: Any, right: Any) -> Any:
    """Same as the % operator."""
    return op_mod(left, right)


register("remainder", 2)(fn_mod)


@register("trunc", 2)
def fn_trunc(msg: RuleMessage, value: Any, places: Any) -> Any:
    """Truncate to ``places`` decimals (clamped to 0..34)."""
    number, digits = number_operand(value), _int_arg(places)
    if number is UNDEFINED or digits is UNDEFINED:
        return UNDEFINED
    if type(number) is int:
        return number
    digits = max(0, min(34, digits))
    try:
        result = Decimal(repr(number)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_DOWN)
    except InvalidOperation:
        return UNDEFINED
    return normalize_number(float(result))


def _bitwise(impl: Callable[[int, int], int]) -> Fn:
    def fn(msg: RuleMessage, left: Any, right: Any) -> Any:
        a, b = number_operand(left), number_operand(right)
        if a is UNDEFINED or b is UNDEFINED:
            return UNDEFINED
        return impl(math.floor(a), math.floor(b))

    return fn


register("bitand", 2)(_bitwise(lambda a, b: a & b))
register("bitor", 2)(_bitwise(lambda a, b: a | b))
register("bitxor", 2)(_bitwise(lambda a, b: a ^ b))


@register("bitnot", 1)
def fn_bitnot(msg: RuleMessage, value: Any) -> Any:
    number = number_operand(value)
    return UNDEFINED if number is UNDEFINED else ~math.floor(number)


# -- strings -----------------------------------------------------------------------


def _string_fn(impl: Callable[[str], Any]) -> Fn:
    """A one-argument string function applying the standard String conversion."""

    def fn(msg: RuleMessage, value: Any) -> Any:
        text = to_string(value)
        return UNDEFINED if text is UNDEFINED else impl(text)

    return fn


_BLANKS = " \t\n\r"
register("lower", 1)(_string_fn(str.lower))
register("upper", 1)(_string_fn(str.upper))
register("trim", 1)(_string_fn(lambda s: s.strip(_BLANKS)))
register("ltrim", 1)(_string_fn(lambda s: s.lstrip(_BLANKS)))
register("rtrim", 1)(_string_fn(lambda s: s.rstrip(_BLANKS)))
register("length", 1)(_string_fn(len))
register("numbytes", 1)(_string_fn(lambda s: len(s.encode())))
for _hash in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512"):
    register(_hash, 1)(_string_fn(lambda s, _h=_hash: hashlib.new(_h, s.encode()).hexdigest()))
# OpenSSL (so hashlib) has no MD2 (RFC 1319); pycryptodome does.
register("md2", 1)(_string_fn(lambda s: MD2.new(s.encode()).hexdigest()))  # noqa: S303 (AWS SQL md2)


@register("concat", 0, None)
def fn_concat(msg: RuleMessage, *args: Any) -> Any:
    """Arrays are joined if any argument is one, else strings if any argument is one."""
    if not args:
        return UNDEFINED
    if len(args) == 1:
        return args[0]
    if any(type(a) is list for a in args):
        out: list[Any] = []
        for arg in args:
            if type(arg) is list:
                out.extend(arg)
            elif arg is not UNDEFINED:
                out.append(arg)
        return out
    if not any(type(a) is str for a in args):
        return UNDEFINED
    parts = [to_string(a) for a in args]
    if any(p is UNDEFINED for p in parts):
        return UNDEFINED
    return "".join(parts)


@register("substring", 2, 3)
def fn_substring(msg: RuleMessage, value: Any, start: Any, end: Any = None) -> Any:
    """0-based [start, end) with indices clamped to the string."""
    text = to_string(value)
    begin = _int_arg(start)
    if text is UNDEFINED or begin is UNDEFINED:
        return UNDEFINED
    size = len(text)
    begin = max(0, min(size, begin))
    if end is None:
        return text[begin:]
    stop = _int_arg(end)
    if stop is UNDEFINED:
        return UNDEFINED
    stop = max(0, min(size, stop))
    return text[begin:stop] if begin < stop else ""


def _two_strings(impl: Callable[[str, str], Any]) -> Fn:
    def fn(msg: RuleMessage, left: Any, right: Any) -> Any:
        a, b = to_string(left), to_string(right)
        if a is UNDEFINED or b is UNDEFINED:
            return UNDEFINED
        return impl(a, b)

    return fn


register("startswith", 2)(_two_strings(str.startswith))
register("endswith", 2)(_two_strings(str.endswith))
register("indexof", 2)(_two_strings(str.find))


@register("replace", 3)
def fn_replace(msg: RuleMessage, value: Any, old: Any, new: Any) -> Any:
    parts = [to_string(value), to_string(old), to_string(new)]
    if any(p is UNDEFINED for p in parts):
        return UNDEFINED
    return parts[0].replace(parts[1], parts[2])


def _pad(left: bool) -> Fn:
    def fn(msg: RuleMessage, value: Any, count: Any) -> Any:
        text, n = to_string(value), _int_arg(count)
        if text is UNDEFINED or n is UNDEFINED:
            return UNDEFINED
        spaces = " " * max(0, min(1000, n))
        return spaces + text if left else text + spaces

    return fn


register("lpad", 2)(_pad(left=True))
register("rpad", 2)(_pad(left=False))


@register("chr", 1)
def fn_chr(msg: RuleMessage, value: Any) -> Any:
    code = number_operand(value)
    if code is UNDEFINED:
        return UNDEFINED
    code = math.floor(code)
    return chr(code) if 0 <= code <= 127 else UNDEFINED


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


@register("regexp_matches", 2)
def fn_regexp_matches(msg: RuleMessage, value: Any, pattern: Any) -> Any:
    """Whether the string contains a match (anchor the pattern for a full match)."""
    text, source = to_string(value), to_string(pattern)
    if text is UNDEFINED or source is UNDEFINED:
        return UNDEFINED
    compiled = _regex(source)
    return UNDEFINED if compiled is None else compiled.search(text) is not None


@register("regexp_substr", 2)
def fn_regexp_substr(msg: RuleMessage, value: Any, pattern: Any) -> Any:
    """The first match, or the empty string."""
    text, source = to_string(value), to_string(pattern)
    if text is UNDEFINED or source is UNDEFINED:
        return UNDEFINED
    compiled = _regex(source)
    if compiled is None:
        return UNDEFINED
    found = compiled.search(text)
    return found.group(0) if found else ""


register("regexp_substring", 2)(fn_regexp_substr)


@register("regexp_replace", 3)
def fn_regexp_replace(msg: RuleMessage, value: Any, pattern: Any, replacement: Any) -> Any:
    """Replace every match; ``$1`` in the replacement is a capture group (Java style)."""
    parts = [to_string(value), to_string(pattern), to_string(replacement)]
    if any(p is UNDEFINED for p in parts):
        return UNDEFINED
    compiled = _regex(parts[1])
    pieces = _java_replacement(parts[2])
    if compiled is None or pieces is None:
        return UNDEFINED

    def expand(found: re.Match[str]) -> str:
        return "".join(p if isinstance(p, str) else (found.group(p) or "") for p in pieces)

    try:
        return compiled.sub(expand, parts[0])
    except IndexError:
        return UNDEFINED


@lru_cache(maxsize=256)
def _java_replacement(text: str) -> tuple[str | int, ...] | None:
    """Split a Java replacement string into literals and group numbers."""
    pieces: list[str | int] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            pieces.append(text[i + 1])
            i += 2
        elif ch == "$":
            j = i + 1
            while j < n and text[j].isdigit():
                j += 1
            if j == i + 1:
                return None
            pieces.append(int(text[i + 1 : j]))
            i = j
        else:
            pieces.append(ch)
            i += 1
    return tuple(pieces)


# -- encodings ---------------------------------------------------------------------


@register("encode", 2)
def fn_encode(msg: RuleMessage, value: Any, scheme: Any) -> Any:
    """base64 of raw bytes (``encode(*, 'base64')``) or of the value's String form."""
    if type(scheme) is not str or scheme.lower() != "base64":
        return UNDEFINED
    if isinstance(value, bytes):
        data = value
    else:
        text = to_string(value)
        if text is UNDEFINED:
            return UNDEFINED
        data = text.encode()
    return base64.b64encode(data).decode("ascii")


@register("decode", 2)
def fn_decode(msg: RuleMessage, value: Any, scheme: Any) -> Any:
    """base64-decode; a decoded JSON document becomes an addressable value."""
    if type(scheme) is not str or scheme.lower() != "base64" or type(value) is not str:
        return UNDEFINED
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        return loads(data)
    except (ValueError, UnicodeDecodeError):
        pass
    try:
        return data.decode()
    except UnicodeDecodeError:
        return None
