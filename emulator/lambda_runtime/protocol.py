"""What travels between the runtime and a worker: one JSON object per line.

Requests go on the worker's stdin. Replies come on the worker's original stdout,
which the worker keeps for the protocol alone; the handler's own prints and logs go
to stderr, which the runtime forwards to the emulator's log.
"""

from __future__ import annotations

import json
import traceback
from types import TracebackType
from typing import Any

READY = "ready"
INIT_ERROR = "init_error"
RESULT = "result"
ERROR = "error"

# Environment variables the runtime sets for the worker only.
HANDLER_ENV = "_HANDLER"
TASK_ROOT_ENV = "LAMBDA_TASK_ROOT"
BOOT_PATH_ENV = "_EMULATOR_BOOT_PATH"


def encode(message: dict[str, Any]) -> bytes:
    """One line of compact JSON."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def error_payload(
    exc: BaseException, error_type: str | None = None, tb: TracebackType | None = None
) -> dict[str, Any]:
    """AWS's error shape: errorMessage, errorType, stackTrace (one string per frame)."""
    frames = traceback.extract_tb(tb if tb is not None else exc.__traceback__)
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_list(frames),
    }
