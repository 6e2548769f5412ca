"""Topic names, topic filters, shared subscriptions and the index that matches them.

Grammar from MQTT 5.0 section 4.7 (the same in 3.1.1), shared subscriptions from
section 4.8.2. One deliberate knob: ``hash_matches_parent`` (the spec says
``sport/#`` also matches ``sport``; a broker may be configured not to).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from emulator.topics import wildcard_problem

SHARE_PREFIX = "$share/"
V = TypeVar("V")


def topic_name_problem(topic: str) -> str | None:
    """Why ``topic`` cannot be a PUBLISH topic name, or None."""
    if not topic:
        return "topic name is empty"
    if "+" in topic or "#" in topic:
        return "topic name contains a wildcard"
    return None


@dataclass(frozen=True, slots=True)
class FilterSpec:
    """A SUBSCRIBE filter split into its share name (None if not shared) and filter."""

    raw: str
    share: str | None
    topic_filter: str

    @property
    def has_wildcard(self) -> bool:
        return "+" in self.topic_filter or "#" in self.topic_filter


def parse_filter(raw: str) -> FilterSpec:
    """Split a filter into share name and filter; raises ValueError when malformed."""
    if not raw:
        raise ValueError("topic filter is empty")
    share = None
    topic_filter = raw
    if raw.startswith(SHARE_PREFIX):
        share, sep, topic_filter = raw[len(SHARE_PREFIX) :].partition("/")
        if not share or not sep:
            raise ValueError("a shared subscription needs $share/<ShareName>/<filter>")
        if "+" in share or "#" in share:
            raise ValueError("the ShareName must not contain wildcards")
        if not topic_filter:
            raise ValueError("a shared subscription needs a topic filter after the ShareName")
    problem = wildcard_problem(topic_filter)
    if problem:
        raise ValueError(problem)
    return FilterSpec(raw, share, topic_filter)


def matches(topic_filter: str, topic: str, *, hash_matches_parent: bool = True) -> bool:
    """Whether a (non-shared) filter matches a topic name."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    filter_levels = topic_filter.split("/")
    levels = topic.split("/")
    for index, level in enumerate(filter_levels):
        if level == "#":
            return hash_matches_parent or index < len(levels)
        if index >= len(levels) or (level != "+" and level != levels[index]):
            return False
    return len(filter_levels) == len(levels)


class _Node(Generic[V]):
    __slots__ = ("children", "groups", "subscribers")

    def __init__(self) -> None:
        self.children: dict[str, _Node[V]] = {}
        self.subscribers: dict[str, V] = {}
        self.groups: dict[str, dict[str, V]] = {}

    def empty(self) -> bool:
        return not (self.children or self.subscribers or self.groups)


class SubscriptionIndex(Generic[V]):
    """Topic filter -> subscribers, matched against topic names by walking levels.

    Values are keyed by client id: a client has at most one subscription per filter
    (per share name for shared ones), and subscribing again replaces it.
    """

    def __init__(self, *, hash_matches_parent: bool = True) -> None:
        self._root: _Node[V] = _Node()
        self.hash_matches_parent = hash_matches_parent

    def add(self, spec: FilterSpec, client_id: str, value: V) -> bool:
        """Store a subscription; True if it replaced an existing one of the client."""
        node = self._root
        for level in spec.topic_filter.split("/"):
            child = node.children.get(level)
            if child is None:
                child = node.children[level] = _Node()
            node = child
        bucket = node.subscribers if spec.share is None else node.groups.setdefault(spec.share, {})
        existed = client_id in bucket
        bucket[client_id] = value
        return existed

    def remove(self, spec: FilterSpec, client_id: str) -> bool:
        """Drop a client's subscription; False if it had none."""
        path = [self._root]
        for level in spec.topic_filter.split("/"):
            child = path[-1].children.get(level)
            if child is None:
                return False
            path.append(child)
        node = path[-1]
        if spec.share is None:
            found = node.subscribers.pop(client_id, None) is not None
        else:
            group = node.groups.get(spec.share)
            found = group is not None and group.pop(client_id, None) is not None
            if group is not None and not group:
                del node.groups[spec.share]
        levels = spec.topic_filter.split("/")
        for depth in range(len(levels), 0, -1):
            if not path[depth].empty():
                break
            del path[depth - 1].children[levels[depth - 1]]
        return found

    def match(self, topic: str) -> tuple[list[dict[str, V]], list[dict[str, V]]]:
        """(subscriber maps, shared-group maps) of every filter matching ``topic``."""
        levels = topic.split("/")
        count = len(levels)
        dollar = topic.startswith("$")
        plain: list[dict[str, V]] = []
        shared: list[dict[str, V]] = []
        stack = [(self._root, 0)]
        while stack:
            node, index = stack.pop()
            children = node.children
            if index == count:
                if node.subscribers:
                    plain.append(node.subscribers)
                if node.groups:
                    shared.extend(node.groups.values())
                if self.hash_matches_parent and children:
                    _collect(children.get("#"), plain, shared)
                continue
            if not children:
                continue
            child = children.get(levels[index])
            if child is not None:
                stack.append((child, index + 1))
            if index == 0 and dollar:
                continue
            child = children.get("+")
            if child is not None:
                stack.append((child, index + 1))
            _collect(children.get("#"), plain, shared)
        return plain, shared

    def __iter__(self) -> Iterator[tuple[str, str | None, str, V]]:
        """(filter, share, client id, value) of every subscription (for inspection)."""
        stack: list[tuple[_Node[V], list[str]]] = [(self._root, [])]
        while stack:
            node, levels = stack.pop()
            topic_filter = "/".join(levels)
            for client_id, value in node.subscribers.items():
                yield topic_filter, None, client_id, value
            for share, group in node.groups.items():
                for client_id, value in group.items():
                    yield topic_filter, share, client_id, value
            for level, child in node.children.items():
                stack.append((child, [*levels, level]))


def _collect(node: _Node[V] | None, plain: list[dict[str, V]], shared: list[dict[str, V]]) -> None:
    if node is None:
        return
    if node.subscribers:
        plain.append(node.subscribers)
    if node.groups:
        shared.extend(node.groups.values())
