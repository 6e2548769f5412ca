"""Where figures came from: CPU, core count, Python and library versions."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata

from bench.processes import MOSQUITTO


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _mosquitto_version() -> str | None:
    try:
        out = subprocess.run(  # noqa: S603 (fixed argv)
            [MOSQUITTO, "-h"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except OSError:
        return None
    first = out.splitlines()[0] if out else ""
    return first.replace("mosquitto version", "").strip() or None


def describe() -> dict[str, object]:
    return {
        "nproc": os.cpu_count(),
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "awscrt": _version("awscrt"),
        "awsiotsdk": _version("awsiotsdk"),
        "amqtt": _version("amqtt"),
        "mosquitto": _mosquitto_version(),
    }
