"""Invocation failures as the caller of Lambda's Invoke API sees them."""

from __future__ import annotations

from typing import Any


class FunctionError(Exception):
    """The function failed (FunctionError: Unhandled); `payload` is AWS's error JSON."""

    def __init__(self, function_name: str, payload: dict[str, Any]) -> None:
        self.function_name = function_name
        self.payload = payload
        super().__init__(f"{function_name}: {self.error_type}: {self.error_message}")

    @property
    def error_type(self) -> str:
        """errorType, e.g. ValueError or Runtime.ImportModuleError."""
        return str(self.payload.get("errorType", "Unknown"))

    @property
    def error_message(self) -> str:
        """errorMessage."""
        return str(self.payload.get("errorMessage", ""))

    @property
    def stack_trace(self) -> list[str]:
        """stackTrace, one formatted frame per item."""
        return list(self.payload.get("stackTrace", []))


class FunctionTimeout(FunctionError):
    """The invocation ran past the function's Timeout; its worker was killed."""


class FunctionNotFound(LookupError):
    """No function by that name, ARN or logical id (ResourceNotFoundException)."""
