"""Run the local emulator (`python -m emulator`) as a child process for tests.

Integration, browser and client tests all talk to the same real thing a user starts
with `make run`, on free loopback ports, and stop it when they are done. The process
handling is the benchmark's (bench.processes), with what tests need on top.
"""

from __future__ import annotations

import json
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from bench.processes import ROOT, Emulator, free_port

__all__ = ["ROOT", "EmulatorProcess", "free_port"]


class EmulatorProcess(Emulator):
    """One emulator child process; `start()` again after `stop()` reuses the ports."""

    def __init__(self, extra_args: list[str] | None = None) -> None:
        super().__init__(Path(tempfile.mkdtemp(prefix="emulator-test-")), extra_args)

    def start(self, timeout: float = 90.0) -> EmulatorProcess:
        super().start(timeout)
        return self

    @property
    def base_url(self) -> str:
        return self.site

    @property
    def aws_endpoint(self) -> str:
        """The moto server behind the emulator (DynamoDB, Kinesis, Secrets Manager...)."""
        return self.moto_endpoint

    @property
    def output(self) -> list[str]:
        """Everything the emulator printed so far, a line an item."""
        return self.log_path.read_text(errors="replace").splitlines()

    def aws_client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.aws_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def data_plane(self) -> Any:
        """boto3's iot-data client on the emulator's HTTP port, as an unevaluated caller."""
        import boto3

        return boto3.client(
            "iot-data",
            endpoint_url=self.base_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

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

    def __repr__(self) -> str:
        return f"EmulatorProcess({self.site}, mqtt {self.mqtt_port}, log {self.log_path})"
