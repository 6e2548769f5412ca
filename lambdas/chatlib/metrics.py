"""The functions' business metrics, in CloudWatch embedded metric format (Powertools
Metrics): messages, joins, history pages, tokens, connections and refusals by reason.

Nothing here calls an AWS API: each invocation's metrics are printed as one JSON log
line when the handler returns (``@metrics.log_metrics``), and CloudWatch Logs turns it
into metrics in the namespace POWERTOOLS_METRICS_NAMESPACE names (the template sets it
per stack; stack/observability.py alarms on and charts them). The dimension ``service``
is the function's POWERTOOLS_SERVICE_NAME. A refusal is one line of its own, as it adds
a ``reason`` dimension the invocation's other metrics do not have.
"""

from __future__ import annotations

import os
import warnings

from aws_lambda_powertools import Metrics, single_metric
from aws_lambda_powertools.metrics import MetricUnit

from chatlib.validation import COMMAND_TYPES

# Outside Lambda (tests, scripts) the template's namespace is not set.
DEFAULT_NAMESPACE = "ServerlessChat"
REFUSED = "Refused"

# An invocation that counted nothing (an ignored event, an empty batch) is normal here;
# Powertools' documented way to silence its warning about it.
warnings.filterwarnings("ignore", "No application metrics to publish")

metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE)


def count(name: str) -> None:
    """One more ``name`` in this invocation's metrics."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def refused(reason: str) -> None:
    """One refusal, by ``reason``: a short fixed code, never text from the request (each
    distinct value is a metric of its own, billed as such)."""
    with single_metric(
        name=REFUSED, unit=MetricUnit.Count, value=1, namespace=metrics.namespace
    ) as metric:
        metric.add_dimension(name="reason", value=reason)


# What an outcome label (chatlib.commands, presence.py) counts as; other outcomes count
# nothing.
OUTCOMES = {
    "published": "Messages",  # a stream-path message, published to its room
    "joined": "Joins",
    "history": "HistoryPages",
    "connected": "Connected",
    "disconnected": "Disconnected",
}


def outcome(label: str) -> None:
    """Count one command or lifecycle event by its outcome label."""
    name = OUTCOMES.get(label)
    if name is not None:
        count(name)


def command(payload: object, label: str) -> None:
    """Count one chat command: by its outcome, or a refusal as ``invalid_<type>``."""
    if label != "rejected":
        outcome(label)
        return
    kind = payload.get("type") if isinstance(payload, dict) else None
    refused(f"invalid_{kind}" if kind in COMMAND_TYPES else "invalid_command")
