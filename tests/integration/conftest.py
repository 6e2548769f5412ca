"""Fixtures for the integration suite: real MQTT clients against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.emulator_process import EmulatorProcess
from tests.support.mqtt_client import ChatClient, new_client_id


@pytest.fixture
def connect(emulator: EmulatorProcess) -> Iterator[Any]:
    """Open chat clients that are closed after the test."""
    opened: list[ChatClient] = []
    authorizer = emulator.config()["authorizer"]

    def _connect(name: str, room: str | None = None, *, join: bool = True) -> ChatClient:
        token = emulator.guest_token(name)
        client = ChatClient(
            "127.0.0.1",
            emulator.mqtt_port,
            token["token"],
            authorizer,
            new_client_id(token["clientIdPrefix"]),
        )
        assert client.connect() == "Success"
        opened.append(client)
        if room is not None:
            client.subscribe(f"chat/in/{client.client_id}", f"chat/pub/{room}")
            if join:
                client.publish("chat/out", {"type": "join", "room": room, "name": name})
                client.wait_for(lambda t, b: b.get("type") == "backlog")
        return client

    yield _connect
    for client in opened:
        client.close()
