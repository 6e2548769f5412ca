"""CPU seconds used by a target: its process and every descendant, from /proc.

At a fixed offered load, CPU per message is the fairest cost figure between brokers:
latency alone hides how close each one is to its limit. The emulator runs moto and
its Lambda workers as child processes in sessions of their own (so Ctrl-C reaches
the emulator first), so the whole tree is counted, not one process group, and split
by role to show where the time goes.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
# A descendant's role, from a marker in its command line; anything else is "main".
ROLES = {"emulator.aws.moto_process": "moto", "emulator.lambda_runtime.worker": "lambda"}


def _processes() -> dict[int, tuple[int, float, str]]:
    """pid -> (ppid, CPU seconds incl. reaped children, command line) of live processes."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        # after "pid (comm)": state ppid ...; utime stime cutime cstime are fields 11..14
        # (cutime/cstime hold reaped workers, so replaced Lambda workers still count).
        seconds = sum(int(f) for f in fields[11:15]) / _TICKS
        found[int(entry.name)] = (int(fields[1]), seconds, cmdline)
    return found


def tree_cpu_seconds(root: int | None) -> dict[str, float] | None:
    """User+system CPU of ``root`` and all its descendants, by role; None without a root."""
    if root is None:
        return None
    processes = _processes()
    if root not in processes:
        return None
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (ppid, _, _) in processes.items():
        children[ppid].append(pid)
    parts: dict[str, float] = defaultdict(float)
    stack = [root]
    while stack:
        pid = stack.pop()
        _, seconds, cmdline = processes[pid]
        role = next((r for marker, r in ROLES.items() if marker in cmdline), "main")
        parts[role] += seconds
        stack.extend(children.get(pid, ()))
    return dict(parts)


def difference(before: dict[str, float] | None, after: dict[str, float] | None) -> dict[str, float]:
    """CPU spent between two readings, per role (a role that appeared counts from 0)."""
    if before is None or after is None:
        return {}
    return {role: after[role] - before.get(role, 0.0) for role in after}
