"""Structured JSON logging (aws-lambda-powertools), one logger per container.

Handlers wrap themselves in ``logger.inject_lambda_context``, which adds the
invocation's request id, function name, ARN, memory and cold start to every line.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger

# LOG_LEVEL is what the template sets; POWERTOOLS_LOG_LEVEL still works when it is unset.
logger = Logger(level=os.environ.get("LOG_LEVEL") or None, use_rfc3339=True)
