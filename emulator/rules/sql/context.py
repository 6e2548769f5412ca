"""What a rule sees of one message: the payload (parsed once) and the broker's metadata."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, Self

from emulator.rules.sql.errors import SqlEvaluationError
from emulator.rules.sql.values import UNDEFINED, loads

_UNPARSED: Any = object()
_UNSET: Any = object()

# "SET clause limits" (https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-set.html):
# "Maximum variable value size of 128 KiB (minified UTF-8 JSON string)" and the same for
# all variables together.
MAX_VARIABLE_BYTES = 128 * 1024
MAX_VARIABLES_BYTES = 128 * 1024


class Callouts(Protocol):
    """AWS calls the SQL functions that call out make, as the role they name, for one
    rule (emulator.rules.callouts). Each blocks; raise to fail the evaluation."""

    def get_item(self, table: str, key: dict[str, Any], role_arn: str) -> dict[str, Any] | None:
        """DynamoDB GetItem: the item in DynamoDB JSON, or None."""

    def get_secret(self, secret_id: str, role_arn: str) -> dict[str, Any]:
        """Secrets Manager GetSecretValue's answer (SecretString or SecretBinary)."""

    def invoke(self, function_arn: str, event: Any) -> Any:
        """A synchronous Lambda invocation on the rule's behalf: the function's result."""


@dataclass(frozen=True, slots=True)
class MessageContext:
    """Metadata the broker knows about a publish (the SQL functions' inputs).

    ``client_id`` None means the message did not come over MQTT (clientid() is "n/a",
    traceid() Undefined); ``timestamp_ms`` None means "when the rules engine sees it";
    ``account_id`` None means the engine's account.
    """

    client_id: str | None = None
    principal: str | None = None
    source_ip: str | None = None
    account_id: str | None = None
    timestamp_ms: int | None = None
    trace_id: str | None = None
    callouts: Callouts | None = None  # get_dynamodb(), get_secret(), aws_lambda()


class RuleMessage:
    """One publish as the rules evaluate it; the JSON parse is shared by all rules."""

    __slots__ = ("_doc", "account_id", "ctx", "payload", "timestamp_ms", "topic")

    def __init__(
        self,
        topic: str,
        payload: bytes,
        ctx: MessageContext | None = None,
        account_id: str = "123456789012",
    ) -> None:
        self.topic = topic
        self.payload = payload
        self.ctx = ctx or MessageContext()
        self.account_id = self.ctx.account_id or account_id
        self.timestamp_ms = (
            self.ctx.timestamp_ms if self.ctx.timestamp_ms is not None else int(time.time() * 1000)
        )
        self._doc: Any = _UNPARSED

    @property
    def doc(self) -> Any:
        """The payload as a JSON value, or Undefined if it is not JSON (binary)."""
        doc = self._doc
        if doc is _UNPARSED:
            try:
                doc = loads(self.payload)
            except (ValueError, UnicodeDecodeError, RecursionError):
                doc = UNDEFINED
            self._doc = doc
        return doc

    def _derived(self, ctx: MessageContext, doc: Any) -> Self:
        """A message like this one (topic, payload, time) with ``ctx`` and ``doc``."""
        child = type(self)(self.topic, self.payload, ctx, self.account_id)
        child.timestamp_ms = self.timestamp_ms
        child._doc = doc
        return child

    def with_callouts(self, callouts: Callouts | None) -> Self:
        """The same message (its time and parsed payload) with ``callouts`` in its
        context: what one rule that calls out evaluates, its callouts its own."""
        return self._derived(dataclasses.replace(self.ctx, callouts=callouts), self._doc)

    def with_doc(self, doc: Any) -> Self:
        """The same message with ``doc`` as its document: what a nested SELECT's
        columns read for one element of its array."""
        return self._derived(self.ctx, doc)

    def with_scope(
        self, names: tuple[str, ...], evaluators: tuple[Callable[[Any], Any], ...]
    ) -> ScopedMessage:
        """The same message with a fresh scope of SET variables: what one rule with a
        SET clause evaluates (and renders its templates against) for this message."""
        doc = self.doc  # parsed once, here, for this rule and the others
        child = ScopedMessage(self.topic, self.payload, self.ctx, self.account_id)
        child.timestamp_ms = self.timestamp_ms
        child._doc = doc
        child.scope = VariableScope(names, evaluators, doc)
        return child

    @property
    def is_json(self) -> bool:
        """Whether the payload parsed as JSON."""
        return self.doc is not UNDEFINED

    def __repr__(self) -> str:
        preview = self.payload[:60]
        return f"Message(topic={self.topic!r}, payload={preview!r})"


