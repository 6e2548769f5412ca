"""How room traffic and replies look in a terminal (the `chat` command's output)."""

from __future__ import annotations

import time
from typing import Any

from client.session import Incoming


def _clock(ts: Any) -> str:
    try:
        return time.strftime("%H:%M:%S", time.localtime(int(ts) / 1000))
    except (TypeError, ValueError, OverflowError):
        return "--:--:--"


def message_line(msg: dict[str, Any]) -> str:
    return f"[{_clock(msg.get('ts'))}] {msg.get('name', '?')}: {msg.get('text', '')}"


def render(item: Incoming) -> list[str]:
    """The lines to print for one delivery (none for things a person need not see)."""
    body = item.payload
    if item.topic == "$client/interrupted":
        return [f"! connection lost ({body and body.get('error')}); reconnecting..."]
    if item.topic == "$client/resumed":
        rooms = (body or {}).get("rooms") or []
        return ["! reconnected" + (f", rejoined {', '.join(rooms)}" if rooms else "")]
    if item.topic == "$client/failed":
        return []  # the command ends with it, as its one error line
    if body is None:
        return [f"? non-JSON message on {item.topic}"]
    kind = body.get("type")
    if kind == "message":
        return [message_line(body)]
    if kind == "presence":
        names = ", ".join(str(m.get("name", "?")) for m in body.get("members") or [])
        more = body.get("more")
        if isinstance(more, int) and not isinstance(more, bool) and more > 0:
            names += f" and {more} more"
        return [f"* in {body.get('room')}: {names or 'nobody'}"]
    if kind in ("backlog", "history"):
        msgs = body.get("messages") or []
        lines = [f"--- {kind}: {len(msgs)} earlier message(s) ---"]
        lines += [message_line(m) for m in msgs if isinstance(m, dict)]
        return [*lines, "--- live ---"] if kind == "backlog" else lines
    if kind == "error":
        return [f"! {body.get('code', 'error')}: {body.get('message', '')}"]
    return []
