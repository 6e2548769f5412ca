"""`python -m emulator` on a template of the test's own (not the chat's), as a child."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.support.emulator_process import EmulatorProcess


class TemplateEmulator(EmulatorProcess):
    """The emulator on ``template`` with ``extra_args``, on free loopback ports."""

    def __init__(self, template: Path, extra_args: list[str] | None = None) -> None:
        super().__init__(extra_args)
        self.template = template

    def command(self) -> list[str]:
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
            *self.extra_args,
        ]
