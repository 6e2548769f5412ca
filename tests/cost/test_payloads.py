"""Payload sizes come from the functions' own code, at the user's message size."""

from __future__ import annotations

import json

import pytest

from cost import payloads


@pytest.mark.parametrize("size", [1, 100, 2000, 2001, 5000, 8000])
def test_texts_have_the_asked_bytes_within_2000_characters(size: int):
    text = payloads.text_of(size)
    assert len(text.encode("utf-8")) == size
    assert len(text) <= 2000


@pytest.mark.parametrize("members", [0, 1, 2, 7, 300])
def test_roster_size_formula_matches_the_real_roster(members: int):
    built = payloads.payloads(100, members).roster
    assert payloads.roster_bytes(members) == len(built)
    assert len(json.loads(built)["members"]) == members


def test_the_backlog_carries_a_full_page_of_stamped_messages():
    p = payloads.payloads(100, 10)
    backlog = json.loads(p.backlog_reply)
    assert len(backlog["messages"]) == 50
    assert len(p.backlog_reply) > 50 * len(p.room_message)
    assert p.backlog_read == 51 * p.stored_item  # the Query reads one more than a page
    assert json.loads(p.chat_command)["text"] == "x" * 100
