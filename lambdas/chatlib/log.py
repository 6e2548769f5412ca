"""Structured JSON logging (aws-lambda-powertools), one logger per container."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger

# LOG_LEVEL is what the template sets; POWERTOOLS_LOG_LEVEL still works when it is unset.
logger = Logger(level=os.environ.get("LOG_LEVEL") or None, use_rfc3339=True)


def bind_context(context: Any) -> None:
    """Add the invocation's request id to every log line, without requiring a full
    Lambda context object (the local emulator's is AWS-shaped but minimal)."""
    request_id = getattr(context, "aws_request_id", None)
    function_name = getattr(context, "function_name", None)
    logger.append_keys(request_id=request_id, function_name=function_name)
