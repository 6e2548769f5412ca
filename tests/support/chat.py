"""Small helpers for tests that check the chat's behaviour through the emulator."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from tests.support.emulator_process import EmulatorProcess


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
