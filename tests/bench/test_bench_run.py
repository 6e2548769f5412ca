"""A small real benchmark run: the emulator fixture and a bare amqtt broker, no loss."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.testing import EmulatorProcess

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_small_run_has_no_loss_and_writes_results(warm_emulator: EmulatorProcess, tmp_path: Path):
    out = tmp_path / "results"
    cmd = [
        sys.executable, "-m", "bench",
        "--site", warm_emulator.base_url, "--mqtt-port", str(warm_emulator.mqtt_port),
        "--targets", "emulator,amqtt",
        "--clients", "4", "--rooms", "2", "--rate", "20", "--duration", "3",
        "--drain", "15", "--out", str(out),
    ]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=150, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((out / "latest.json").read_text())
    runs = {r["target"]: r for r in result["runs"]}
    assert set(runs) == {"emulator", "amqtt"}
    for row in runs.values():
        assert row["sent"] == row["acked"] == 60
        assert row["expected_deliveries"] == row["received"] == 120  # 2 members per room
        assert row["lost"] == row["duplicates"] == row["misrouted"] == 0
        assert row["latency_ms"]["p99"] is not None
    storage = runs["emulator"]["storage"]
    assert storage["stored"] == 60 and storage["missing"] == storage["duplicates"] == 0
    assert runs["amqtt"]["storage"] is None
    assert "amqtt" in result["comparison"]["emulator_vs"]
    assert (out / "latest.csv").read_text().count("\n") == 3
    assert (out / "latest.png").stat().st_size > 10_000
    assert "acked" in done.stderr and "recv" in done.stderr  # the progress line


def test_the_emulator_target_knows_the_port_its_clients_connect_to(
    warm_emulator: EmulatorProcess,
) -> None:
    """TCP_NODELAY goes on the sockets whose peer is this port (bench/nodelay.py); without
    it Nagle's algorithm put about 20 ms on each PUBACK at 200 msg/s."""
    from urllib.parse import urlsplit

    from bench.targets import EmulatorTarget

    base = warm_emulator.base_url
    tcp = EmulatorTarget(name="emulator", site=base, mqtt_port=warm_emulator.mqtt_port)
    assert tcp.port == warm_emulator.mqtt_port
    ws = EmulatorTarget(name="emulator", site=base, transport="ws")
    assert ws.config is not None and ws.port == urlsplit(ws.config.mqtt_url).port != 0
