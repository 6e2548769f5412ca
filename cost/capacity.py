"""The AWS limits this design meets as usage grows, and which the user's numbers reach
first. docs/capacity.md explains each: what users see then and what to change (a test
keeps every limit's name and quota in that page).

Demands are averages over the online hours. Account-wide ones grow with the users
online, per-room and per-connection ones with the room size (one with the message
size); the value at which each meets its quota is found by bisection.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from cost import assumptions, metering, payloads
from cost.designs import iot_core
from cost.stack import load_stack
from cost.workload import Workload

IOT_QUOTAS = "https://docs.aws.amazon.com/general/latest/gr/iot-core.html"
LAMBDA_QUOTAS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
DYNAMODB_PARTITIONS = (
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
)
DYNAMODB_QUOTAS = (
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html"
)
KINESIS_QUOTAS = "https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html"
LAMBDA_KINESIS = "https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html"
SEARCH_CAP = {"users": 1e10, "room_size": 1e9, "message_bytes": 8000}
WHOLE_FIELDS = {"message_bytes"}


@dataclass(frozen=True)
class Limit:
    key: str
    name: str  # as docs/capacity.md titles it
    quota: float
    unit: str
    adjustable: bool
    grows_with: str  # the Workload field that drives it
    demand: Callable[[Workload], float]
    page: str


@dataclass(frozen=True)
class Reach:
    """How close the user's numbers are to one limit, and where it binds."""

    limit: Limit
    demand: float
    at: float | None  # value of limit.grows_with where demand meets the quota; None: never

    @property
    def use(self) -> float:
        return self.demand / self.limit.quota


def _interval(w: Workload) -> float:
    return iot_core.connect_interval_s(load_stack(w.stream))


def _connect_rate(w: Workload) -> float:
    return w.per_second(w.connects(_interval(w)))


def _connects_per_user_hour(w: Workload) -> float:
    return w.connects_per_session(_interval(w)) / w.hours


def _counts(w: Workload) -> iot_core.Counts:
    return iot_core.model(w)[1]


def _p(w: Workload) -> payloads.Payloads:
    """The payloads whose size does not depend on the room (rosters: roster_bytes)."""
    return payloads.payloads(w.message_bytes, 1)


def _member_publishes(w: Workload) -> float:
    """Publishes in and out of one member's connection per second: the room's messages
    and rosters, plus its own sends and replies."""
    per_hour = (
        w.room_size * (w.messages + 2 * _connects_per_user_hour(w)) + w.messages + 2 * w.history
    )
    return per_hour / 3600


def _member_bytes(w: Workload) -> float:
    p = _p(w)
    topic = len(iot_core.ROOM_TOPIC)
    roster = payloads.roster_bytes(w.room_size) + topic
    rosters = 2 * _connects_per_user_hour(w) * w.room_size * roster
    return (w.room_size * w.messages * (len(p.room_message) + topic) + rosters) / 3600


def _room_writes(w: Workload) -> float:
    """Write units per second on one room's partition of the messages table."""
    per_message = metering.dynamodb_write_units(_p(w).stored_item)  # the store rule's only
    return w.room_size * w.messages / 3600 * per_message


def _room_reads(w: Workload) -> float:
    p = _p(w)
    backlog = metering.dynamodb_read_units(p.backlog_read, consistent=True)
    history = metering.dynamodb_read_units(p.history_read, consistent=True)
    return w.room_size * (_connects_per_user_hour(w) * backlog + w.history * history) / 3600


def _room_index_reads(w: Workload) -> float:
    read = _p(w).connection_item * w.room_size
    roster = metering.dynamodb_read_units(read, consistent=False)
    return w.room_size * 2 * _connects_per_user_hour(w) * roster / 3600


def _table_writes(w: Workload) -> float:
    units = metering.dynamodb_write_units(_p(w).stored_item)
    return w.per_second(w.chat_messages * units)


def _room_stream_records(w: Workload) -> float:
    return w.room_size * w.messages * w.stream_share / 3600 if w.stream else 0.0


