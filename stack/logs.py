"""Log groups: every function's and the rules' errors, all with the same retention.

Declaring the groups (instead of letting Lambda create them) fixes their retention and
lets each role write to exactly its own group.
"""

from __future__ import annotations

from troposphere import Sub, logs

LOG_RETENTION_DAYS = 30


def log_group(title: str, name: str) -> logs.LogGroup:
    """A log group named ``name`` (an Fn::Sub text), kept LOG_RETENTION_DAYS days."""
    return logs.LogGroup(title, LogGroupName=Sub(name), RetentionInDays=LOG_RETENTION_DAYS)
