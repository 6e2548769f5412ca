"""Run the emulator as a child process, for tests and benchmarks of an application.

Tests of your own template talk to the same thing `python -m emulator` serves, on free
loopback ports, and stop it when done: the way moto's server mode is used in tests. The
project's integration, browser and client tests and its benchmark all start it from here.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHAT_TEMPLATE = ROOT / "templates" / "chat.json"
REGION = "us-east-1"
# Keys that name no real account: the emulator treats their caller as an administrator.
TEST_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _ephemeral_range() -> tuple[int, int]:
    """The kernel's range for port-0 binds and outgoing connections (Linux's default)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


_handed_out: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now and no other call returned.

    Ports come from below the kernel's ephemeral range: a port-0 bind (moto's, a
    browser's) or an outgoing connection made between this call and the child's own
    bind cannot take it, and one process never gets the same port twice. CI once lost
    a run to a port handed to the emulator and to its moto server alike.
    """
    low = 20000
    high = min(_ephemeral_range()[0], 65536) - 1
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randint(low, high)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free TCP port on 127.0.0.1 between {low} and {high}")


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:`port`."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def http_ok(url: str) -> bool:
    """Whether a GET of `url` answers 200 within two seconds."""
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 (loopback http)
            return resp.status == 200
    except OSError:
        return False


class ChildProcess:
    """A child process whose output goes to a log file (no pipe to fill up)."""

    name = "child"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.log_path = workdir / f"{self.name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None  # of the last stop()

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float = 90.0) -> ChildProcess:
        """Start the process and return once `ready()`; raise with its log if it cannot."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
                self.command(),
                cwd=ROOT,
                env=dict(os.environ, PYTHONUNBUFFERED="1"),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            if self.ready():
                return self
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"{self.name} not ready after {timeout:g}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 20.0) -> None:
        """SIGINT, like Ctrl-C; SIGKILL the process group if it hangs."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGINT)
        try:
            self.returncode = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            self.returncode = proc.wait(5)

    @property
    def output(self) -> list[str]:
        """Everything the process printed so far, a line an item."""
        return self.log_path.read_text(errors="replace").splitlines()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.output[-lines:])
        except OSError:
            return ""


class EmulatorProcess(ChildProcess):
    """`python -m emulator` on a template: HTTP on `port`, MQTT on `mqtt_port`, AWS APIs on
    `aws_port`. `start()` again after `stop()` reuses the ports.

    Every client of a test comes from 127.0.0.1, which the chat's token endpoint's
    per-source limit (TokenRequestsPerMinute) would count as one visitor: it is raised for
    the chat template; extra arguments can set it again (the last --parameter wins).
    """

    name = "emulator"
    ONE_ADDRESS = ("--parameter", "TokenRequestsPerMinute=100000")

    def __init__(
        self,
        extra_args: list[str] | None = None,
        *,
        workdir: Path | None = None,
        template: Path = CHAT_TEMPLATE,
    ) -> None:
        super().__init__(workdir or Path(tempfile.mkdtemp(prefix="emulator-test-")))
        self.template = template
        self.port = free_port()
        self.mqtt_port = free_port()
        self.aws_port = free_port()
        self.extra_args = extra_args or []

    def start(self, timeout: float = 90.0) -> EmulatorProcess:
        super().start(timeout)
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def aws_endpoint(self) -> str:
        """The moto server behind the emulator (DynamoDB, Kinesis, Secrets Manager...)."""
        return f"http://127.0.0.1:{self.aws_port}"

    def command(self) -> list[str]:
        chat = self.ONE_ADDRESS if self.template == CHAT_TEMPLATE else ()
        return [
            sys.executable,
            "-m",
            "emulator",
            "--template",
            str(self.template),
            "--port",
            str(self.port),
            "--mqtt-port",
            str(self.mqtt_port),
            "--aws-port",
            str(self.aws_port),
            *chat,
            *self.extra_args,
        ]

    def ready(self) -> bool:
        return http_ok(f"{self.base_url}/config.json")

    def aws_client(self, service: str) -> Any:
        """A boto3 client for `service` on the emulator's moto server."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.aws_endpoint,
            region_name=REGION,
            **TEST_CREDENTIALS,
        )

    def data_plane(self) -> Any:
        """boto3's iot-data client on the emulator's HTTP port, as an unevaluated caller."""
        import boto3

        return boto3.client(
            "iot-data",
            endpoint_url=self.base_url,
            region_name=REGION,
            **TEST_CREDENTIALS,
        )

    def config(self) -> dict:
        with urllib.request.urlopen(f"{self.base_url}/config.json", timeout=5) as resp:  # noqa: S310 (loopback http)
            return json.load(resp)

    def guest_token(self, name: str) -> dict:
        """POST /api/token as the chat's browser page does; returns the JSON answer."""
        req = urllib.request.Request(  # noqa: S310 (loopback http)
            f"{self.base_url}/api/token",
            data=json.dumps({"name": name}).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (loopback http)
            return json.load(resp)

    def __repr__(self) -> str:
        return f"EmulatorProcess({self.base_url}, mqtt {self.mqtt_port}, log {self.log_path})"
