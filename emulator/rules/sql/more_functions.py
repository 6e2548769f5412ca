"""Functions of AWS's SQL reference added for issue 10: transform, time_to_epoch,
parse_time, and get_dynamodb, get_secret and aws_lambda, which call out ("Functions",
https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html).

Registered on import (``emulator.rules.sql`` imports this module). As everywhere in the
SQL layer, a bad argument gives Undefined. A call out needs the message context's
``callouts`` (emulator.rules.callouts: the rules engine gives each rule whose SQL calls
out its own, the rule tester gives them with ``--template``); without, or when the call
is denied or fails, the evaluation fails (SqlEvaluationError), so no action runs, as on
AWS. A callout blocks: evaluate such a query (``CompiledQuery.calls_out``) off the event
loop.
"""

from __future__ import annotations

import base64
import json
import math
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from emulator.rules.sql.context import Callouts, RuleMessage
from emulator.rules.sql.errors import SqlEvaluationError
from emulator.rules.sql.functions import register
from emulator.rules.sql.timefmt import PatternError, format_millis, parse_millis
from emulator.rules.sql.values import UNDEFINED, normalize_number, number_operand

# The functions that call AWS while a rule is evaluated.
CALLOUT_FUNCTIONS = frozenset({"get_dynamodb", "get_secret", "aws_lambda"})
MAX_TRANSFORM_BYTES = 128 * 1024  # "The array returned by this function is limited to 128 KiB."


@register("transform", 3)
def fn_transform(msg: RuleMessage, mode: Any, obj: Any, array: Any) -> Any:
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
def fn_time_to_epoch(msg: RuleMessage, text: Any, pattern: Any) -> Any:
    """Milliseconds since the epoch of a time stamp string read with a Java pattern."""
    if not isinstance(text, str) or not isinstance(pattern, str):
        return UNDEFINED
    try:
        return parse_millis(text, pattern)
    except PatternError:
        return UNDEFINED


@register("parse_time", 2, 3)
def fn_parse_time(msg: RuleMessage, pattern: Any, millis: Any, zone: Any = "UTC") -> Any:
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


def _callouts(msg: RuleMessage, name: str) -> Callouts:
    callouts = msg.ctx.callouts
    if callouts is None:
        raise SqlEvaluationError(
            f"{name}() calls AWS, and there is nothing to call: "
            "give the rule tester --template to reach a template's resources"
        )
    return callouts


def _plain(value: Any) -> Any:
    """DynamoDB's Decimals and sets as the JSON values rules see."""
    if isinstance(value, Decimal):
        return normalize_number(float(value)) if value % 1 else int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    return value


def _key_part(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return UNDEFINED
    return Decimal(repr(value)) if isinstance(value, float) else value


@register("get_dynamodb", 4, 6)
def fn_get_dynamodb(msg: RuleMessage, table: Any, *args: Any) -> Any:
    """GetItem by partition key (and sort key), as ``roleArn``: the item, or Undefined."""
    if len(args) not in (3, 5):
        return UNDEFINED
    *keys, role = args
    names, values = keys[0::2], [_key_part(v) for v in keys[1::2]]
    if not isinstance(table, str) or not isinstance(role, str) or UNDEFINED in values:
        return UNDEFINED
    if not all(isinstance(n, str) for n in names):
        return UNDEFINED
    serializer = TypeSerializer()
    key = {n: serializer.serialize(v) for n, v in zip(names, values, strict=True)}
    try:
        item = _callouts(msg, "get_dynamodb").get_item(table, key, role)
    except SqlEvaluationError:
        raise
    except Exception as exc:
        raise SqlEvaluationError(f"get_dynamodb({table!r}): {exc}") from None
    if item is None:
        return UNDEFINED
    deserializer = TypeDeserializer()
    return _plain({k: deserializer.deserialize(v) for k, v in item.items()})


@register("get_secret", 3, 4)
def fn_get_secret(msg: RuleMessage, secret_id: Any, secret_type: Any, *args: Any) -> Any:
    """The secret's SecretString (a key of its JSON with ``key``) or its SecretBinary in
    base64, as ``roleArn``."""
    *key, role = args
    wanted = key[0] if key else None
    if not isinstance(secret_id, str) or not isinstance(role, str):
        return UNDEFINED
    if secret_type not in ("SecretString", "SecretBinary"):
        return UNDEFINED
    try:
        secret = _callouts(msg, "get_secret").get_secret(secret_id, role)
    except SqlEvaluationError:
        raise
    except Exception as exc:
        raise SqlEvaluationError(f"get_secret({secret_id!r}): {exc}") from None
    if secret_type == "SecretBinary":  # noqa: S105 (a secret type name)
        if wanted is not None or "SecretBinary" not in secret:
            raise SqlEvaluationError(f"get_secret({secret_id!r}): no SecretBinary to read")
        return base64.b64encode(secret["SecretBinary"]).decode("ascii")
    text = secret.get("SecretString")
    if text is None:
        raise SqlEvaluationError(f"get_secret({secret_id!r}): no SecretString to read")
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if wanted is None:
        return document if isinstance(document, dict) else text
    if not isinstance(document, dict) or wanted not in document:
        raise SqlEvaluationError(f"get_secret({secret_id!r}): no key {wanted!r} in the secret")
    return document[wanted]


@register("aws_lambda", 2)
def fn_aws_lambda(msg: RuleMessage, function_arn: Any, event: Any) -> Any:
    """Invoke the function synchronously with ``event``: its JSON result."""
    if not isinstance(function_arn, str) or event is UNDEFINED:
        return UNDEFINED
    try:
        result = _callouts(msg, "aws_lambda").invoke(function_arn, event)
    except SqlEvaluationError:
        raise
    except Exception as exc:
        raise SqlEvaluationError(f"aws_lambda({function_arn!r}): {exc}") from None
    return UNDEFINED if result is None else result
