"""Log groups: every function's and the rules' errors, all with the same retention.

Declaring the groups (instead of letting Lambda create them) fixes their retention and
key, and lets each role write to exactly its own group.
"""

from __future__ import annotations

from troposphere import Sub, logs

from stack.encryption import key_arn

LOG_RETENTION_DAYS = 30


def log_group(title: str, name: str) -> logs.LogGroup:
    """A log group named ``name`` (an Fn::Sub text), kept LOG_RETENTION_DAYS days and
    encrypted with the stack key (whose policy names every group: encryption.py)."""
    return logs.LogGroup(
        title, LogGroupName=Sub(name), RetentionInDays=LOG_RETENTION_DAYS, KmsKeyId=key_arn()
    )
