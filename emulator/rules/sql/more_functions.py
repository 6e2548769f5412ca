"""Functions of AWS's SQL reference added for issue 10: transform, time_to_epoch and
parse_time ("Functions", https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html).

Registered on import (``emulator.rules.sql`` imports this module). As everywhere in the
SQL layer, a bad argument gives Undefined, never an exception.
"""

from __future__ import annotations

import math
from typing import Any

from emulator.rules.sql.context import Message
from emulator.rules.sql.functions import register
from emulator.rules.sql.timefmt import PatternError, format_millis, parse_millis
from emulator.rules.sql.values import UNDEFINED, number_operand

MAX_TRANSFORM_BYTES = 128 * 1024  # "The array returned by this function is limited to 128 KiB."


@register("transform", 3)
def fn_transform(msg: Message, mode: Any, obj: Any, array: Any) -> Any:
    """``enrichArray``: each object of ``array`` with the attributes of ``obj`` added
    (``obj``'s win on a clash); any other mode, or an element that is not an object,
    Undefined."""
    if mode != "enrichArray" or type(obj) is not dict or type(array) is not list:
        return UNDEFINED
    if any(type(item) is not dict for item in array):
        return UNDEFINED
    result = [{**item, **obj} for item in array]
    return UNDEFINED if len(repr(result)) > MAX_TRANSFORM_BYTES else result


@register("time_to_epoch", 2)
def fn_time_to_epoch(msg: Message, text: Any, pattern: Any) -> Any:
    """Milliseconds since the epoch of a time stamp string read with a Java pattern."""
    if not isinstance(text, str) or not isinstance(pattern, str):
        return UNDEFINED
    try:
        return parse_millis(text, pattern)
    except PatternError:
        return UNDEFINED


@register("parse_time", 2, 3)
def fn_parse_time(msg: Message, pattern: Any, millis: Any, zone: Any = "UTC") -> Any:
    """Epoch milliseconds written with a Joda-Time pattern, in ``zone`` (default UTC)."""
    number = number_operand(millis)
    if not isinstance(pattern, str) or not isinstance(zone, str) or number is UNDEFINED:
        return UNDEFINED
    if not math.isfinite(number):
        return UNDEFINED
    try:
        return format_millis(pattern, int(number), zone)
    except (PatternError, OverflowError, ValueError):
        return UNDEFINED
