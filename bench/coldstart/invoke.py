"""First and second invocation of each function against the emulator.

The emulator runs in this process (moto in its own), on free loopback ports; for each
run a second Lambda runtime of the same template, started cold (no prewarmed worker),
invokes each function twice with the event its trigger would send: the first call spawns the
worker, imports the handler and runs it (its first AWS calls included), the second is
warm. The workers run on the emulator's Python and virtualenv (bytecode compiled), not
on Lambda's, so this is the emulator's cold start, not AWS's.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.app import Emulator, Settings
from emulator.lambda_runtime import LambdaRuntime, functions_from_template
from emulator.testing import free_port


@dataclass(frozen=True)
class Invocations:
    """Wall milliseconds of the first (cold) and second (warm) invocation: medians over
    the runs, and the first invocation's fastest and slowest."""

    first_ms: float
    second_ms: float
    first_min_ms: float
    first_max_ms: float
    runs: int


def token_event(name: str) -> dict[str, Any]:
    """What the function URL sends for ``POST /api/token`` (payload format 2.0)."""
    return {
        "version": "2.0",
        "rawPath": "/api/token",
        "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": "POST", "path": "/api/token"}},
        "body": json.dumps({"name": name}),
        "isBase64Encoded": False,
    }


def authorizer_event(token: str) -> dict[str, Any]:
    return {"protocolData": {"http": {"queryString": f"token={token}"}}, "protocols": ["http"]}


def join_event(principal: str) -> dict[str, Any]:
    """The route rule's output for a join."""
    return {
        "type": "join",
        "room": "bench",
        "name": "bench",
        "clientId": f"{principal}-bench",
        "sender": principal,
        "ts": int(time.time() * 1000),
    }


def connected_event(principal: str) -> dict[str, Any]:
    """AWS IoT's lifecycle event for a connect."""
    return {
        "eventType": "connected",
        "clientId": f"{principal}-bench",
        "principalIdentifier": principal,
        "sessionIdentifier": str(uuid.uuid4()),
        "timestamp": int(time.time() * 1000),
        "versionNumber": 1,
    }


async def _timed(runtime: LambdaRuntime, logical_id: str, event: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await runtime.invoke(logical_id, event)
    return (time.perf_counter() - started) * 1000, result


async def _one_runtime(emulator: Emulator, root: Path) -> dict[str, list[float]]:
    """A cold runtime: each function's first and second invocation, in milliseconds."""
    runtime = LambdaRuntime(
        functions_from_template(emulator.template, root), extra_env=emulator.function_env
    )
    try:
        times: dict[str, list[float]] = {}
        for _ in range(2):
            ms, answer = await _timed(runtime, "TokenFunction", token_event("bench"))
            times.setdefault("TokenFunction", []).append(ms)
            issued = json.loads(answer["body"])
            principal = issued["clientIdPrefix"]
            calls = {
                "AuthorizerFunction": authorizer_event(issued["token"]),
                "PresenceFunction": connected_event(principal),
                "ChatFunction": join_event(principal),
            }
            for logical_id, event in calls.items():
                ms, answer = await _timed(runtime, logical_id, event)
                if logical_id == "AuthorizerFunction" and not answer.get("isAuthenticated"):
                    raise RuntimeError(f"the authorizer refused the bench's token: {answer}")
                times.setdefault(logical_id, []).append(ms)
        return times
    finally:
        await runtime.close()


async def _run(template: Path, root: Path, runs: int) -> dict[str, Invocations]:
    settings = Settings(template_path=template, port=free_port(), mqtt_port=free_port())
    emulator = Emulator(settings)
    await emulator.start()
    try:
        found = [await _one_runtime(emulator, root) for _ in range(runs)]
    finally:
        await emulator.stop()
    return {
        name: Invocations(
            first_ms=statistics.median(f[name][0] for f in found),
            second_ms=statistics.median(f[name][1] for f in found),
            first_min_ms=min(f[name][0] for f in found),
            first_max_ms=max(f[name][0] for f in found),
            runs=runs,
        )
        for name in found[0]
    }


def invocations(template: Path, root: Path, runs: int) -> dict[str, Invocations]:
    """First and second invocation of the four functions, by logical id."""
    return asyncio.run(_run(template, root, runs))
