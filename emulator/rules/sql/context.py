"""What a rule sees of one message: the payload (parsed once) and the broker's metadata."""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

from emulator.rules.sql.values import UNDEFINED, loads

_UNPARSED: Any = object()


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

    def with_callouts(self, callouts: Callouts | None) -> RuleMessage:
        """The same message (its time and parsed payload) with ``callouts`` in its
        context: what one rule that calls out evaluates, its callouts its own."""
        ctx = dataclasses.replace(self.ctx, callouts=callouts)
        child = RuleMessage(self.topic, self.payload, ctx, self.account_id)
        child.timestamp_ms = self.timestamp_ms
        child._doc = self._doc
        return child

    def with_doc(self, doc: Any) -> RuleMessage:
        """The same message with ``doc`` as its document: what a nested SELECT's
        columns read for one element of its array."""
        child = RuleMessage(self.topic, self.payload, self.ctx, self.account_id)
        child.timestamp_ms = self.timestamp_ms
        child._doc = doc
        return child

    @property
    def is_json(self) -> bool:
        """Whether the payload parsed as JSON."""
        return self.doc is not UNDEFINED

    def __repr__(self) -> str:
        preview = self.payload[:60]
        return f"Message(topic={self.topic!r}, payload={preview!r})"


def encode_output(output: Any) -> bytes:
    """The bytes an action sends: raw bytes as they are, anything else as JSON.

    A lone Undefined serializes to the empty string, as AWS documents.
    """
    if isinstance(output, bytes | bytearray):
        return bytes(output)
    if output is UNDEFINED:
        return b""
    return json.dumps(output, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
