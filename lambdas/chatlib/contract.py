"""The chat's contract, read from contract.json: topic names, input limits, reply sizes.

contract.json is the one place these are written. The functions read them here; the
topic rules' SQL (iot_rules/) and the template (stack/) are generated from them; the
Python client reads the same file and the web client a module generated from it
(build_template.py). The character classes are regex class bodies that Java (AWS IoT
SQL), Python and JavaScript read alike, so the rule's SQL and the functions refuse
exactly the same inputs (tests/contract/cases.json runs one table against every reader).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

PATH = Path(__file__).with_name("contract.json")
CONTRACT: dict[str, Any] = json.loads(PATH.read_text(encoding="utf-8"))

_TOPICS: dict[str, str] = CONTRACT["topics"]
TOPIC_ROOT_PATTERN: str = _TOPICS["rootPattern"]
DEFAULT_TOPIC_ROOT: str = _TOPICS["defaultRoot"]

ROOM_CHARS: str = CONTRACT["room"]["chars"]
ROOM_MAX: int = CONTRACT["room"]["max"]
# Matched whole (fullmatch): a trailing newline never passes, unlike search() with "$".
ROOM_PATTERN = f"^[{ROOM_CHARS}]{{1,{ROOM_MAX}}}$"

NAME_MAX: int = CONTRACT["name"]["max"]
NAME_FORBIDDEN: str = CONTRACT["name"]["forbidden"]
NAME_BLANK: str = CONTRACT["name"]["blank"]

TEXT_MAX: int = CONTRACT["text"]["max"]
TEXT_FORBIDDEN: str = CONTRACT["text"]["forbidden"]
TEXT_BLANK: str = CONTRACT["text"]["blank"]

SEQ_MAX: int = CONTRACT["seq"]["max"]
# seq + SEQ_OFFSET always has the same number of digits, so it sorts as a string.
SEQ_OFFSET = 10 ** len(str(SEQ_MAX))
TS_MAX: int = CONTRACT["ts"]["max"]

BACKLOG_SIZE: int = CONTRACT["replies"]["backlogMessages"]
HISTORY_PAGE_SIZE: int = CONTRACT["replies"]["historyMessages"]
REPLY_MAX_BYTES: int = CONTRACT["replies"]["maxBytes"]

PRIVATE_PREFIX: str = CONTRACT["privateRoom"]["prefix"]
PRIVATE_HEX_DIGITS: int = CONTRACT["privateRoom"]["randomHexDigits"]
PRIVATE_ROOM_PATTERN = f"^{PRIVATE_PREFIX}[0-9a-f]{{{PRIVATE_HEX_DIGITS}}}$"
PRIVATE_TITLE_MAX: int = CONTRACT["privateRoom"]["titleMax"]
PRIVATE_MEMBERS_MAX: int = CONTRACT["privateRoom"]["membersMax"]
TYPING_EVERY_SECONDS: int = CONTRACT["typing"]["everySeconds"]

TOPIC_KINDS = ("out", "stream", "room", "inbox", "user", "private")


def topic(kind: str, root: str, *, room: str = "", client_id: str = "", principal: str = "") -> str:
    """A topic name (``kind`` is out, stream, room, inbox, user or private) from its
    contract template.

    Generators pass placeholders through: ``topic("room", "{root}", room="+")`` is the
    rules' ``{root}/pub/+``.
    """
    if kind not in TOPIC_KINDS:
        raise KeyError(f"no topic {kind!r} in the contract")
    return _TOPICS[kind].format(root=root, room=room, clientId=client_id, principal=principal)


def _class(body: str) -> re.Pattern[str]:
    return re.compile(f"[{body}]")


ROOM_RE = re.compile(ROOM_PATTERN)
PRIVATE_ROOM_RE = re.compile(PRIVATE_ROOM_PATTERN)
NAME_FORBIDDEN_RE = _class(NAME_FORBIDDEN)
NAME_NOT_BLANK_RE = _class("^" + NAME_BLANK)
TEXT_FORBIDDEN_RE = _class(TEXT_FORBIDDEN)
TEXT_NOT_BLANK_RE = _class("^" + TEXT_BLANK)
