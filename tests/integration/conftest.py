"""Fixtures for the integration suite: real MQTT clients against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from emulator.testing import EmulatorProcess
from tests.support.chat import chat_client
from tests.support.mqtt_client import ChatClient


@pytest.fixture
def connect(emulator: EmulatorProcess) -> Iterator[Any]:
    """Open chat clients that are closed after the test."""
    opened: list[ChatClient] = []

    def _connect(name: str, room: str | None = None, *, join: bool = True) -> ChatClient:
        token = emulator.guest_token(name)
        client = chat_client(emulator, token["token"], token["clientIdPrefix"], room)
        opened.append(client)
        if room is not None and join:
            client.publish("chat/out", {"type": "join", "room": room, "name": name})
            client.wait_for(lambda t, b: b.get("type") == "backlog")
        return client

    yield _connect
    for client in opened:
        client.close()
