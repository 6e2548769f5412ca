"""republish: a valid chat message or typing signal goes straight to its room, with no
function on the path.

A typing signal (``{"type": "typing", "room", "name"}``) takes the same rule, so that
it costs no extra rule evaluation on every command: it is checked for its room and name
only, stamped with ``ts`` and ``sender`` and nothing else (the CASEs leave a message's
fields out of it), and the store rule never writes it (it keeps ``type = 'message'``
only). Clients send one at most every few seconds (contract ``typing.everySeconds``);
pages hide it after ``typing.showSeconds`` without another. A private room's typing
goes through the route rule to the chat function, which checks membership first.

The WHERE clause is the only validation a message gets before every browser in the room
sees it, so it is generated from chatlib.contract, the same classes and numbers the
functions check, and refuses exactly what they refuse (tests/contract/cases.json).

How the checks hold in AWS IoT SQL (Java regexes): a missing field is Undefined and a
comparison with Undefined is false; isString() keeps numbers, booleans and arrays out
(length() and the regex functions would convert them to strings). No pattern ends in
``$``: Java's ``$`` also matches before a final line terminator, so a room "lobby\\n"
would pass ``^...$``. Instead each check looks for what is refused anywhere in the
value (a character outside the room alphabet, a control character), and lengths are
counted by ``(?s)^.{N}``, code points as Python counts them (Java's length() counts
UTF-16 units, so an emoji would count twice).

``seq`` (optional, the sender's counter) becomes 0 when absent, so every room message
carries one and the store rule's sort key can use it.
"""

from chatlib import contract
from iot_rules.route import IS_PRIVATE
from iot_rules.spec import Republish, Rule, sql_string


def _regexp(field: str, pattern: str) -> str:
    return f"regexp_matches({field}, {sql_string(pattern)})"


def _at_most(field: str, count: int) -> str:
    """At most ``count`` characters (code points)."""
    return f"NOT {_regexp(field, f'(?s)^.{{{count + 1}}}')}"


def _none_of(field: str, chars: str) -> str:
    """No character of the class body ``chars`` anywhere in the value."""
    return f"NOT {_regexp(field, f'[{chars}]')}"


ROOM_AND_NAME = [
    "isString(room)",
    "room <> ''",
    _at_most("room", contract.ROOM_MAX),
    _none_of("room", f"^{contract.ROOM_CHARS}"),
    "isString(name)",
    _regexp("name", f"[^{contract.NAME_BLANK}]"),  # not empty, not only spaces
    _at_most("name", contract.NAME_MAX),
    _none_of("name", contract.NAME_FORBIDDEN),
]

TEXT_AND_SEQ = " AND ".join(
    [
        "isString(text)",
        _regexp("text", f"[^{contract.TEXT_BLANK}]"),  # not empty, not only white space
        _at_most("text", contract.TEXT_MAX),
        _none_of("text", contract.TEXT_FORBIDDEN),
        # Not "isUndefined(seq) OR ...": an operand that is Undefined (seq >= 0 on a
        # missing seq) makes AND and OR Undefined too, so the absent case is a CASE.
        "CASE isUndefined(seq) WHEN true THEN true ELSE (isNumber(seq) AND seq >= 0 "
        f"AND seq <= {contract.SEQ_MAX} AND floor(seq) = seq) END",
    ]
)

# A message needs a good text and seq; a typing signal carries neither.
VALIDATION = " AND ".join(
    [
        *ROOM_AND_NAME,
        f"(CASE type WHEN 'message' THEN ({TEXT_AND_SEQ}) WHEN 'typing' THEN true ELSE false END)",
    ]
)


def _message_only(expression: str, alias: str) -> str:
    """A field of messages only: Undefined for a typing signal, so left out of it."""
    return f"CASE type WHEN 'message' THEN {expression} END AS {alias}"


RULE = Rule(
    name="republish",
    description="Valid public messages and typing on <root>/out -> <root>/pub/<room>, stamped",
    # S608: IoT SQL built from the contract's constants, not from input.
    sql=(
        "SELECT type, room, name, "  # noqa: S608
        f"{_message_only('text', 'text')}, "
        f"{_message_only('CASE isUndefined(seq) WHEN true THEN 0 ELSE seq END', 'seq')}, "
        f"{_message_only('newuuid()', 'id')}, "
        "timestamp() AS ts, principal() AS sender, "
        f"{_message_only('clientid()', 'clientId')} "
        f"FROM '{contract.topic('out', '{root}')}' WHERE (type = 'message' OR type = 'typing') "
        f"AND NOT ({IS_PRIVATE}) AND {VALIDATION}"
    ),
    actions=(Republish(topic=contract.topic("room", "{root}", room="${room}"), qos=1),),
)
