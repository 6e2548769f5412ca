"""Fixtures for the rules layer: a moto server on loopback and a recording ActionTarget."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from emulator.rules import BotoClients


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server (all services) on 127.0.0.1, port chosen by the OS."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def boto_clients(moto_endpoint: str) -> BotoClients:
    """Clients against a freshly reset moto."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    return BotoClients(moto_endpoint)


@dataclass
class RecordingTarget:
    """A test double for the side-effect boundary: records, can fail or be slow."""

    clients: BotoClients | None = None
    published: list[tuple[str, bytes, int]] = field(default_factory=list)
    invoked: list[tuple[str, Any]] = field(default_factory=list)
    acted_as: list[tuple[str, str | None, str]] = field(default_factory=list)  # what, role, rule
    fail_lambda: str | None = None
    fail_republish: str | None = None
    delay: float = 0.0
    gate: asyncio.Event | None = None  # when set here, actions wait for it to open
    started: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: int = 0
    peak_in_flight: int = 0

    async def _act(self) -> None:
        self.started.set()
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1

    async def republish(
        self, topic: str, payload: bytes, qos: int, role_arn: str | None = None, rule_name: str = ""
    ) -> None:
        self.acted_as.append(("republish", role_arn, rule_name))
        await self._act()
        if self.fail_republish:
            raise RuntimeError(self.fail_republish)
        self.published.append((topic, payload, qos))

    async def invoke_lambda(self, function_arn: str, event: Any, rule_name: str = "") -> None:
        self.acted_as.append(("lambda", None, rule_name))
        await self._act()
        if self.fail_lambda:
            raise RuntimeError(self.fail_lambda)
        self.invoked.append((function_arn, event))

    def aws_client(self, service: str, role_arn: str | None = None, rule_name: str = "") -> Any:
        self.acted_as.append((service, role_arn, rule_name))
        if self.clients is None:
            raise RuntimeError("no AWS clients in this test")
        return self.clients(service)

    async def authorize(
        self, role_arn: str | None, rule_name: str, action: str, resource: str, service: str
    ) -> None:
        self.acted_as.append((action.partition(":")[0], role_arn, rule_name))

    def own_client(self, service: str) -> Any:
        if self.clients is None:
            raise RuntimeError("no AWS clients in this test")
        return self.clients(service)


@pytest.fixture
def target() -> RecordingTarget:
    return RecordingTarget()
