"""AWS's metering rules: how a size or a duration becomes the units a bill counts.

Each function follows the pricing page named in its docstring (cost/prices.toml keeps
the pages and the day they were read). Sizes are bytes; 1 KB is 1,024 bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

KB = 1024
GB = 1024**3

IOT_MESSAGE_BYTES = 5 * KB  # AWS IoT Core: messages (and rules) in 5 KB increments
WEBSOCKET_MESSAGE_BYTES = 32 * KB  # API Gateway WebSocket APIs: 32 KB increments
APPSYNC_OPERATION_BYTES = 5 * KB  # AppSync Event APIs: assumed, see prices.toml
DYNAMODB_WRITE_UNIT_BYTES = KB  # one write request unit per 1 KB written
DYNAMODB_READ_UNIT_BYTES = 4 * KB  # one read request unit per 4 KB read (strong)
DYNAMODB_STORAGE_OVERHEAD_BYTES = 100  # indexing overhead stored with every item
KINESIS_RECORD_ROUNDING_BYTES = KB  # on-demand data in: each record rounded up to 1 KB


def _check_size(size: int | float) -> None:
    if size < 0:
        raise ValueError(f"a size cannot be negative: {size}")


def increments(size: int | float, unit: int) -> int:
    """How many ``unit``-byte increments a message of ``size`` bytes is billed as.

    Rounded up, and never less than one: an empty message is still a message.
    """
    _check_size(size)
    return max(1, math.ceil(size / unit))


def iot_messages(size: int | float) -> int:
    """AWS IoT Core messages for one publish of ``size`` bytes (payload + topic).

    AWS IoT Core pricing: "messages are metered in 5 KB increments", so a 5,121-byte
    message is two. https://aws.amazon.com/iot-core/pricing/additional-details/
    """
    return increments(size, IOT_MESSAGE_BYTES)


def websocket_messages(size: int | float) -> int:
    """API Gateway WebSocket messages for one message of ``size`` bytes.

    Amazon API Gateway pricing: "Messages are metered in 32 KB increments. So, a 33 KB
    message is metered as two messages." https://aws.amazon.com/api-gateway/pricing/
    """
    return increments(size, WEBSOCKET_MESSAGE_BYTES)


def appsync_operations(size: int | float) -> int:
    """AppSync Event API operations for one publish or delivery of ``size`` bytes.

    The 5 KB increment is an assumption (see prices.toml, appsync_events_operations).
    """
    return increments(size, APPSYNC_OPERATION_BYTES)


def dynamodb_write_units(item_size: int | float) -> int:
    """Write request units for writing one item of ``item_size`` bytes (1 KB each)."""
    return increments(item_size, DYNAMODB_WRITE_UNIT_BYTES)


def dynamodb_read_units(read_size: int | float, *, consistent: bool) -> float:
    """Read request units for one read (GetItem, or a Query's summed item sizes).

    4 KB per unit, rounded up; an eventually consistent read costs half.
    https://aws.amazon.com/dynamodb/pricing/on-demand/
    """
    units = increments(read_size, DYNAMODB_READ_UNIT_BYTES)
    return float(units) if consistent else units / 2


def lambda_gb_seconds(duration_ms: float, memory_mb: int) -> float:
    """Billed GB-seconds of one invocation: duration rounded up to 1 ms, times memory.

    https://aws.amazon.com/lambda/pricing/ ("rounded up to the nearest 1 ms").
    """
    if duration_ms < 0 or memory_mb <= 0:
        raise ValueError(f"bad duration or memory: {duration_ms} ms, {memory_mb} MB")
    return math.ceil(duration_ms) / 1000 * (memory_mb / 1024)


def kinesis_billed_bytes(record_size: int | float) -> int:
    """Bytes billed as on-demand data in for one record: rounded up to the next 1 KB.

    https://aws.amazon.com/kinesis/data-streams/pricing/ ("a 4.5 KB record counts as
    5 KB").
    """
    return increments(record_size, KINESIS_RECORD_ROUNDING_BYTES) * KINESIS_RECORD_ROUNDING_BYTES


def _number_bytes(value: int | float | Decimal) -> int:
    """DynamoDB number size: one byte per two significant digits, plus one."""
    digits = Decimal(str(value)).normalize().as_tuple().digits
    significant = len(digits) if any(digits) else 1
    return math.ceil(significant / 2) + 1


def dynamodb_value_bytes(value: Any) -> int:
    """The stored size of one attribute value (DynamoDB Developer Guide, item sizes)."""
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, int | float | Decimal):
        return _number_bytes(value)
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, Mapping):
        return 3 + sum(
            len(str(k).encode("utf-8")) + 1 + dynamodb_value_bytes(v) for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return 3 + sum(1 + dynamodb_value_bytes(v) for v in value)
    raise TypeError(f"not a DynamoDB value: {type(value).__name__}")


def dynamodb_item_bytes(item: Mapping[str, Any]) -> int:
    """An item's size: the UTF-8 length of each attribute name plus its value's size."""
    return sum(len(name.encode("utf-8")) + dynamodb_value_bytes(v) for name, v in item.items())
