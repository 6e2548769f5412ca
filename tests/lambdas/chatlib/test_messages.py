"""chatlib.messages: sort keys and cursors (no AWS needed)."""

from __future__ import annotations

import pytest

from chatlib.messages import decode_cursor, encode_cursor, sort_key
from chatlib.validation import ValidationError


def test_sort_key_is_fixed_width_and_ordered() -> None:
    assert sort_key(5, 7, "abc") == "0000000000005#1000000007#abc"
    keys = [sort_key(ts, 0, "z") for ts in (9, 10, 99, 1_700_000_000_000)]
    assert keys == sorted(keys)
    # Within one millisecond, the sender's seq decides, whatever the ids.
    burst = [sort_key(1_700_000_000_000, seq, id_) for seq, id_ in ((2, "a"), (10, "0"), (99, "-"))]
    assert burst == sorted(burst)


def test_cursor_round_trip_is_opaque_url_safe() -> None:
    sk = sort_key(1_700_000_000_000, 3, "0f8fad5b-d9cb-469f-a165-70867728950e")
    cursor = encode_cursor("lobby", sk)
    assert "lobby" not in cursor and "#" not in cursor and "=" not in cursor
    assert decode_cursor(cursor, "lobby") == sk


@pytest.mark.parametrize(
    "cursor",
    [
        None,
        "",
        "a",
        "a=b",
        "++//",
        encode_cursor("lobby", "123#abc"),
        encode_cursor("lobby", "1700000000000#a b"),
        encode_cursor("lobby", "1700000000000"),
        encode_cursor("lobby", "1700000000000#abc") + "A",
    ],
)
def test_bad_cursors(cursor) -> None:
    with pytest.raises(ValidationError):
        decode_cursor(cursor, "lobby")


def test_cursors_of_items_stored_before_seq_still_work() -> None:
    """Items written as <ts>#<id> (before the key carried seq) page back as before."""
    old = "1700000000000#0f8fad5b-d9cb-469f-a165-70867728950e"
    assert decode_cursor(encode_cursor("lobby", old), "lobby") == old


def test_cursor_is_bound_to_its_room() -> None:
    cursor = encode_cursor("lobby", sort_key(1, 0, "x"))
    with pytest.raises(ValidationError):
        decode_cursor(cursor, "games")
