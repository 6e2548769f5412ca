"""Errors of the IoT SQL layer, raised when a rule is registered, never per message."""

from __future__ import annotations


class SqlSyntaxError(ValueError):
    """A rule's SQL (or a substitution template) that AWS would refuse at CreateTopicRule.

    ``position`` is the 0-based offset in ``sql``; ``line`` and ``column`` are 1-based,
    so the message points at the offending character the way an editor would.
    """

    def __init__(self, message: str, sql: str, position: int) -> None:
        self.reason = message
        self.sql = sql
        self.position = max(0, min(position, len(sql)))
        before = sql[: self.position]
        self.line = before.count("\n") + 1
        self.column = self.position - (before.rfind("\n") + 1) + 1
        near = sql[self.position : self.position + 20] or "end of input"
        super().__init__(f"{message} at line {self.line}, column {self.column} (near {near!r})")


class SqlEvaluationError(RuntimeError):
    """A message the rule cannot process at all (AWS logs it and runs no action)."""
