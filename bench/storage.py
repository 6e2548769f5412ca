"""The third loss check: which of a run's messages ended up in the messages table.

Two ways to read it back: the chat function's own `history` command (pages of 50
through chat/out -> Lambda -> chat/in/<clientId>, so it works against any site), or,
when the DynamoDB endpoint is known, a direct Query per room.
"""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterable
from typing import Any

from bench.targets import EmulatorTarget
from client.session import ChatSession


def _seq_of(message: dict[str, Any], run_id: str) -> int | None:
    try:
        inner = json.loads(message["text"])
        return int(inner["seq"]) if inner.get("run") == run_id else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _history_pages(session: ChatSession, room: str, max_pages: int, timeout: float):
    """Yield each page's messages, newest page first, following the cursor back."""
    cursor: str | None = None
    for _ in range(max_pages):
        session.history(room, cursor).result(timeout)
        deadline = time.monotonic() + timeout
        reply: dict[str, Any] | None = None
        while reply is None and (left := deadline - time.monotonic()) > 0:
            try:
                item = session.inbox.get(timeout=left)
            except queue.Empty:
                break
            body = item.payload or {}
            if body.get("type") == "history" and body.get("room") == room:
                reply = body
            elif body.get("type") == "error":
                raise RuntimeError(f"history refused: {body}")
        if reply is None:
            raise TimeoutError(f"no history page for {room} within {timeout:g}s")
        yield reply.get("messages") or []
        cursor = reply.get("cursor")
        if not cursor:
            return


def read_via_history(
    target: EmulatorTarget, rooms: Iterable[str], run_id: str, expected: int, timeout: float
) -> list[int]:
    """Every stored seq of the run, read through the chat function's history command."""
    session = target.open(10_000, sink=None)
    seqs: list[int] = []
    try:
        max_pages = expected // 25 + 10
        for room in rooms:
            for page in _history_pages(session, room, max_pages, timeout):
                seqs += [s for m in page if (s := _seq_of(m, run_id)) is not None]
    finally:
        session.close()
    return seqs


def read_via_dynamodb(endpoint: str, rooms: Iterable[str], run_id: str) -> list[int]:
    """Every stored seq of the run, by a Query per room on the table keyed room/sk."""
    import boto3
    from boto3.dynamodb.conditions import Key

    resource = boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (moto accepts any key)
    )
    table = None
    for candidate in resource.tables.all():
        keys = {k["AttributeName"]: k["KeyType"] for k in candidate.key_schema}
        if keys == {"room": "HASH", "sk": "RANGE"}:
            table = candidate
            break
    if table is None:
        raise RuntimeError(f"no table keyed room/sk at {endpoint}")
    seqs: list[int] = []
    for room in rooms:
        kwargs: dict[str, Any] = {"KeyConditionExpression": Key("room").eq(room)}
        for _ in range(10_000):
            page = table.query(**kwargs)
            seqs += [s for m in page["Items"] if (s := _seq_of(m, run_id)) is not None]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return seqs


def check_storage(
    target: EmulatorTarget,
    rooms: list[str],
    run_id: str,
    acked: list[bool | None],
    dynamodb_endpoint: str | None,
    wait: float = 15.0,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """Compare stored seqs with acknowledged sends; re-read until complete or `wait` passes."""
    wanted = {seq for seq, ok in enumerate(acked) if ok}
    method = "dynamodb" if dynamodb_endpoint else "history"
    deadline = time.monotonic() + wait
    while True:
        if dynamodb_endpoint:
            seqs = read_via_dynamodb(dynamodb_endpoint, rooms, run_id)
        else:
            seqs = read_via_history(target, rooms, run_id, len(acked), timeout)
        unique = set(seqs)
        if wanted <= unique or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    return {
        "method": method,
        "stored": len(unique),
        "duplicates": len(seqs) - len(unique),
        "missing": len(wanted - unique),
    }
