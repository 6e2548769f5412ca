"""The user's numbers, checked, and the monthly counts every design derives from them.

``users`` are online at the same time for ``hours`` a day (one session each a day);
a month is 30 days. Rates are averages over the online hours: a peak hour twice as busy
needs twice the capacity (docs/capacity.md) but costs the same per month.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

DAYS_PER_MONTH = 30
TEXT_BYTES_MAX = 8000  # 2,000 characters (the rules' limit) of up to 4 UTF-8 bytes each
RETENTION_DAYS_MAX = 3650  # the template's MessageRetentionDays MaxValue


class WorkloadError(ValueError):
    """A number out of range; the message names the command-line option."""


@dataclass(frozen=True)
class Workload:
    users: float = 1000  # users online at once, during the online hours
    hours: float = 8  # hours a day they are online
    messages: float = 20  # chat messages each user sends per hour
    room_size: float = 20  # members per room
    message_bytes: int = 100  # bytes of text per chat message (UTF-8)
    history: float = 1  # history pages each user loads per hour
    retention_days: int = 7  # how long messages are kept (DynamoDB TTL)
    stream: bool = True  # the Kinesis stream path exists (template EnableStream)
    stream_share: float = 0.0  # share of chat messages sent on <root>/stream
    subscribe_qos: int = 1  # QoS of the web client's subscriptions (this design only)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "stream" and not (isinstance(value, int | float) and math.isfinite(value)):
                raise WorkloadError(f"{option(f.name)} must be a number, got {value!r}")
        _at_least("users", self.users, 0)
        _between("hours", self.hours, 0, 24, low_open=True)
        _at_least("messages", self.messages, 0)
        _at_least("room_size", self.room_size, 1)
        _whole_between("message_bytes", self.message_bytes, 1, TEXT_BYTES_MAX)
        _at_least("history", self.history, 0)
        _whole_between("retention_days", self.retention_days, 1, RETENTION_DAYS_MAX)
        _between("stream_share", self.stream_share, 0, 1)
        if self.subscribe_qos not in (0, 1):
            raise WorkloadError(f"--subscribe-qos must be 0 or 1, got {self.subscribe_qos:g}")
        if self.stream_share and not self.stream:
            raise WorkloadError("--stream-share needs the stream path: drop --no-stream")

    @property
    def user_hours(self) -> float:
        """Hours online summed over all users, per month."""
        return self.users * self.hours * DAYS_PER_MONTH

    @property
    def seat_days(self) -> float:
        """Sessions per month: each online user holds one session a day."""
        return self.users * DAYS_PER_MONTH

    @property
    def connection_minutes(self) -> float:
        return self.user_hours * 60

    @property
    def chat_messages(self) -> float:
        return self.user_hours * self.messages

    @property
    def stream_messages(self) -> float:
        """Chat messages sent on the stream path (only this design has one)."""
        return self.chat_messages * self.stream_share if self.stream else 0.0

    @property
    def history_pages(self) -> float:
        return self.user_hours * self.history

    @property
    def online_seconds(self) -> float:
        """Seconds per month during which users are online."""
        return self.hours * 3600 * DAYS_PER_MONTH

    def connects_per_session(self, interval_s: float) -> int:
        """Connections a session of ``hours`` opens when each lasts ``interval_s``."""
        return math.ceil(self.hours * 3600 / interval_s)

    def connects(self, interval_s: float) -> float:
        """Connections per month when each lasts at most ``interval_s`` seconds."""
        return self.seat_days * self.connects_per_session(interval_s)

    def per_second(self, per_month: float) -> float:
        """A monthly count as a rate during the online hours."""
        return per_month / self.online_seconds


def option(name: str) -> str:
    """The command-line option for a Workload field."""
    return "--" + name.replace("_", "-")


def _at_least(name: str, value: float, low: float) -> None:
    if value < low:
        raise WorkloadError(f"{option(name)} must be at least {low:g}, got {value:g}")


def _between(name: str, value: float, low: float, high: float, *, low_open: bool = False) -> None:
    if value > high or value < low or (low_open and value == low):
        bound = f"above {low:g}" if low_open else f"at least {low:g}"
        raise WorkloadError(f"{option(name)} must be {bound} and at most {high:g}, got {value:g}")


def _whole_between(name: str, value: float, low: int, high: int) -> None:
    if value != int(value):
        raise WorkloadError(f"{option(name)} must be a whole number, got {value:g}")
    _between(name, value, low, high)