class ScopedMessage(RuleMessage):
    """A message as one rule with a SET clause sees it: with that rule's variables.

    A subclass, so messages of rules without SET carry nothing more. The nested
    SELECTs' element messages share the scope: a variable is the statement's, computed
    on the whole message wherever it is used.
    """

    __slots__ = ("scope",)

    scope: VariableScope

    def _derived(self, ctx: MessageContext, doc: Any) -> Self:
        child = super()._derived(ctx, doc)
        child.scope = self.scope
        return child


class VariableScope:
    """The SET variables of one rule for one message, each computed at most once.

    Lazily: a variable is computed the first time SELECT, WHERE, another assignment, a
    nested SELECT or an action's substitution template reads it, then kept for every
    other use of that message. The page says what a variable may hold and how big,
    not when it is computed; lazily, a WHERE that turns a message away costs none of the
    variables only SELECT reads (a get_dynamodb() or aws_lambda() call among them), and
    each is still computed once per message, as "reduce the number of function calls"
    promises. A variable that is never read is never computed, so its errors and its
    size never count. An Undefined value is kept as Undefined and reads as Undefined.

    The scope keeps the whole message's document, not the message (no reference
    cycle, so it is freed as soon as its message is): a variable read inside a nested
    SELECT is computed on the whole message.
    """

    __slots__ = ("_values", "doc", "evaluators", "names", "total_bytes")

    def __init__(
        self, names: tuple[str, ...], evaluators: tuple[Callable[[Any], Any], ...], doc: Any
    ) -> None:
        self.names = names
        self.evaluators = evaluators
        self.doc = doc
        self._values: list[Any] = [_UNSET] * len(names)
        self.total_bytes = 0

    def get(self, slot: int, msg: ScopedMessage) -> Any:
        """The variable in ``slot``, computed on first use on the whole message."""
        value = self._values[slot]
        if value is _UNSET:
            root = msg if msg._doc is self.doc else msg.with_doc(self.doc)
            value = self.evaluators[slot](root)
            self._count(slot, value)
            self._values[slot] = value
        return value

    def named(self, name: str, msg: ScopedMessage) -> Any:
        """The variable called ``name`` (a substitution template's reference)."""
        try:
            slot = self.names.index(name)
        except ValueError:
            raise SqlEvaluationError(f"variable @{name} is not set by the rule's SQL") from None
        return self.get(slot, msg)

    def _count(self, slot: int, value: Any) -> None:
        """Enforce the page's limits on the value's size as minified UTF-8 JSON."""
        if value is UNDEFINED:
            return
        try:
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise SqlEvaluationError(f"variable @{self.names[slot]}: not JSON ({exc})") from None
        size = len(text.encode())
        if size > MAX_VARIABLE_BYTES:
            raise SqlEvaluationError(
                f"variable @{self.names[slot]} is {size} bytes as JSON; "
                f"a variable holds {MAX_VARIABLE_BYTES} (128 KiB) at most"
            )
        self.total_bytes += size
        if self.total_bytes > MAX_VARIABLES_BYTES:
            raise SqlEvaluationError(
                f"the SET variables are {self.total_bytes} bytes as JSON with "
                f"@{self.names[slot]}; together they hold {MAX_VARIABLES_BYTES} (128 KiB) at most"
            )


def encode_output(output: Any) -> bytes:
    """The bytes an action sends: raw bytes as they are, anything else as JSON.

    A lone Undefined serializes to the empty string, as AWS documents.
    """
    if isinstance(output, bytes | bytearray):
        return bytes(output)
    if output is UNDEFINED:
        return b""
    return json.dumps(output, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
