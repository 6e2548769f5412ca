"""The runtime's handle on one worker process: spawn, init, call, kill.

A worker serves one invocation at a time and is reused while it stays healthy;
a timeout or a crash discards it, like a Lambda sandbox being recycled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from emulator.lambda_runtime import protocol
from emulator.lambda_runtime.config import FunctionConfig

log = logging.getLogger("emulator.lambda")

INIT_TIMEOUT = 10.0  # AWS's init phase limit
STREAM_LIMIT = 8 * 1024 * 1024  # above Lambda's 6 MB payload limit
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_BASE_ENV_KEYS = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "SYSTEMROOT")


class WorkerDied(Exception):
    """The worker exited (or closed its reply pipe) in the middle of an exchange."""


class InitFailed(Exception):
    """The handler could not be imported; carries AWS's error payload."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload.get("errorMessage", "init failed"))
        self.payload = payload


def worker_environment(
    config: FunctionConfig, extra_env: dict[str, str], credentials: dict[str, str] | None = None
) -> dict[str, str]:
    """Base < extra (endpoints) < function variables < Lambda's reserved ones.

    The execution role's credentials are among the reserved variables: a function's
    own configuration cannot replace them ("Defined runtime environment variables",
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html).
    """
    env = {k: os.environ[k] for k in _BASE_ENV_KEYS if k in os.environ}
    env.update(extra_env)
    env.update(config.environment)
    env.update(credentials or {})
    stream = time.strftime("%Y/%m/%d/", time.gmtime()) + "[$LATEST]" + uuid.uuid4().hex
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": config.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
            "AWS_REGION": config.region,
            "AWS_DEFAULT_REGION": config.region,
            "TZ": ":UTC",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": _PACKAGE_ROOT,
            protocol.BOOT_PATH_ENV: _PACKAGE_ROOT,
            protocol.TASK_ROOT_ENV: str(config.source_dir),
            protocol.HANDLER_ENV: config.handler,
        }
    )
    return env


class WorkerProcess:
    """One warm sandbox for one function."""

    def __init__(
        self,
        config: FunctionConfig,
        proc: asyncio.subprocess.Process,
        credentials_expire_at: float = float("inf"),
    ) -> None:
        self.config = config
        self.proc = proc
        self.credentials_expire_at = credentials_expire_at  # epoch seconds
        self._next_id = 0
        self._log_task = asyncio.create_task(self._forward_logs())

    @classmethod
    async def spawn(
        cls,
        config: FunctionConfig,
        extra_env: dict[str, str],
        python: str = sys.executable,
        credentials: dict[str, str] | None = None,
        credentials_expire_at: float = float("inf"),
    ) -> WorkerProcess:
        """Start a worker and wait for its init phase (the handler import)."""
        proc = await asyncio.create_subprocess_exec(
            python,
            "-m",
            "emulator.lambda_runtime.worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(config.source_dir),
            env=worker_environment(config, extra_env, credentials),
            limit=STREAM_LIMIT,
            # Out of the terminal's process group: Ctrl-C stops the emulator, which then
            # closes its workers in order (they also exit on stdin EOF if it dies).
            start_new_session=True,
        )
        worker = cls(config, proc, credentials_expire_at)
        try:
            first = await asyncio.wait_for(worker._read_reply(), INIT_TIMEOUT)
        except BaseException:
            await worker.kill()
            raise
        if protocol.INIT_ERROR in first:
            await worker.kill()
            raise InitFailed(first[protocol.INIT_ERROR])
        return worker

    @property
    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.proc.returncode is None

    async def _forward_logs(self) -> None:
        """Every line the handler prints becomes an emulator log line, prefixed by name."""
        assert self.proc.stderr is not None
        prefix = f"[{self.config.name}]"
        while True:
            try:
                line = await self.proc.stderr.readline()
            except ValueError:  # a line beyond STREAM_LIMIT: forward what is there
                line = await self.proc.stderr.read(STREAM_LIMIT)
            if not line:
                return
            log.info("%s %s", prefix, line.decode(errors="replace").rstrip("\n"))

    async def _read_reply(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await self.proc.stdout.readline()
        if not line:
            code = await self.proc.wait()
            raise WorkerDied(f"worker exited with status {code}")
        return json.loads(line)

    async def call(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one invocation and wait for its reply (TimeoutError past `timeout`)."""
        assert self.proc.stdin is not None
        self._next_id += 1
        request["id"] = self._next_id
        try:
            self.proc.stdin.write(protocol.encode(request))
            await self.proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise WorkerDied(f"worker is gone: {exc}") from exc
        return await asyncio.wait_for(self._read_reply(), timeout)

    async def kill(self) -> None:
        """Stop the process now (timeouts, errors, shutdown)."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        await self.proc.wait()
        await self._drain_logs()

    async def close(self, grace: float = 1.0) -> None:
        """Close stdin so the worker exits by itself; kill it if it does not."""
        if self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), grace)
        except TimeoutError:
            await self.kill()
        await self._drain_logs()

    async def _drain_logs(self) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(self._log_task), 1.0)
        except TimeoutError:
            self._log_task.cancel()
