"""AWS clients, created once per container on first use.

Endpoints come only from boto3's own configuration (``AWS_ENDPOINT_URL_<SERVICE>``,
``AWS_REGION``): nothing here knows about the local emulator.

One cache (``functools.cache``) holds every client and resource. A container runs one
invocation at a time and the handlers start no threads, so no lock is needed.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

import boto3
from botocore.config import Config

CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
)


@functools.cache
def session() -> boto3.session.Session:
    """The container's boto3 session (it holds the parsed service models)."""
    return boto3.session.Session()


@functools.cache
def _made(kind: Literal["client", "resource"], service: str) -> Any:
    factory = session().client if kind == "client" else session().resource
    return factory(service, config=CONFIG)


def client(service: str) -> Any:
    """A boto3 client for ``service`` (``"iot-data"``, ``"secretsmanager"``, ...)."""
    return _made("client", service)


def dynamodb() -> Any:
    """The DynamoDB service resource (tables are cheap views on it)."""
    return _made("resource", "dynamodb")


def table(name: str) -> Any:
    return dynamodb().Table(name)


def reset(*, keep_session: bool = False) -> None:
    """Forget every client (tests, or after the environment changed). With
    ``keep_session`` the session and its parsed service models are kept; its credentials
    and region are still the ones it resolved first."""
    _made.cache_clear()
    if not keep_session:
        session.cache_clear()
