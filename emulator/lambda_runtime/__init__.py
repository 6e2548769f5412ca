"""Lambda runtime: handlers from the template run in warm worker processes.

Exports are loaded lazily so that a worker process, which imports
`emulator.lambda_runtime.worker`, does not pay for asyncio and the runtime side.
"""

from __future__ import annotations

from emulator.exports import lazy_exports

_EXPORTS = {
    "FunctionConfig": "emulator.lambda_runtime.config",
    "function_config": "emulator.lambda_runtime.config",
    "functions_from_template": "emulator.lambda_runtime.config",
    "FunctionError": "emulator.lambda_runtime.errors",
    "FunctionNotFound": "emulator.lambda_runtime.errors",
    "FunctionTimeout": "emulator.lambda_runtime.errors",
    "LambdaContext": "emulator.lambda_runtime.context",
    "LambdaRuntime": "emulator.lambda_runtime.runtime",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
