"""Console output: progress lines and plain tables, flushed so `make` shows them live."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def step(message: str) -> None:
    """A long step is starting: one `==>` line, the same shape as the Makefile's."""
    print(f"==> {message}", flush=True)


def info(message: str) -> None:
    """A detail under the current step."""
    print(f"    {message}", flush=True)


def warn(message: str) -> None:
    """Something the user should know that does not stop the run."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "    ") -> str:
    """Left-aligned columns as text, so change sets and failures read at a glance."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = [
        indent + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip()
        for line in [list(headers), ["-" * w for w in widths], *[list(r) for r in rows]]
    ]
    return "\n".join(lines)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print `table(...)`."""
    print(table(headers, rows), flush=True)
