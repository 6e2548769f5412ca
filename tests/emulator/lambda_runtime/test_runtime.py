"""The Lambda runtime: handlers in worker processes, AWS-shaped context, limits."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from emulator.lambda_runtime import (
    FunctionConfig,
    FunctionError,
    FunctionNotFound,
    FunctionTimeout,
    LambdaRuntime,
)

REPO = Path(__file__).resolve().parents[3]

HANDLER = """
import os, sys, time

CALLS = 0
print("init done")


def handler(event, context):
    global CALLS
    CALLS += 1
    action = event.get("action")
    if action == "fail":
        raise ValueError("bad input: " + str(event.get("why")))
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "print":
        print("hello from the handler")
        print("to stderr", file=sys.stderr)
    if action == "unserialisable":
        return {"x": object()}
    if action == "exit":
        os._exit(3)
    return {
        "event": event,
        "pid": os.getpid(),
        "calls": CALLS,
        "env": {k: os.environ.get(k) for k in event.get("env", [])},
        "context": {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis(),
        },
        "sys_path": sys.path,
        "cwd": os.getcwd(),
    }
"""


def config(source: Path, **overrides: object) -> FunctionConfig:
    values: dict[str, object] = {
        "name": "fn",
        "handler": "app.handler",
        "source_dir": source,
        "environment": {"TABLE": "messages", "AWS_REGION": "ignored"},
        "timeout": 2.0,
        "memory_size": 256,
        "logical_id": "ChatFunction",
    }
    values.update(overrides)
    return FunctionConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(HANDLER)
    return tmp_path


@pytest.fixture
async def runtime(source: Path):  # type: ignore[no-untyped-def]
    rt = LambdaRuntime([config(source)], {"AWS_ENDPOINT_URL_IOT_DATA_PLANE": "http://x"})
    yield rt
    await rt.close()


async def test_returns_value_with_env_and_context(runtime: LambdaRuntime, source: Path) -> None:
    keys = ["TABLE", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION"]
    keys += ["AWS_ENDPOINT_URL_IOT_DATA_PLANE", "LAMBDA_TASK_ROOT"]
    result = await runtime.invoke("fn", {"env": keys, "n": 1})
    assert result["event"]["n"] == 1
    assert result["env"] == {
        "TABLE": "messages",
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_IOT_DATA_PLANE": "http://x",
        "LAMBDA_TASK_ROOT": str(source),
    }
    context = result["context"]
    assert context["function_name"] == "fn"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:fn"
    assert context["memory_limit_in_mb"] == "256"
    assert len(context["aws_request_id"]) == 36
    assert context["log_group_name"] == "/aws/lambda/fn"
    assert "[$LATEST]" in context["log_stream_name"]
    assert 1000 < context["remaining"] <= 2000
    assert result["sys_path"][0] == str(source)
    assert str(REPO) not in result["sys_path"]  # the emulator checkout is not importable
    assert result["cwd"] == str(source)


async def test_worker_is_reused_warm(runtime: LambdaRuntime) -> None:
    first = await runtime.invoke("fn", {})
    second = await runtime.invoke("fn", {})
    assert first["pid"] == second["pid"]
    assert second["calls"] == first["calls"] + 1
    assert first["context"]["aws_request_id"] != second["context"]["aws_request_id"]


async def test_lookup_by_arn_and_logical_id(runtime: LambdaRuntime) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    qualified = await runtime.invoke(arn + ":$LATEST", {})
    assert qualified["context"]["invoked_function_arn"] == arn + ":$LATEST"
    assert (await runtime.invoke("ChatFunction", {}))["context"]["function_name"] == "fn"
    with pytest.raises(FunctionNotFound):
        await runtime.invoke("nope", {})


async def test_error_is_aws_shaped_and_logged(
    runtime: LambdaRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="emulator.lambda")
    with pytest.raises(FunctionError) as caught:
        await runtime.invoke("fn", {"action": "fail", "why": "x"})
    error = caught.value
    assert error.error_type == "ValueError"
    assert error.error_message == "bad input: x"
    assert set(error.payload) == {"errorMessage", "errorType", "stackTrace"}
    assert "app.py" in error.stack_trace[-1] and "in handler" in error.stack_trace[-1]
    assert "worker.py" not in "".join(error.stack_trace)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    assert "[fn]" in logged and "ValueError: bad input: x" in logged and "app.py" in logged
    assert (await runtime.invoke("fn", {}))["event"] == {}  # the worker survives


async def test_timeout_kills_the_worker_and_the_next_call_works(runtime: LambdaRuntime) -> None:
    before = await runtime.invoke("fn", {})
    started = time.monotonic()
    with pytest.raises(FunctionTimeout, match=r"Task timed out after 2.00 seconds"):
        await runtime.invoke("fn", {"action": "sleep", "seconds": 30})
    assert time.monotonic() - started < 20  # killed at its timeout, not after 30 s
    after = await runtime.invoke("fn", {})
    assert after["pid"] != before["pid"]
    assert after["calls"] == 1  # a fresh sandbox
    with pytest.raises(ProcessLookupError):
        os.kill(before["pid"], 0)


async def test_concurrency_limit_is_respected(source: Path) -> None:
    runtime = LambdaRuntime([config(source, max_concurrency=2)])
    try:
        started = time.monotonic()
        results = await asyncio.gather(
            *(runtime.invoke("fn", {"action": "sleep", "seconds": 0.3}) for _ in range(6))
        )
        elapsed = time.monotonic() - started
    finally:
        await runtime.close()
    assert runtime.pool("fn").peak_in_flight == 2
    assert len({r["pid"] for r in results}) == 2
    assert elapsed >= 0.9


async def test_logs_are_prefixed_with_the_function_name(
    runtime: LambdaRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="emulator.lambda")
    await runtime.invoke("fn", {"action": "print"})
    expected = {"[fn] init done", "[fn] hello from the handler", "[fn] to stderr"}
    deadline = time.monotonic() + 5  # log lines travel on their own pipe: wait for them
    while missing := expected - {r.getMessage() for r in caplog.records}:
        assert time.monotonic() < deadline, f"never logged: {missing}"
        await asyncio.sleep(0.02)


async def test_unserialisable_result(runtime: LambdaRuntime) -> None:
    with pytest.raises(FunctionError) as caught:
        await runtime.invoke("fn", {"action": "unserialisable"})
    assert caught.value.error_type == "Runtime.MarshalError"


async def test_worker_crash_is_an_exit_error(runtime: LambdaRuntime) -> None:
    with pytest.raises(FunctionError) as caught:
        await runtime.invoke("fn", {"action": "exit"})
    assert caught.value.error_type == "Runtime.ExitError"
    assert (await runtime.invoke("fn", {}))["calls"] == 1


@pytest.mark.parametrize(
    ("handler", "code", "error_type"),
    [
        ("missing.handler", "", "Runtime.ImportModuleError"),
        ("app.nothing", "x = 1\n", "Runtime.HandlerNotFound"),
        ("app.handler", "def handler(:\n", "Runtime.UserCodeSyntaxError"),
        ("app.handler", "raise RuntimeError('init boom')\n", "RuntimeError"),
    ],
)
async def test_init_errors(tmp_path: Path, handler: str, code: str, error_type: str) -> None:
    (tmp_path / "app.py").write_text(code)
    runtime = LambdaRuntime([config(tmp_path, handler=handler)])
    try:
        with pytest.raises(FunctionError) as caught:
            await runtime.invoke("fn", {})
    finally:
        await runtime.close()
    assert caught.value.error_type == error_type


async def test_invoke_async_logs_failures(
    runtime: LambdaRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    ok = await runtime.invoke_async("fn", {"n": 2})
    failing = await runtime.invoke_async("fn", {"action": "fail", "why": "async"})
    assert (await ok)["event"] == {"n": 2}
    assert await failing is None
    assert any("async invocation failed" in r.getMessage() for r in caplog.records)


async def test_close_stops_every_worker(source: Path) -> None:
    runtime = LambdaRuntime([config(source)])
    pid = (await runtime.invoke("fn", {}))["pid"]
    await runtime.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(RuntimeError, match="closed"):
        await runtime.invoke("fn", {})


def test_workers_exit_when_the_parent_dies(source: Path) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, os, sys
        from pathlib import Path
        from emulator.lambda_runtime import FunctionConfig, LambdaRuntime

        async def main():
            rt = LambdaRuntime([FunctionConfig(name="fn", handler="app.handler",
                                               source_dir=Path({str(source)!r}))])
            result = await rt.invoke("fn", {{}})
            print(result["pid"], flush=True)
            os._exit(0)  # no cleanup: the worker must notice on its own

        asyncio.run(main())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    pid = int(out.stdout.split()[-1])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, 9)
    pytest.fail("worker outlived its parent")


class RoleCredentialsStub:
    """What a credentials source hands out: a key per issue, valid for ``life`` seconds."""

    def __init__(self, number: int, life: float) -> None:
        self.key = f"ASIA{number:04d}"
        self.expiration = time.time() + life

    def env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.key,
            "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_SESSION_TOKEN": f"token-{self.key}",
        }


async def test_workers_run_with_their_roles_credentials_and_retire_before_expiry(
    source: Path,
) -> None:
    asked: list[tuple[str, float]] = []

    async def credentials(function: FunctionConfig, min_remaining: float) -> RoleCredentialsStub:
        asked.append((function.role_arn, min_remaining))
        return RoleCredentialsStub(len(asked), life=1.5)

    role = "arn:aws:iam::123456789012:role/fn-role"
    keys = ["AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN"]
    function = config(
        source, role_arn=role, timeout=0.5, environment={"AWS_ACCESS_KEY_ID": "from-template"}
    )
    rt = LambdaRuntime(
        [function], {"AWS_ACCESS_KEY_ID": "testing"}, credentials=credentials, renew_before=0.5
    )
    try:
        first = await rt.invoke("fn", {"env": keys})
        again = await rt.invoke("fn", {"env": keys})
        assert first["env"] == {
            "AWS_ACCESS_KEY_ID": "ASIA0001",
            "AWS_SESSION_TOKEN": "token-ASIA0001",
        }
        assert again["pid"] == first["pid"]  # warm, with 1.5 s left of its credentials
        await asyncio.sleep(0.6)  # now less than timeout + renew_before (1 s) is left
        renewed = await rt.invoke("fn", {"env": keys})
        assert renewed["pid"] != first["pid"]
        assert renewed["env"]["AWS_ACCESS_KEY_ID"] == "ASIA0002"
        assert asked == [(role, 2.0), (role, 2.0)]  # twice the life an invocation needs
    finally:
        await rt.close()


async def test_a_role_without_credentials_fails_the_invocation(source: Path) -> None:
    async def credentials(function: FunctionConfig, min_remaining: float) -> RoleCredentialsStub:
        raise PermissionError("role fn-role cannot be assumed by lambda.amazonaws.com")

    rt = LambdaRuntime([config(source)], credentials=credentials)
    try:
        with pytest.raises(FunctionError) as failed:
            await rt.invoke("fn", {})
        assert failed.value.error_type == "PermissionError"
        assert "cannot be assumed" in failed.value.error_message
    finally:
        await rt.close()
