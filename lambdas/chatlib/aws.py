"""AWS clients, created once per container on first use.

Endpoints come only from boto3's own configuration (``AWS_ENDPOINT_URL_<SERVICE>``,
``AWS_REGION``): nothing here knows about the local emulator.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
)

_lock = threading.RLock()  # client() holds it while session() takes it again
_session: boto3.session.Session | None = None
_clients: dict[str, Any] = {}
_resources: dict[str, Any] = {}


def session() -> boto3.session.Session:
    """The container's boto3 session (it holds the parsed service models)."""
    global _session
    if _session is None:
        with _lock:
            if _session is None:
                _session = boto3.session.Session()
    return _session


def client(service: str) -> Any:
    """A boto3 client for ``service`` (``"iot-data"``, ``"secretsmanager"``, ...)."""
    found = _clients.get(service)
    if found is None:
        with _lock:
            found = _clients.get(service)
            if found is None:
                found = session().client(service, config=_CONFIG)
                _clients[service] = found
    return found


def dynamodb() -> Any:
    """The DynamoDB service resource (tables are cheap views on it)."""
    found = _resources.get("dynamodb")
    if found is None:
        with _lock:
            found = _resources.get("dynamodb")
            if found is None:
                found = session().resource("dynamodb", config=_CONFIG)
                _resources["dynamodb"] = found
    return found


def table(name: str) -> Any:
    return dynamodb().Table(name)


def reset(*, keep_session: bool = False) -> None:
    """Forget every client (tests, or after the environment changed). With
    ``keep_session`` the session and its parsed service models are kept; its credentials
    and region are still the ones it resolved first."""
    global _session
    with _lock:
        _clients.clear()
        _resources.clear()
        if not keep_session:
            _session = None
