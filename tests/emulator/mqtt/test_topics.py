"""Topic filters, shared subscriptions and the subscription index."""

from __future__ import annotations

import pytest

from emulator.mqtt.topics import SubscriptionIndex, matches, parse_filter, topic_name_problem

CASES = [
    ("a/b", "a/b", True),
    ("a/+", "a/b", True),
    ("a/+", "a/b/c", False),
    ("a/#", "a/b/c", True),
    ("a/#", "a/", True),
    ("#", "a/b", True),
    ("+/+", "/x", True),
    ("+", "$SYS", False),
    ("#", "$aws/events/x", False),
    ("$aws/events/#", "$aws/events/presence/connected/x", True),
    ("a/+/c", "a//c", True),
    ("a/b", "a/b/c", False),
]


@pytest.mark.parametrize(("topic_filter", "topic", "expected"), CASES)
def test_matching_follows_the_spec(topic_filter: str, topic: str, expected: bool) -> None:
    assert matches(topic_filter, topic) is expected
    index: SubscriptionIndex[str] = SubscriptionIndex()
    index.add(parse_filter(topic_filter), "c", "value")
    plain, _ = index.match(topic)
    assert bool(plain) is expected


def test_hash_matches_its_parent_level_only_when_configured() -> None:
    assert matches("a/#", "a") is True
    assert matches("a/#", "a", hash_matches_parent=False) is False
    assert matches("#", "a", hash_matches_parent=False) is True
    for parent, expected in ((True, 1), (False, 0)):
        index: SubscriptionIndex[str] = SubscriptionIndex(hash_matches_parent=parent)
        index.add(parse_filter("a/#"), "c", "v")
        assert len(index.match("a")[0]) == expected


@pytest.mark.parametrize(
    "bad", ["", "a/#/b", "a#", "a/b+", "$share/g", "$share//a", "$share/g+/a", "$share/g/"]
)
def test_bad_filters(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_filter(bad)


def test_shared_filters_split_share_and_filter() -> None:
    spec = parse_filter("$share/workers/jobs/+")
    assert (spec.share, spec.topic_filter, spec.has_wildcard) == ("workers", "jobs/+", True)
    index: SubscriptionIndex[str] = SubscriptionIndex()
    index.add(spec, "w1", "one")
    index.add(spec, "w2", "two")
    index.add(parse_filter("jobs/+"), "plain", "p")
    plain, shared = index.match("jobs/7")
    assert plain == [{"plain": "p"}]
    assert shared == [{"w1": "one", "w2": "two"}]


def test_remove_prunes_and_reports() -> None:
    index: SubscriptionIndex[str] = SubscriptionIndex()
    spec = parse_filter("a/b/c")
    assert index.add(spec, "c1", "x") is False
    assert index.add(spec, "c1", "y") is True  # replaced
    assert index.remove(spec, "c1") is True
    assert index.remove(spec, "c1") is False
    assert list(index) == []
    assert index.match("a/b/c") == ([], [])


@pytest.mark.parametrize("topic", ["", "a/+", "#"])
def test_bad_topic_names(topic: str) -> None:
    assert topic_name_problem(topic)
