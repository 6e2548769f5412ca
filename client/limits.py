"""Input limits checked before anything is sent, read from the chat's contract.

The rules drop a bad message silently, so the client says why up front instead of
waiting for an echo. The limits and character classes are those of
lambdas/chatlib/contract.json, the file the functions and the rules' SQL are built from
(the client reads it in place; tests/contract/cases.json runs against this module too).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from client.errors import ClientError

CONTRACT_PATH = Path(__file__).resolve().parents[1] / "lambdas" / "chatlib" / "contract.json"
CONTRACT: dict[str, Any] = json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))

ROOM_MAX: int = CONTRACT["room"]["max"]
ROOM_PATTERN = f"^[{CONTRACT['room']['chars']}]{{1,{ROOM_MAX}}}$"
NAME_MAX: int = CONTRACT["name"]["max"]
TEXT_MAX: int = CONTRACT["text"]["max"]
SEQ_MAX: int = CONTRACT["seq"]["max"]

_ROOM_RE = re.compile(ROOM_PATTERN)
_NAME_NOT_BLANK = re.compile(f"[^{CONTRACT['name']['blank']}]")
_NAME_FORBIDDEN = re.compile(f"[{CONTRACT['name']['forbidden']}]")
_TEXT_NOT_BLANK = re.compile(f"[^{CONTRACT['text']['blank']}]")
_TEXT_FORBIDDEN = re.compile(f"[{CONTRACT['text']['forbidden']}]")


def topic(kind: str, root: str, **values: str) -> str:
    """A topic of the contract: ``topic("room", "chat", room="lobby")`` is chat/pub/lobby."""
    return str(CONTRACT["topics"][kind]).format(root=root, **values)


def check_room(room: str) -> str:
    """Return the room name, or raise if the rules would refuse it."""
    if not _ROOM_RE.fullmatch(room):
        raise ClientError(
            f"bad room name {room!r}: use 1-{ROOM_MAX} letters, digits, '_' or '-' ({ROOM_PATTERN})"
        )
    return room


def check_name(name: str) -> str:
    """Return the display name, or raise if it is blank, too long or has control characters."""
    if not _NAME_NOT_BLANK.search(name) or len(name) > NAME_MAX:
        raise ClientError(
            f"bad name: it must be 1-{NAME_MAX} characters, not only spaces (got {len(name)})"
        )
    if _NAME_FORBIDDEN.search(name):
        raise ClientError("bad name: it must not contain control characters")
    return name


def check_text(text: str) -> str:
    """Return the message text, or raise if it is blank, over the limit or not Unicode."""
    if not _TEXT_NOT_BLANK.search(text):
        raise ClientError("empty message: nothing to send")
    if len(text) > TEXT_MAX:
        raise ClientError(f"message too long: {len(text)} characters, the limit is {TEXT_MAX}")
    if _TEXT_FORBIDDEN.search(text):
        raise ClientError("message is not valid Unicode (a lone surrogate)")
    return text
