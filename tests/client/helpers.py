"""Run `python -m client ...` as a user would, and read its output line by line."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.support.commands import run_module

ROOT = Path(__file__).resolve().parents[2]


def run_client(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_module("client", *args, timeout=timeout)


class LiveClient:
    """A long-running client command (chat, listen) with its stdout read by a thread."""

    def __init__(self, *args: str, stdin: bool = False) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "client", *args],
            cwd=ROOT,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, predicate, timeout: float = 30) -> str:
        """The first output line matching `predicate`, or fail after `timeout`."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if predicate(line):
                return line
        stderr = ""
        if self.proc.poll() is not None and self.proc.stderr is not None:
            stderr = self.proc.stderr.read()
        raise AssertionError(f"no matching line in {timeout}s; saw {self.seen!r}; {stderr}")

    def write(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def finish(self, timeout: float = 20) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)


def warm_up(base_url: str, attempts: int = 5) -> None:
    """Connect and join once, retrying: a fresh emulator's first Lambda calls include
    the workers' cold start, which on a loaded machine can exceed the functions'
    timeouts (the emulator then answers 502 / refuses the connection)."""
    from client.errors import ClientError
    from client.session import open_site_session

    for attempt in range(1, attempts + 1):
        try:
            session, _ = open_site_session(base_url, "Warmup", timeout=30)
            try:
                session.join("warmup", "Warmup", timeout=30)
            finally:
                session.close()
            return
        except ClientError:
            if attempt == attempts:
                raise
            time.sleep(2)
