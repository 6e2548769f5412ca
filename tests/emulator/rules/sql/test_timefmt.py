"""Java date/time patterns behind parse_time and time_to_epoch ("Functions",
https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html)."""

from __future__ import annotations

import pytest

from emulator.rules.sql import UNDEFINED, RuleMessage, compile_query
from emulator.rules.sql.timefmt import PatternError, format_millis, parse_millis

NOON = 1_700_000_000_000  # 2023-11-14T22:13:20Z


def test_formatting_letters() -> None:
    assert format_millis("EEEE d MMM yy, h:mm a", NOON) == "Tuesday 14 Nov 23, 10:13 PM"
    assert format_millis("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", NOON + 7) == "2023-11-14T22:13:20.007Z"
    assert format_millis("HH:mm Z", NOON, "Asia/Kolkata") == "03:43 +0530"
    assert format_millis("D 'day' ''yy", NOON) == "318 day '23"
    assert format_millis("x|xx|xxx", NOON, "Asia/Kolkata") == "+0530|+0530|+05:30"
    assert format_millis("X", NOON) == "Z"


def test_parsing_letters() -> None:
    assert parse_millis("2023-11-14T22:13:20.007Z", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX") == NOON + 7
    assert parse_millis("14/11/23 10:13:20 PM", "dd/MM/yy hh:mm:ss a") == NOON
    assert parse_millis("2023-11-15 03:43:20 +0530", "yyyy-MM-dd HH:mm:ss Z") == NOON


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("2023-11-14", "yyyy-MM-dd QQ"),  # an unsupported letter
        ("2023-11-14 Mars/Olympus", "yyyy-MM-dd VV"),  # an unknown zone
        ("2023-02-30", "yyyy-MM-dd"),  # no such day
        ("14 Brumaire 2023", "dd MMMM yyyy"),  # no such month
        ("2023-11-14", "yyyy/MM/dd"),  # does not match
    ],
)
def test_what_cannot_be_read_is_an_error(text: str, pattern: str) -> None:
    with pytest.raises(PatternError):
        parse_millis(text, pattern)


def test_the_sql_functions_answer_undefined_for_bad_arguments() -> None:
    query = compile_query(
        "SELECT time_to_epoch(t, 'yyyy QQ') AS a, time_to_epoch(1, 'yyyy') AS b, "
        "parse_time('yyyy', 'soon') AS c, parse_time('yyyy', 0, 'Mars/Olympus') AS d, "
        "transform('shuffle', {}, []) AS e FROM 't'"
    )
    assert query.evaluate(RuleMessage("t", b'{"t": "2023"}')) == {}
    value = compile_query("SELECT VALUE parse_time('yyyy qq', 0) FROM 't'")
    assert value.evaluate(RuleMessage("t", b"{}")) is UNDEFINED
