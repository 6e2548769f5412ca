"""A Lambda "container": imports one handler, then serves invocations until stdin closes.

Run as `python -m emulator.lambda_runtime.worker` by the runtime. Only the standard
library is imported here so a cold start costs little more than the handler's own
imports. The worker exits when its stdin reaches EOF or its parent process dies.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, BinaryIO

from emulator.lambda_runtime import protocol
from emulator.lambda_runtime.context import LambdaContext

Handler = Callable[[Any, LambdaContext], Any]


def _isolate_sys_path(task_root: str) -> None:
    """Make imports look like Lambda's: the task root first, no emulator checkout."""
    boot = os.environ.pop(protocol.BOOT_PATH_ENV, "")
    os.environ.pop("PYTHONPATH", None)
    drop = {os.path.abspath(p) for p in (boot, os.getcwd()) if p} - {os.path.abspath(task_root)}
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) not in drop]
    sys.path.insert(0, task_root)


def _load_handler(name: str) -> Handler:
    """Import `module.function` (module may be dotted or slashed), as Lambda does."""
    module_name, _, function_name = name.rpartition(".")
    if not module_name:
        raise ValueError(f"Bad handler '{name}': not enough values to unpack")
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        raise _InitError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}"
        ) from exc
    except ImportError as exc:
        raise _InitError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from exc
    handler = getattr(module, function_name, None)
    if handler is None:
        raise _InitError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    return handler


class _InitError(Exception):
    """A failure of the init phase with the error type AWS reports for it."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _watch_parent(parent_pid: int) -> None:
    """Exit if the emulator dies, even while a handler is still running."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            os._exit(1)


def _invoke(handler: Handler, request: dict[str, Any]) -> dict[str, Any]:
    context = LambdaContext(
        aws_request_id=request["request_id"],
        invoked_function_arn=request["function_arn"],
        deadline_ms=int(request["deadline_ms"]),
        client_context=request.get("client_context"),
    )
    try:
        result = handler(request["event"], context)
    except Exception as exc:
        # Skip this module's own frame, as AWS shows only user frames.
        tb = exc.__traceback__.tb_next if exc.__traceback__ else None
        # The runtime logs it with the traceback; printing here too would log it twice.
        return {protocol.ERROR: protocol.error_payload(exc, tb=tb)}
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        message = f"Unable to marshal response: {exc}"
        return {protocol.ERROR: {"errorMessage": message, "errorType": "Runtime.MarshalError"}}
    return {protocol.RESULT: result}


def serve(requests: BinaryIO, replies: BinaryIO, handler: Handler) -> None:
    """Answer each request line with one reply line until EOF."""
    for line in requests:
        if not line.strip():
            continue
        request = json.loads(line)
        reply = _invoke(handler, request)
        reply["id"] = request["id"]
        replies.write(protocol.encode(reply))
        replies.flush()


def main() -> None:
    """Set the process up like a Lambda sandbox, run init, then serve."""
    replies = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # the handler's prints join its log stream, not the protocol
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    task_root = os.environ.get(protocol.TASK_ROOT_ENV, os.getcwd())
    _isolate_sys_path(task_root)
    try:
        handler = _load_handler(os.environ[protocol.HANDLER_ENV])
    except _InitError as exc:
        payload = protocol.error_payload(
            exc, exc.error_type, exc.__cause__.__traceback__ if exc.__cause__ else None
        )
        replies.write(protocol.encode({protocol.INIT_ERROR: payload}))
        traceback.print_exception(exc.__cause__ or exc, file=sys.stderr)
        return
    except Exception as exc:
        replies.write(protocol.encode({protocol.INIT_ERROR: protocol.error_payload(exc)}))
        traceback.print_exception(exc, file=sys.stderr)
        return
    replies.write(protocol.encode({protocol.READY: True}))
    serve(sys.stdin.buffer, replies, handler)


if __name__ == "__main__":
    main()
