"""MQTT topic filters of the FROM clause, with AWS IoT's wildcard rules.

``+`` matches one level, ``#`` (last) any number including none; a topic whose first
level starts with ``$`` is matched only by a filter whose first level is literal, so
``#`` never catches ``$aws/...`` traffic.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.topics import wildcard_problem


def filter_problem(topic_filter: str) -> str | None:
    """Why ``topic_filter`` is not a valid MQTT filter, or None if it is."""
    if not topic_filter:
        return "empty topic filter"
    return wildcard_problem(topic_filter)


@dataclass(frozen=True, slots=True)
class TopicFilter:
    """A parsed filter, matched level by level."""

    text: str
    levels: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> TopicFilter:
        """Split a (valid) filter into levels."""
        problem = filter_problem(text)
        if problem:
            raise ValueError(f"{problem}: {text!r}")
        return cls(text, tuple(text.split("/")))

    def matches(self, topic: str) -> bool:
        """True if ``topic`` (a concrete topic name) matches this filter."""
        levels = self.levels
        if topic.startswith("$") and levels[0] in ("+", "#"):
            return False
        parts = topic.split("/")
        for i, level in enumerate(levels):
            if level == "#":
                return True
            if i >= len(parts):
                return False
            if level != "+" and level != parts[i]:
                return False
        return len(parts) == len(levels)
