"""What the broker tells the rules engine about each accepted message."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class PublishMetadata:
    """Metadata of one accepted publish, the inputs of IoT SQL's topic(), clientid(), ...

    Fields: topic (the publish topic), client_id (None for data-plane and internal
    publishes), principal (the authorizer's principalId, None when internal),
    source_ip, timestamp_ms (broker receive time), trace_id (uuid4 string), qos.
    """

    topic: str
    client_id: str | None = None
    principal: str | None = None
    source_ip: str | None = None
    timestamp_ms: int = field(default_factory=_now_ms)
    trace_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    qos: int = 0
