"""The Lambda service: resolve a function, borrow a warm worker, enforce the limits.

Each function has a pool of worker processes bounded by its concurrency limit;
invocations beyond it wait for a worker, as throttled async events would wait in
Lambda's internal queue (synchronous callers are not rejected with 429 here).

Given a credentials source, each worker starts with temporary credentials of the
function's execution role in its environment, and is retired before they expire (so
an invocation never runs on credentials that lapse before its timeout), as Lambda
recycles its execution environments: "Understanding the Lambda execution environment
lifecycle", https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol

from emulator.lambda_runtime import protocol
from emulator.lambda_runtime.config import FunctionConfig
from emulator.lambda_runtime.errors import FunctionError, FunctionNotFound, FunctionTimeout
from emulator.lambda_runtime.process import InitFailed, WorkerDied, WorkerProcess

log = logging.getLogger("emulator.lambda")

RENEW_BEFORE = 300.0  # seconds: a worker is retired this long (plus the timeout) before expiry


class WorkerCredentials(Protocol):
    """Temporary credentials of an execution role."""

    expiration: float  # epoch seconds

    def env(self) -> dict[str, str]:
        """AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN."""
        ...


# (function, seconds they must stay valid at least) -> credentials of its role
CredentialsSource = Callable[[FunctionConfig, float], Awaitable[WorkerCredentials]]


class FunctionPool:
    """Warm workers of one function and the semaphore that caps its concurrency."""

    def __init__(
        self,
        config: FunctionConfig,
        extra_env: dict[str, str],
        python: str,
        credentials: CredentialsSource | None = None,
        renew_before: float = RENEW_BEFORE,
    ) -> None:
        self.config = config
        self._extra_env = extra_env
        self._python = python
        self._credentials = credentials
        self._renew_before = renew_before
        self._slots = asyncio.Semaphore(max(config.max_concurrency, 1))
        self._idle: list[WorkerProcess] = []
        self._all: set[WorkerProcess] = set()
        self.in_flight = 0
        self.peak_in_flight = 0

    @property
    def _credentials_life(self) -> float:
        """How long a worker's credentials must still be valid when it takes an invocation."""
        return self.config.timeout + self._renew_before

    async def _spawn(self) -> WorkerProcess:
        env: dict[str, str] | None = None
        expire_at = float("inf")
        if self._credentials is not None:
            try:
                # Twice the life needed, so a fresh worker serves for a while.
                got = await self._credentials(self.config, 2 * self._credentials_life)
            except Exception as exc:
                payload = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
                log.error("[%s] no credentials for its role: %s", self.config.name, exc)
                raise FunctionError(self.config.name, payload) from None
            env, expire_at = got.env(), got.expiration
        worker = await WorkerProcess.spawn(
            self.config, self._extra_env, self._python, env, expire_at
        )
        self._all.add(worker)
        return worker

    async def prewarm(self) -> None:
        """Start one worker ahead of the first invocation (skip the cold start)."""
        if not self._idle:
            self._idle.append(await self._spawn())

    async def invoke(self, event: Any, invoked_arn: str, client_context: Any = None) -> Any:
        """Run one invocation on a free worker; raise FunctionError on any failure."""
        if self.config.max_concurrency <= 0:
            raise FunctionError(
                self.config.name,
                {"errorType": "TooManyRequestsException", "errorMessage": "Rate Exceeded."},
            )
        async with self._slots:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                return await self._invoke_on_worker(event, invoked_arn, client_context)
            finally:
                self.in_flight -= 1

    async def _take_worker(self) -> WorkerProcess:
        while self._idle:
            worker = self._idle.pop()
            if not worker.alive:
                self._all.discard(worker)
            elif worker.credentials_expire_at - time.time() < self._credentials_life:
                self._all.discard(worker)  # retire it before its credentials lapse
                await worker.close()
            else:
                return worker
        try:
            return await self._spawn()
        except InitFailed as exc:
            raise FunctionError(self.config.name, exc.payload) from None

    async def _invoke_on_worker(self, event: Any, invoked_arn: str, client_context: Any) -> Any:
        name = self.config.name
        worker = await self._take_worker()
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        deadline_ms = int(time.time() * 1000 + self.config.timeout * 1000)
        request = {
            "request_id": request_id,
            "function_arn": invoked_arn,
            "deadline_ms": deadline_ms,
            "event": event,
            "client_context": client_context,
        }
        log.debug("[%s] START RequestId: %s Version: $LATEST", name, request_id)
        try:
            reply = await worker.call(request, self.config.timeout)
        except TimeoutError:
            await self._discard(worker)
            message = f"Task timed out after {self.config.timeout:.2f} seconds"
            log.error("[%s] %s RequestId: %s", name, message, request_id)
            raise FunctionTimeout(
                name, {"errorType": "Sandbox.Timedout", "errorMessage": message}
            ) from None
        except (WorkerDied, asyncio.CancelledError) as exc:
            await self._discard(worker)
            if isinstance(exc, asyncio.CancelledError):
                raise
            payload = {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {request_id} Error: {exc}",
            }
            log.error("[%s] %s", name, payload["errorMessage"])
            raise FunctionError(name, payload) from None
        self._idle.append(worker)
        elapsed = (time.monotonic() - started) * 1000
        log.debug("[%s] REPORT RequestId: %s Duration: %.2f ms", name, request_id, elapsed)
        if protocol.ERROR in reply:
            error = FunctionError(name, reply[protocol.ERROR])
            trace = "".join(error.stack_trace)
            log.error(
                "[%s] invocation failed: %s: %s\n%s",
                name,
                error.error_type,
                error.error_message,
                trace,
            )
            raise error
        return reply.get(protocol.RESULT)

    async def _discard(self, worker: WorkerProcess) -> None:
        self._all.discard(worker)
        await worker.kill()

    async def close(self) -> None:
        """Stop every worker of this function, idle or busy."""
        workers, self._idle = list(self._all), []
        self._all.clear()
        await asyncio.gather(*(w.close() for w in workers), return_exceptions=True)


