"""Small helpers for tests that check the chat's behaviour through the emulator."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from emulator.testing import EmulatorProcess
from tests.support.mqtt_client import ChatClient, new_client_id


def unique_room() -> str:
    return f"room-{uuid.uuid4().hex[:10]}"


def is_message(text: str) -> Callable[[str, Any], bool]:
    return lambda topic, body: body.get("type") == "message" and body.get("text") == text


def stored_messages(emulator: EmulatorProcess, room: str) -> list[dict[str, Any]]:
    ddb = emulator.aws_client("dynamodb")
    items = ddb.query(
        TableName="local-messages",
        KeyConditionExpression="room = :r",
        ExpressionAttributeValues={":r": {"S": room}},
    )["Items"]
    return [{k: next(iter(v.values())) for k, v in item.items()} for item in items]


def wait_stored(emulator: EmulatorProcess, room: str, count: int, timeout: float = 10) -> list:
    deadline = time.monotonic() + timeout
    while True:
        items = stored_messages(emulator, room)
        if len(items) >= count or time.monotonic() > deadline:
            return items
        time.sleep(0.1)


def signing_key(emulator: EmulatorProcess) -> str:
    """The HS256 key the template's secret was generated with (read from moto)."""
    secrets = emulator.aws_client("secretsmanager")
    return secrets.get_secret_value(SecretId="local/token-signing-key")["SecretString"]


def guest_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    sub = uuid.uuid4().hex
    claims = {"iss": "local/guest", "aud": "local/iot", "sub": sub, "name": "Mallory"}
    claims |= {"iat": now, "nbf": now, "exp": now + 600}
    return claims | overrides


def roster(client: ChatClient) -> list[str]:
    """Names in the newest roster the client received, by when it was read (as the page
    does): rosters come from two functions, so arrival order is not enough."""
    presences = [b for _, b in client.matching(lambda t, b: b.get("type") == "presence")]
    if not presences:
        return []
    newest = max(presences, key=lambda b: b["at"])
    return sorted(m["name"] for m in newest["members"])


def wait_roster(client: ChatClient, names: list[str], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while roster(client) != sorted(names):
        if time.monotonic() > deadline:
            raise AssertionError(f"roster {roster(client)} != {sorted(names)}")
        time.sleep(0.05)


def chat_client(
    emulator: EmulatorProcess, token: str, prefix: str, room: str | None = None
) -> ChatClient:
    """A client connected over TCP with ``token``, subscribed to its replies and ``room``."""
    client = ChatClient(
        "127.0.0.1",
        emulator.mqtt_port,
        token,
        emulator.config()["authorizer"],
        new_client_id(prefix),
    )
    assert client.connect() == "Success"
    if room is not None:
        client.subscribe(f"chat/in/{client.client_id}", f"chat/pub/{room}")
    return client
