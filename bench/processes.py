"""Start and stop the baseline brokers as child processes on free loopback ports.

Each target gets its own process (the emulator's is emulator.testing.EmulatorProcess),
so the benchmark's clients never share an interpreter with the broker they measure.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from emulator.testing import ChildProcess, free_port, port_open

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class Amqtt(ChildProcess):
    """A bare amqtt broker (bench.amqtt_broker): no auth, no rules."""

    name = "amqtt"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.port = free_port()

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bench.amqtt_broker", "--port", str(self.port)]

    def ready(self) -> bool:
        return port_open(self.port)


class Mosquitto(ChildProcess):
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
        return port_open(self.port)
