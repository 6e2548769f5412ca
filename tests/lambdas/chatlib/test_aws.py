"""chatlib.aws: clients are created once per container, starting from a cold one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LAMBDAS = Path(__file__).resolve().parents[3] / "lambdas"


def test_first_client_in_a_cold_container_does_not_deadlock() -> None:
    """The very first client() creates the session too: in a fresh interpreter, as Lambda."""
    code = (
        "from chatlib import aws\n"
        "a = aws.client('secretsmanager'); b = aws.client('secretsmanager')\n"
        "assert a is b\n"
        "assert aws.dynamodb() is aws.dynamodb()\n"
        "print('ok')\n"
    )
    env = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=LAMBDAS,
        env={**env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.stdout.strip() == "ok", done.stderr
