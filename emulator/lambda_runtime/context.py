"""The context object handlers receive, shaped like the AWS Python runtime's.

Values come from the environment (as in awslambdaric, so memory_limit_in_mb is the
string form of the memory size) and from the invocation (request id, deadline).
"""

from __future__ import annotations

import os
import time
from typing import Any


class LambdaContext:
    """Per-invocation context; get_remaining_time_in_millis counts down to the timeout."""

    def __init__(
        self,
        aws_request_id: str,
        invoked_function_arn: str,
        deadline_ms: int,
        client_context: Any = None,
    ) -> None:
        self.aws_request_id = aws_request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = client_context
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the runtime kills the invocation."""
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def __repr__(self) -> str:
        return (
            f"LambdaContext(function_name={self.function_name!r}, "
            f"aws_request_id={self.aws_request_id!r})"
        )
