"""The connections table and room rosters.

One item per MQTT client id (partition key ``clientId``; GSI ``room-index`` on ``room``)::

    clientId, sender, name, room, roomChangedAt (ms of the last join/leave),
    connectedAt, disconnectedAt (ms), version, status ("connected" | "disconnected"),
    sessionId, expiresAt (TTL, epoch seconds)

Two writers share an item and never overwrite each other's attributes:

* ``presence`` (lifecycle events) owns ``version``, ``status``, ``connectedAt``,
  ``disconnectedAt`` and ``sessionId``. ``version`` is ``versionNumber * 10**13 +
  timestamp`` so that a newer versionNumber always wins and the event timestamp breaks
  ties. AWS sets versionNumber back to 0 once a client id has been offline for a while,
  so an event stamped more than ``NEWER_BY_TIME_MS`` after every lifecycle event stored
  is newer whatever its versionNumber (the versionNumber orders events close in time).
  A connect applies only if it is newer than what is stored; a disconnect applies
  only if it is newer *and* no join came after it; a disconnect leaves a tombstone
  (status, version, disconnectedAt, no room) rather than deleting the item, so a connect
  delivered after its own disconnect cannot resurrect the client.
* ``chat`` (join/leave commands) owns ``room``, ``name`` and ``roomChangedAt``; a join
  applies only if it is stamped after the last room change, the last disconnect and the
  current connection's connect (a join stamped earlier belongs to an older session); a
  leave only if it is stamped after the last room change. So a late command cannot undo
  a newer one, nor put a gone client back into a room.

Joins and lifecycle events are compared by their IoT timestamps (the rule's
``timestamp()`` and the event's ``timestamp``), both taken by IoT Core.

Every write is one conditional UpdateItem; a failed condition means "stale or
duplicate" and is not an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from chatlib import aws, config, publisher

ROOM_INDEX = "room-index"
CONNECTION_TTL_SECONDS = 2 * 86400  # longer than the longest connection (24 h)
TOMBSTONE_TTL_SECONDS = 86400  # how long a disconnect guards against late events
VERSION_TS_FACTOR = 10**13
# An event this much later than every stored lifecycle event is newer, whatever its
# versionNumber: far more than IoT Core's clocks disagree by, far less than the hour or so
# offline after which AWS starts a client id's versionNumber again from 0.
NEWER_BY_TIME_MS = 60_000
# The condition that an event (``:v`` its version, ``:before`` its timestamp minus
# NEWER_BY_TIME_MS) is newer than the stored lifecycle state.
NEWER_EVENT = (
    "(attribute_not_exists(#version) OR #version < :v OR ("
    "(attribute_not_exists(#connectedAt) OR #connectedAt < :before) AND "
    "(attribute_not_exists(#disconnectedAt) OR #disconnectedAt < :before)))"
)
CONNECTED = "connected"
DISCONNECTED = "disconnected"


def lifecycle_version(version_number: int, timestamp_ms: int) -> int:
    """A single number ordering lifecycle events: versionNumber first, then timestamp."""
    return version_number * VERSION_TS_FACTOR + timestamp_ms


def _expires(ts_ms: int, ttl_seconds: int) -> int:
    return ts_ms // 1000 + ttl_seconds


def _table() -> Any:
    return aws.table(config.connections_table())


def _names(*attributes: str) -> dict[str, str]:
    return {f"#{a}": a for a in attributes}


def _conditional_update(**kwargs: Any) -> dict[str, Any] | None:
    """UpdateItem; the returned attributes, or None when the condition failed."""
    try:
        result = _table().update_item(**kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return None
        raise
    return result.get("Attributes", {})


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# -- lifecycle (presence function) ----------------------------------------------------


def record_connect(
    client_id: str, sender: str | None, version: int, ts_ms: int, session_id: str | None
) -> str | None:
    """Record a connect event. Returns the room of an *older* session that this connect
    supersedes (it has been cleared and its roster needs publishing), else None."""
    values: dict[str, Any] = {
        ":v": version,
        ":connected": CONNECTED,
        ":ts": ts_ms,
        ":exp": _expires(ts_ms, CONNECTION_TTL_SECONDS),
        ":sid": session_id or "",
        ":before": ts_ms - NEWER_BY_TIME_MS,
    }
    set_parts = [
        "#version = :v",
        "#status = :connected",
        "#connectedAt = :ts",
        "#sessionId = :sid",
        "#expiresAt = :exp",
    ]
    names = _names("version", "status", "connectedAt", "disconnectedAt", "sessionId", "expiresAt")
    if sender:
        # The join's sender (principal() in the rule) wins if it came first.
        set_parts.append("#sender = if_not_exists(#sender, :sender)")
        values[":sender"] = sender
        names["#sender"] = "sender"
    item = _conditional_update(
        Key={"clientId": client_id},
        UpdateExpression="SET " + ", ".join(set_parts),
        ConditionExpression=NEWER_EVENT,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
        ReturnValues="ALL_NEW",
    )
    if item is None:
        return None
    room = _str_or_none(item.get("room"))
    changed = item.get("roomChangedAt")
    if room is None or changed is None or int(changed) >= ts_ms:
        return None
    # The room was joined before this connection existed: it belongs to a session this
    # connect replaced (whose disconnect is stale or lost). Clear it, unless a join
    # changed it in the meantime.
    cleared = _conditional_update(
        Key={"clientId": client_id},
        UpdateExpression="REMOVE #room",
        ConditionExpression="#room = :room AND #roomChangedAt = :changed",
        ExpressionAttributeNames=_names("room", "roomChangedAt"),
        ExpressionAttributeValues={":room": room, ":changed": changed},
        ReturnValues="ALL_OLD",
    )
    return room if cleared is not None else None


def record_disconnect(client_id: str, version: int, ts_ms: int) -> str | None:
    """Record a disconnect event. Returns the room the client was in (now left), if any."""
    old = _conditional_update(
        Key={"clientId": client_id},
        UpdateExpression=(
            "SET #version = :v, #status = :disconnected, #disconnectedAt = :ts, "
            "#expiresAt = :exp REMOVE #room"
        ),
        # Stamped before the current connection's connect: an older connection's.
        ConditionExpression=(
            f"{NEWER_EVENT} AND "
            "(attribute_not_exists(#roomChangedAt) OR #roomChangedAt <= :ts) AND "
            "(attribute_not_exists(#connectedAt) OR #connectedAt <= :ts)"
        ),
        ExpressionAttributeNames=_names(
            "version",
            "status",
            "connectedAt",
            "disconnectedAt",
            "expiresAt",
            "room",
            "roomChangedAt",
        ),
        ExpressionAttributeValues={
            ":v": version,
            ":disconnected": DISCONNECTED,
            ":ts": ts_ms,
            ":before": ts_ms - NEWER_BY_TIME_MS,
            ":exp": _expires(ts_ms, TOMBSTONE_TTL_SECONDS),
        },
        ReturnValues="ALL_OLD",
    )
    if old is None:
        return None
    return _str_or_none(old.get("room"))


# -- rooms (chat function) ------------------------------------------------------------


@dataclass(frozen=True)
class JoinResult:
    applied: bool  # False: a newer join/leave or a later disconnect already happened
    previous_room: str | None  # the room the client was in before, if any


def join(client_id: str, sender: str, room: str, name: str, ts_ms: int) -> JoinResult:
    old = _conditional_update(
        Key={"clientId": client_id},
        UpdateExpression=(
            "SET #room = :room, #name = :name, #sender = :sender, #roomChangedAt = :ts, "
            "#expiresAt = :exp"
        ),
        ConditionExpression=(
            "(attribute_not_exists(#roomChangedAt) OR #roomChangedAt <= :ts) AND "
            "(attribute_not_exists(#disconnectedAt) OR #disconnectedAt < :ts) AND "
            "(attribute_not_exists(#connectedAt) OR #connectedAt <= :ts)"
        ),
        ExpressionAttributeNames=_names(
            "room",
            "name",
            "sender",
            "roomChangedAt",
            "expiresAt",
            "disconnectedAt",
            "connectedAt",
        ),
        ExpressionAttributeValues={
            ":room": room,
            ":name": name,
            ":sender": sender,
            ":ts": ts_ms,
            ":exp": _expires(ts_ms, CONNECTION_TTL_SECONDS),
        },
        ReturnValues="ALL_OLD",
    )
    if old is None:
        return JoinResult(applied=False, previous_room=None)
    return JoinResult(applied=True, previous_room=_str_or_none(old.get("room")))


def leave(client_id: str, room: str, ts_ms: int) -> bool:
    """Take the client out of ``room``; False if it was not in it (or the leave is stale)."""
    old = _conditional_update(
        Key={"clientId": client_id},
        UpdateExpression="SET #roomChangedAt = :ts REMOVE #room",
        ConditionExpression="#room = :room AND #roomChangedAt <= :ts",
        ExpressionAttributeNames=_names("room", "roomChangedAt"),
        ExpressionAttributeValues={":room": room, ":ts": ts_ms},
        ReturnValues="ALL_OLD",
    )
    return old is not None


# -- rosters --------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    client_id: str
    name: str
    sender: str


def _members_in(room: str) -> dict[str, Member]:
    table = _table()
    kwargs: dict[str, Any] = {
        "IndexName": ROOM_INDEX,
        "KeyConditionExpression": Key("room").eq(room),
    }
    found: dict[str, Member] = {}
    while True:
        result = table.query(**kwargs)
        for item in result.get("Items", []):
            if item.get("status") == DISCONNECTED or item.get("room") != room:
                continue
            name = item.get("name")
            if not isinstance(name, str) or not name:
                continue
            sender = item.get("sender")
            found[str(item["clientId"])] = Member(
                client_id=str(item["clientId"]),
                name=name,
                sender=sender if isinstance(sender, str) else "",
            )
        last = result.get("LastEvaluatedKey")
        if not last:
            return found
        kwargs["ExclusiveStartKey"] = last


def roster(
    room: str, *, include: Member | None = None, exclude_client: str | None = None
) -> list[dict[str, str]]:
    """The room's members as ``[{"name", "sender"}]``, one entry per distinct pair,
    sorted by name.

    The GSI is eventually consistent, so the caller passes the change it just made:
    ``include`` (a member that just joined) or ``exclude_client`` (one that just left).
    """
    members = _members_in(room)
    if exclude_client is not None:
        members.pop(exclude_client, None)
    if include is not None:
        members[include.client_id] = include
    pairs = {(m.name, m.sender) for m in members.values()}
    return [
        {"name": name, "sender": sender}
        for name, sender in sorted(pairs, key=lambda p: (p[0].casefold(), p[0], p[1]))
    ]


def presence_payload(room: str, members: list[dict[str, str]], at_ms: int) -> dict[str, Any]:
    """The roster message. Two functions publish rosters (chat on join and leave,
    presence on disconnect), so a roster read earlier can arrive later: ``at`` is when it
    was read, and clients keep the roster with the newest ``at``.

    It holds as many members (by name) as fit in one publish; ``more`` counts those left
    out (a room of about 2,000 members with 40-character names reaches AWS's 128 KB)."""
    payload: dict[str, Any] = {"type": "presence", "room": room, "members": [], "at": at_ms}
    count = publisher.fitting(members, {**payload, "more": len(members)})
    payload["members"] = members[:count]
    if count < len(members):
        payload["more"] = len(members) - count
    return payload


def clients_of(principal: str) -> list[str]:
    """The client ids of the principal's connections not known to be gone (the
    ``sender-index``), to close them when its policy must change."""
    ids: list[str] = []
    kwargs: dict[str, Any] = {
        "IndexName": "sender-index",
        "KeyConditionExpression": Key("sender").eq(principal),
    }
    while True:
        result = _table().query(**kwargs)
        ids.extend(
            str(item["clientId"])
            for item in result.get("Items", [])
            if item.get("status") != DISCONNECTED
        )
        if not result.get("LastEvaluatedKey"):
            return ids
        kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]
