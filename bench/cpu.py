"""CPU seconds used by a process group (the target and its workers), from /proc.

At a fixed offered load, CPU per message is the fairest cost figure between brokers:
latency alone hides how close each one is to its limit.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int | None) -> float | None:
    """User+system CPU of every live process in process group `pgid`, or None."""
    if pgid is None:
        return None
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        # after "pid (comm)": state ppid pgrp ...; utime stime cutime cstime are 11..14
        # (cutime/cstime hold reaped workers, so short-lived Lambda workers still count).
        if int(fields[2]) == pgid:
            total += sum(int(f) for f in fields[11:15])
    return total / _TICKS