class LambdaRuntime:
    """Invoke the template's functions by name, ARN or logical id."""

    def __init__(
        self,
        functions: Iterable[FunctionConfig],
        extra_env: Mapping[str, str] | None = None,
        *,
        python: str = sys.executable,
        credentials: CredentialsSource | None = None,
        renew_before: float = RENEW_BEFORE,
    ) -> None:
        self._extra_env = dict(extra_env or {})
        self._pools: dict[str, FunctionPool] = {}
        self._aliases: dict[str, str] = {}
        self._python = python
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        for config in functions:
            self._aliases.update({config.name: config.name, config.arn: config.name})
            if config.logical_id:
                self._aliases[config.logical_id] = config.name
            self._pools[config.name] = FunctionPool(
                config, self._extra_env, python, credentials, renew_before
            )

    @property
    def functions(self) -> list[FunctionConfig]:
        """Configs of every registered function."""
        return [pool.config for pool in self._pools.values()]

    def resolve(self, name_or_arn: str) -> FunctionConfig:
        """Find a function by name, ARN (qualifier allowed) or logical id."""
        return self._pool(name_or_arn).config

    def pool(self, name_or_arn: str) -> FunctionPool:
        """The worker pool behind a function (tests read its concurrency counters)."""
        return self._pool(name_or_arn)

    def _pool(self, name_or_arn: str) -> FunctionPool:
        key = name_or_arn
        if key.startswith("arn:") and key.count(":") == 7:  # qualified ARN
            key = key.rsplit(":", 1)[0]
        name = self._aliases.get(key)
        if name is None:
            raise FunctionNotFound(f"Function not found: {name_or_arn}")
        return self._pools[name]

    async def invoke(self, name_or_arn: str, event: Any, *, client_context: Any = None) -> Any:
        """RequestResponse invocation: the handler's JSON result, or FunctionError."""
        if self._closed:
            raise RuntimeError("LambdaRuntime is closed")
        pool = self._pool(name_or_arn)
        invoked = name_or_arn if name_or_arn.startswith("arn:") else pool.config.arn
        return await pool.invoke(event, invoked, client_context)

    async def invoke_async(self, name_or_arn: str, event: Any) -> asyncio.Task[Any]:
        """Event invocation: runs in the background; failures are logged, not raised."""
        self._pool(name_or_arn)  # unknown names fail now, as Invoke would
        task = asyncio.create_task(self._run_async(name_or_arn, event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run_async(self, name_or_arn: str, event: Any) -> Any:
        try:
            return await self.invoke(name_or_arn, event)
        except FunctionError as exc:
            log.warning("[%s] async invocation failed: %s", exc.function_name, exc)
        except Exception:
            log.exception("async invocation of %s failed", name_or_arn)
        return None

    async def prewarm(self, names: Iterable[str] | None = None) -> None:
        """Start one worker per function now, so the first event is not a cold start."""
        pools = [self._pool(n) for n in names] if names is not None else self._pools.values()
        await asyncio.gather(*(pool.prewarm() for pool in pools))

    async def close(self) -> None:
        """Cancel background invocations and stop every worker."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(pool.close() for pool in self._pools.values()))
