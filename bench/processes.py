"""Start and stop the systems under test as child processes on free loopback ports.

Each target gets its own process (and the emulator its own template run), so the
benchmark's clients never share an interpreter with the broker they measure.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 (loopback http)
            return resp.status == 200
    except OSError:
        return False


class Child:
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

    def start(self, timeout: float = 90.0) -> Child:
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

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Emulator(Child):
    """`python -m emulator` on templates/chat.json, HTTP on `port`, plain MQTT on `mqtt_port`.

    Every client of a benchmark or a test comes from 127.0.0.1, which the token
    endpoint's per-source limit (TokenRequestsPerMinute) would count as one visitor: it
    is raised here; extra arguments can set it again (the last --parameter wins).
    """

    name = "emulator"
    ONE_ADDRESS = ("--parameter", "TokenRequestsPerMinute=100000")

    def __init__(self, workdir: Path, extra_args: list[str] | None = None) -> None:
        super().__init__(workdir)
        self.port = free_port()
        self.mqtt_port = free_port()
        self.aws_port = free_port()
        self.extra_args = extra_args or []

    @property
    def site(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "emulator",
            "--template",
            str(ROOT / "templates" / "chat.json"),
            "--port",
            str(self.port),
            "--mqtt-port",
            str(self.mqtt_port),
            "--aws-port",
            str(self.aws_port),
            *self.ONE_ADDRESS,
            *self.extra_args,
        ]

    def ready(self) -> bool:
        return _http_ok(f"{self.site}/config.json")

    @property
    def moto_endpoint(self) -> str:
        """The emulator's moto server (DynamoDB, Kinesis, ...), on a port we chose."""
        return f"http://127.0.0.1:{self.aws_port}"


class Amqtt(Child):
    """A bare amqtt broker (bench.amqtt_broker): no auth, no rules."""

    name = "amqtt"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.port = free_port()

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bench.amqtt_broker", "--port", str(self.port)]

    def ready(self) -> bool:
        return _port_open(self.port)


class Mosquitto(Child):
    """Debian's mosquitto with a config file of our own: loopback only, anonymous, no disk."""

    name = "mosquitto"

    def __init__(self, workdir: Path, password_file: Path | None = None) -> None:
        super().__init__(workdir)
        self.port = free_port()
        self.conf = workdir / "mosquitto.conf"
        self.password_file = password_file

    def command(self) -> list[str]:
        auth = (
            f"allow_anonymous false\npassword_file {self.password_file}\n"
            if self.password_file
            else "allow_anonymous true\n"
        )
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"{auth}"
            "persistence false\n"
            # As asyncio (amqtt, the emulator) does: without it Nagle adds up to ~40 ms.
            "set_tcp_nodelay true\n"
            # Queue limits high enough that the broker never drops QoS 1 traffic on purpose.
            "max_queued_messages 100000\n"
            "max_inflight_messages 0\n"
            "log_dest stdout\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
        )
        return [MOSQUITTO, "-c", str(self.conf)]

    def ready(self) -> bool:
        return _port_open(self.port)
