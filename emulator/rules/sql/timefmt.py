"""Java date/time patterns for ``parse_time`` (Joda-Time formatting) and ``time_to_epoch``
(JDK 11 DateTimeFormatter parsing), as AWS's SQL reference says those functions read
them ("Functions", parse_time and time_to_epoch,
https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html).

The letters covered are the ones date and time stamps use: G y u M d D E a H k h K m s S
z Z X x V and quoted literals. Another letter makes the pattern unsupported
(``PatternError``), which the SQL functions turn into Undefined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_LETTERS = set("GyuMdDEaHkhKmsSzZXxV")


class PatternError(ValueError):
    """A pattern or a value the emulator cannot read."""


@dataclass(frozen=True)
class Token:
    """A run of one pattern letter (``letter`` * ``count``), or literal text."""

    letter: str  # "" for a literal
    count: int
    text: str = ""


@lru_cache(maxsize=256)
def tokenize(pattern: str) -> tuple[Token, ...]:
    """Split a pattern into letter runs and literals ('' is a quote, 'text' literal)."""
    tokens: list[Token] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "'":
            end = pattern.find("'", i + 1)
            if end == i + 1:
                tokens.append(Token("", 0, "'"))
                i += 2
                continue
            if end == -1:
                raise PatternError(f"unterminated quote in {pattern!r}")
            tokens.append(Token("", 0, pattern[i + 1 : end].replace("''", "'")))
            i = end + 1
        elif c.isalpha():
            if c not in _LETTERS:
                raise PatternError(f"pattern letter {c!r} is not supported")
            j = i
            while j < len(pattern) and pattern[j] == c:
                j += 1
            tokens.append(Token(c, j - i))
            i = j
        else:
            tokens.append(Token("", 0, c))
            i += 1
    return tuple(tokens)


def zone(name: str) -> tzinfo:
    """A zone id (America/Belize), UTC/GMT/Z, an offset (+01:00, +0100) or UTC+01:00."""
    if name in ("Z", "UTC", "GMT", "UT"):
        return UTC
    match = re.fullmatch(r"(?:UTC|GMT|UT)?([+-])(\d{1,2}):?(\d{2})?", name)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))
        return timezone(sign * delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PatternError(f"unknown time zone {name!r}") from None


def _offset(moment: datetime, colon: bool, short: bool = False) -> str:
    """+HHMM or +HH:MM; ``short``: +HH, with the minutes only when there are some."""
    delta = moment.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    if short and not minutes:
        return f"{sign}{hours:02d}"
    return f"{sign}{hours:02d}{':' if colon else ''}{minutes:02d}"


def _format_token(token: Token, moment: datetime, zone_name: str) -> str:
    n, letter = token.count, token.letter
    numbers = {
        "d": moment.day,
        "D": moment.timetuple().tm_yday,
        "H": moment.hour,
        "k": moment.hour or 24,
        "h": moment.hour % 12 or 12,
        "K": moment.hour % 12,
        "m": moment.minute,
        "s": moment.second,
    }
    if letter in numbers:
        return str(numbers[letter]).zfill(n)
    if letter in "yu":
        return str(moment.year % 100).zfill(2) if n == 2 else str(moment.year).zfill(n)
    if letter == "M":
        if n >= 4:
            return MONTHS[moment.month - 1]
        return MONTHS[moment.month - 1][:3] if n == 3 else str(moment.month).zfill(n)
    if letter == "E":
        day = DAYS[moment.weekday()]
        return day if n >= 4 else day[:3]
    if letter == "S":
        return f"{moment.microsecond:06d}"[:n].ljust(n, "0")
    if letter == "G":
        return "AD"
    if letter == "a":
        return "AM" if moment.hour < 12 else "PM"
    if letter == "z":
        return moment.tzname() or zone_name if n < 4 else zone_name
    if letter == "Z":
        return zone_name if n >= 3 else _offset(moment, colon=n == 2)
    if letter in "Xx":
        if letter == "X" and not moment.utcoffset():
            return "Z"
        return _offset(moment, colon=n >= 3, short=n == 1)
    return zone_name  # V


def format_millis(pattern: str, millis: int, zone_name: str = "UTC") -> str:
    """``millis`` since the epoch written as ``pattern`` says, in ``zone_name``."""
    moment = datetime.fromtimestamp(millis / 1000, UTC).astimezone(zone(zone_name))
    return "".join(
        token.text if not token.letter else _format_token(token, moment, zone_name)
        for token in tokenize(pattern)
    )


_ZONE_TEXT = r"[A-Za-z][A-Za-z0-9_/]*(?:[+-]\d{1,2}(?::?\d{2})?)?|[+-]\d{1,2}(?::?\d{2})?"


def _regex(token: Token) -> str:
    n, letter = token.count, token.letter
    if not letter:
        return re.escape(token.text)
    group = f"(?P<{letter}>"
    if letter in "yu":
        return group + (r"\d{2})" if n == 2 else r"\d{4,9})")
    if letter == "M" and n >= 3:
        return group + r"[A-Za-z]+)"
    if letter == "E":
        return r"[A-Za-z]+"
    if letter == "S":
        return group + rf"\d{{{n}}})"
    if letter == "G":
        return r"(?:AD|BC)"
    if letter == "a":
        return group + r"[AaPp][Mm])"
    if letter in "zVZXx":
        return rf"(?P<zone>{_ZONE_TEXT})"
    return group + (r"\d{1,2})" if n == 1 else rf"\d{{{n}}})")


@lru_cache(maxsize=256)
def _parser(pattern: str) -> re.Pattern[str]:
    parts = [_regex(token) for token in tokenize(pattern)]
    try:
        return re.compile("".join(parts))
    except re.error:
        raise PatternError(f"pattern {pattern!r} repeats a field") from None


def parse_millis(text: str, pattern: str) -> int:
    """Milliseconds since the epoch of ``text`` read with ``pattern`` (UTC unless it
    names a zone or an offset)."""
    match = _parser(pattern).fullmatch(text)
    if match is None:
        raise PatternError(f"{text!r} does not match {pattern!r}")
    fields = match.groupdict()
    year = int(fields.get("y") or fields.get("u") or 1970)
    if len(fields.get("y") or fields.get("u") or "0000") == 2:
        year += 2000
    month_text = fields.get("M") or "1"
    if month_text.isdigit():
        month = int(month_text)
    else:
        names = [m.lower() for m in MONTHS]
        short = [m[:3] for m in names]
        lowered = month_text.lower()
        if lowered not in names and lowered not in short:
            raise PatternError(f"unknown month {month_text!r}")
        month = (names.index(lowered) if lowered in names else short.index(lowered)) + 1
    hour = int(fields.get("H") or fields.get("k") or 0) % 24
    if fields.get("h") or fields.get("K"):
        hour = int(fields.get("h") or fields.get("K") or 0) % 12
        if (fields.get("a") or "AM").upper() == "PM":
            hour += 12
    fraction = fields.get("S") or "0"
    micros = int(fraction.ljust(6, "0")[:6])
    try:
        moment = datetime(
            year,
            month,
            int(fields.get("d") or 1),
            hour,
            int(fields.get("m") or 0),
            int(fields.get("s") or 0),
            micros,
            tzinfo=zone(fields["zone"]) if fields.get("zone") else UTC,
        )
    except ValueError as exc:
        raise PatternError(str(exc)) from None
    if fields.get("D") and not fields.get("d"):
        moment = moment.replace(month=1, day=1) + timedelta(days=int(fields["D"]) - 1)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000