LIMITS: tuple[Limit, ...] = (
    Limit(
        "connects",
        "IoT Core: connect requests per second per account",
        500,
        "per second",
        True,
        "users",
        _connect_rate,
        IOT_QUOTAS,
    ),
    Limit(
        "subscriptions",
        "IoT Core: subscriptions per second per account",
        500,
        "per second",
        True,
        "users",
        lambda w: 2 * _connect_rate(w),
        IOT_QUOTAS,
    ),
    Limit(
        "connections",
        "IoT Core: concurrent client connections per account",
        500_000,
        "connections",
        True,
        "users",
        lambda w: w.users,
        IOT_QUOTAS,
    ),
    Limit(
        "inbound",
        "IoT Core: inbound publish requests per second per account",
        20_000,
        "per second",
        True,
        "users",
        lambda w: w.per_second(_counts(w).inbound_publishes),
        IOT_QUOTAS,
    ),
    Limit(
        "outbound",
        "IoT Core: outbound publish requests per second per account",
        20_000,
        "per second",
        True,
        "users",
        lambda w: w.per_second(_counts(w).outbound_publishes),
        IOT_QUOTAS,
    ),
    Limit(
        "rules",
        "IoT Core: rule evaluations per second per account",
        20_000,
        "per second",
        True,
        "users",
        lambda w: w.per_second(_counts(w).rule_evaluations),
        IOT_QUOTAS,
    ),
    Limit(
        "lambda",
        "Lambda: concurrent executions per account and Region",
        1_000,
        "executions",
        True,
        "users",
        lambda w: w.per_second(_counts(w).lambda_seconds),
        LAMBDA_QUOTAS,
    ),
    Limit(
        "table_writes",
        "DynamoDB: on-demand write throughput per table",
        40_000,
        "write units per second",
        True,
        "users",
        _table_writes,
        DYNAMODB_QUOTAS,
    ),
    Limit(
        "member_publishes",
        "IoT Core: publish requests per second per connection",
        100,
        "per second",
        False,
        "room_size",
        _member_publishes,
        IOT_QUOTAS,
    ),
    Limit(
        "member_bytes",
        "IoT Core: throughput per connection",
        512 * metering.KB,
        "bytes per second",
        False,
        "room_size",
        _member_bytes,
        IOT_QUOTAS,
    ),
    Limit(
        "room_writes",
        "DynamoDB: writes to one partition (a room's messages)",
        1_000,
        "write units per second",
        False,
        "room_size",
        _room_writes,
        DYNAMODB_PARTITIONS,
    ),
    Limit(
        "room_reads",
        "DynamoDB: reads from one partition (a room's messages)",
        3_000,
        "read units per second",
        False,
        "room_size",
        _room_reads,
        DYNAMODB_PARTITIONS,
    ),
    Limit(
        "room_index_reads",
        "DynamoDB: reads from one partition (a room's roster)",
        3_000,
        "read units per second",
        False,
        "room_size",
        _room_index_reads,
        DYNAMODB_PARTITIONS,
    ),
    Limit(
        "shard_records",
        "Kinesis: records written per second to one shard (a room)",
        1_000,
        "records per second",
        False,
        "room_size",
        _room_stream_records,
        KINESIS_QUOTAS,
    ),
    Limit(
        "shard_consumer",
        "Stream consumer: records processed per second for one room",
        1000 / (assumptions.STREAM_RECORD_MS),
        "records per second",
        False,
        "room_size",
        _room_stream_records,
        LAMBDA_KINESIS,
    ),
)


def _with(w: Workload, field: str, value: float) -> Workload:
    return dataclasses.replace(w, **{field: int(value) if field in WHOLE_FIELDS else value})


def reached_at(limit: Limit, w: Workload) -> float | None:
    """The value of ``limit.grows_with`` at which the demand meets the quota (the
    current value if it already does; None if not below the search cap)."""
    field = limit.grows_with
    whole = field in WHOLE_FIELDS

    def over(value: float) -> bool:
        return limit.demand(_with(w, field, value)) >= limit.quota

    low = float(getattr(w, field))
    if over(low):
        return low
    high, cap = max(low * 2, 1.0), SEARCH_CAP[field]
    while not over(high):
        if high >= cap:
            return None
        low, high = high, min(high * 2, cap)
    while high - low > (1 if whole else high * 1e-6):
        mid = (low + high) // 2 if whole else (low + high) / 2
        low, high = (low, mid) if over(mid) else (mid, high)
    return high


def reaches(w: Workload) -> list[Reach]:
    """Every limit with the user's demand on it, the closest first."""
    out = [Reach(limit, limit.demand(w), reached_at(limit, w)) for limit in LIMITS]
    return sorted(out, key=lambda r: r.use, reverse=True)


def first_limit(w: Workload) -> Reach:
    """The limit the user's numbers come closest to (or already pass)."""
    return reaches(w)[0]
