"""The people table: who has used the chat, and who belongs to which private room.

Items (partition key ``pk``, sort key ``sk``)::

    pk = "user#<principal>", sk = "profile"        name, seenAt (ms), expiresAt (TTL)
    pk = "user#<principal>", sk = "room#<roomId>"  title, owner: one membership
    pk = "room#<roomId>",    sk = "meta"           title, owner

A principal exists for direct messages once it has joined a room (its profile). Its
memberships are one Query on its own partition, which is what the authorizer reads to
put its private rooms in its IoT policy, and what the chat function checks before it
lets a message or a typing signal into a private room.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from chatlib import aws, config, contract

PROFILE = "profile"


def _table() -> Any:
    return aws.table(config.people_table())


def _user(principal: str) -> str:
    return f"user#{principal}"


def _room(room: str) -> str:
    return f"room#{room}"


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def record_user(principal: str, name: str, now_ms: int) -> None:
    """Create or refresh the principal's profile (on every join)."""
    expires = now_ms // 1000 + config.message_retention_days() * 86400
    _table().update_item(
        Key={"pk": _user(principal), "sk": PROFILE},
        UpdateExpression="SET #n = :n, seenAt = :t, expiresAt = :e",
        ExpressionAttributeNames={"#n": "name"},
        ExpressionAttributeValues={":n": name, ":t": now_ms, ":e": expires},
    )


def profile_name(principal: str) -> str | None:
    """The principal's last display name, or None when it has never joined a room."""
    item = _table().get_item(Key={"pk": _user(principal), "sk": PROFILE}).get("Item")
    return str(item["name"]) if item and "name" in item else None


def memberships(principal: str) -> list[str]:
    """The private rooms the principal belongs to (one Query, as the authorizer does)."""
    rooms: list[str] = []
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(_user(principal)) & Key("sk").begins_with("room#"),
        "ProjectionExpression": "sk",
    }
    while True:
        result = _table().query(**kwargs)
        rooms.extend(str(item["sk"])[len("room#") :] for item in result.get("Items", []))
        if not result.get("LastEvaluatedKey"):
            return rooms
        kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]


def is_member(principal: str, room: str) -> bool:
    key = {"pk": _user(principal), "sk": _room(room)}
    return "Item" in _table().get_item(Key=key, ProjectionExpression="pk")


@dataclass(frozen=True)
class Room:
    id: str
    title: str
    owner: str


def new_room_id() -> str:
    return contract.PRIVATE_PREFIX + secrets.token_hex(contract.PRIVATE_HEX_DIGITS // 2)


def room(room_id: str) -> Room | None:
    item = _table().get_item(Key={"pk": _room(room_id), "sk": "meta"}).get("Item")
    if not item:
        return None
    return Room(room_id, str(item.get("title", "")), str(item.get("owner", "")))


def create_room(owner: str, title: str) -> Room:
    """A new private room owned by ``owner``, who is its first member."""
    created = Room(new_room_id(), title, owner)
    _table().put_item(
        Item={"pk": _room(created.id), "sk": "meta", "title": title, "owner": owner},
        ConditionExpression="attribute_not_exists(pk)",
    )
    add_member(created, owner)
    return created


def add_member(target: Room, principal: str) -> bool:
    """Make ``principal`` a member; False when it already was one."""
    try:
        _table().put_item(
            Item={
                "pk": _user(principal),
                "sk": _room(target.id),
                "title": target.title,
                "owner": target.owner,
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as exc:
        if _conditional_failed(exc):
            return False
        raise
    return True


def remove_member(room_id: str, principal: str) -> bool:
    """End a membership; False when there was none."""
    result = _table().delete_item(
        Key={"pk": _user(principal), "sk": _room(room_id)}, ReturnValues="ALL_OLD"
    )
    return bool(result.get("Attributes"))
