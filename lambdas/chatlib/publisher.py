"""Publishing to the chat's topics through the IoT data plane (boto3 ``iot-data``)."""

from __future__ import annotations

import json
from typing import Any

from chatlib import aws, config, contract


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def room_topic(room: str) -> str:
    return contract.topic("room", config.topic_root(), room=room)


def client_topic(client_id: str) -> str:
    return contract.topic("inbox", config.topic_root(), client_id=client_id)


def publish(topic: str, payload: dict[str, Any]) -> None:
    aws.client("iot-data").publish(topic=topic, qos=1, payload=encode(payload))


def to_room(room: str, payload: dict[str, Any]) -> None:
    publish(room_topic(room), payload)


def to_client(client_id: str, payload: dict[str, Any]) -> None:
    publish(client_topic(client_id), payload)


def error_reply(message: str, code: str = "bad_request") -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message}
