"""MQTT's topic filter grammar, shared by the broker (SUBSCRIBE) and the rules (FROM).

``+`` stands for exactly one whole level and ``#`` for the whole last level; anything
else containing them is not a filter.
"""

from __future__ import annotations


def wildcard_problem(topic_filter: str) -> str | None:
    """Why the wildcards in ``topic_filter`` break MQTT's rules, or None if they don't."""
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            return "'#' must be a whole level and the last one"
        if "+" in level and level != "+":
            return "'+' must be a whole level"
    return None
