"""Publishing to the chat's topics through the IoT data plane (boto3 ``iot-data``)."""

from __future__ import annotations

import json
from typing import Any

from chatlib import aws, config, contract


def encode(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def fitting(items: list[Any], envelope: dict[str, Any]) -> int:
    """How many of ``items`` (from the first) fit in one publish: ``envelope`` holds
    them as a JSON list in its only empty list, and the whole stays within AWS IoT's
    128 KB payload (contract.REPLY_MAX_BYTES). Always at least one, if there is one:
    no single message or member comes near the limit, and a page must make progress."""
    used = len(encode(envelope))
    for count, item in enumerate(items):
        used += len(encode(item)) + (1 if count else 0)  # the comma before it
        if used > contract.REPLY_MAX_BYTES and count:
            return count
    return len(items)


def room_topic(room: str) -> str:
    return contract.topic("room", config.topic_root(), room=room)


def client_topic(client_id: str) -> str:
    return contract.topic("inbox", config.topic_root(), client_id=client_id)


def user_topic(principal: str) -> str:
    return contract.topic("user", config.topic_root(), principal=principal)


def private_topic(room: str) -> str:
    return contract.topic("private", config.topic_root(), room=room)


def publish(topic: str, payload: dict[str, Any]) -> None:
    aws.client("iot-data").publish(topic=topic, qos=1, payload=encode(payload))


def to_room(room: str, payload: dict[str, Any]) -> None:
    publish(room_topic(room), payload)


def to_client(client_id: str, payload: dict[str, Any]) -> None:
    publish(client_topic(client_id), payload)


def to_user(principal: str, payload: dict[str, Any]) -> None:
    """Every connection of the principal (its user topic)."""
    publish(user_topic(principal), payload)


def to_any_room(room: str, private: bool, payload: dict[str, Any]) -> None:
    publish(private_topic(room) if private else room_topic(room), payload)


def disconnect(client_id: str) -> bool:
    """Close a client's connection (IoT data plane DeleteConnection), so that it
    reconnects and the authorizer gives it a new policy. False when it was not connected."""
    iot = aws.client("iot-data")
    try:
        iot.delete_connection(clientId=client_id, cleanSession=False, preventWillMessage=False)
    except iot.exceptions.ResourceNotFoundException:
        return False
    return True


def error_reply(message: str, code: str = "bad_request") -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message}
