"""Run the local emulator (`python -m emulator`) as a child process for tests.

Integration, browser and client tests all talk to the same real thing a user starts
with `make run`, on free loopback ports, and stop it when they are done.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "templates" / "chat.json"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class EmulatorProcess:
    """One emulator child process; `start()` again after `stop()` reuses the ports."""

    port: int = field(default_factory=free_port)
    mqtt_port: int = field(default_factory=free_port)
    aws_port: int = field(default_factory=free_port)
    extra_args: list[str] = field(default_factory=list)
    proc: subprocess.Popen[str] | None = None
    returncode: int | None = None
    output: deque[str] = field(default_factory=lambda: deque(maxlen=2000))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def aws_endpoint(self) -> str:
        """The moto server behind the emulator (DynamoDB, Kinesis, Secrets Manager...)."""
        return f"http://127.0.0.1:{self.aws_port}"

    def aws_client(self, service: str):
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.aws_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def start(self, timeout: float = 60.0) -> EmulatorProcess:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        cmd = [
            sys.executable,
            "-m",
            "emulator",
            "--template",
            str(TEMPLATE),
            "--port",
            str(self.port),
            "--mqtt-port",
            str(self.mqtt_port),
            "--aws-port",
            str(self.aws_port),
            *self.extra_args,
        ]
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._pump, args=(self.proc,), daemon=True).start()
        self._wait_ready(timeout)
        return self

    def _pump(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.output.append(line.rstrip("\n"))

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"emulator exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/config.json", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"emulator not ready after {timeout}s:\n{self.log_tail()}")

    def config(self) -> dict:
        with urllib.request.urlopen(f"{self.base_url}/config.json", timeout=5) as resp:
            return json.load(resp)

    def guest_token(self, name: str) -> dict:
        """POST /api/token as the browser does; returns the JSON answer."""
        req = urllib.request.Request(
            f"{self.base_url}/api/token",
            data=json.dumps({"name": name}).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)

    def stop(self, timeout: float = 20.0) -> None:
        """Ctrl-C, as a user would; kill the process group if it does not exit in time."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGINT)
        try:
            self.returncode = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
            raise RuntimeError(
                f"emulator ignored Ctrl-C for {timeout}s:\n{self.log_tail()}"
            ) from None

    def log_tail(self, lines: int = 80) -> str:
        return "\n".join(list(self.output)[-lines:])
