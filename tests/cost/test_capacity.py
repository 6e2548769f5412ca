"""The limits: where each binds, and which the user's numbers reach first."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from cost import capacity
from cost.workload import Workload

ROOT = Path(__file__).resolve().parents[2]
W = Workload(users=1000, hours=8, messages=20, room_size=20, message_bytes=100, history=1)


@pytest.mark.parametrize("limit", capacity.LIMITS, ids=lambda limit: limit.key)
def test_each_limit_binds_where_reached_at_says(limit: capacity.Limit):
    w = dataclasses.replace(W, stream_share=0.5)  # so the stream limits have a demand
    at = capacity.reached_at(limit, w)
    assert at is not None
    field = limit.grows_with
    assert limit.demand(dataclasses.replace(w, **{field: at})) >= limit.quota * (1 - 1e-9)
    below = at * 0.99 if field == "users" else at - 1
    assert limit.demand(dataclasses.replace(w, **{field: below})) < limit.quota


def test_account_limits_grow_with_users_in_proportion():
    outbound = next(limit for limit in capacity.LIMITS if limit.key == "outbound")
    at = capacity.reached_at(outbound, W)
    assert at == pytest.approx(W.users * outbound.quota / outbound.demand(W))


def test_the_first_limit_is_the_closest_one():
    reaches = capacity.reaches(W)
    assert capacity.first_limit(W) == reaches[0]
    assert [r.use for r in reaches] == sorted((r.use for r in reaches), reverse=True)
    # Replies are cut to fit a message, so message size is no limit; at the defaults
    # the account's outbound publishes come closest.
    assert reaches[0].limit.key == "outbound"
    assert not any(r.limit.name.startswith("IoT Core: message size") for r in reaches)


def test_without_stream_messages_the_stream_limits_never_bind():
    shard = next(limit for limit in capacity.LIMITS if limit.key == "shard_records")
    assert capacity.reached_at(shard, W) is None


def test_docs_capacity_lists_every_limit_with_its_quota():
    page = (ROOT / "docs" / "capacity.md").read_text(encoding="utf-8")
    for limit in capacity.LIMITS:
        assert limit.name in page, limit.name
        section = page[page.index(limit.name) :]
        quota = f"{limit.quota:,.0f}"
        assert re.search(rf"\b{re.escape(quota)}\b", section[:1500]), (limit.name, quota)


def test_docs_capacity_table_matches_the_model_at_the_defaults():
    """Each row's "meets it at" figure is the model's, rounded (stream rows: all on it)."""
    page = (ROOT / "docs" / "capacity.md").read_text(encoding="utf-8")
    rows = {
        cells[1].strip(): cells[4]
        for cells in (line.split("|") for line in page.splitlines())
        if len(cells) == 6
    }
    for limit in capacity.LIMITS:
        w = Workload()
        if limit.key.startswith("shard_"):
            w = dataclasses.replace(w, stream_share=1.0)
        documented = float(re.search(r"[\d,]+", rows[limit.name]).group().replace(",", ""))
        assert documented == pytest.approx(capacity.reached_at(limit, w), rel=0.01), limit.name
