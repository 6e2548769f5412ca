"""republish: a valid chat message goes straight to its room, with no function on the path.

The WHERE clause is the only validation a message gets before every browser in the room
sees it, so it is built from chatlib.limits, the same numbers the functions check.

How the checks hold in AWS IoT SQL: a missing field is Undefined and a comparison with
Undefined is false. length() converts its argument to a string first (length(12) is 2),
so isString() is what keeps numbers, booleans and arrays out. regexp_matches is
anchored by the pattern itself (^...$). length() counts characters, not bytes.
"""

from chatlib.limits import NAME_MAX, ROOM_PATTERN, TEXT_MAX
from iot_rules.spec import RepublishAction, Rule, sql_string


def _length_between(field: str, low: int, high: int) -> str:
    """A string of ``low``..``high`` characters (false for a number, array or object)."""
    return f"isString({field}) AND length({field}) >= {low} AND length({field}) <= {high}"


VALIDATION = " AND ".join(
    [
        "isString(room)",
        f"regexp_matches(room, {sql_string(ROOM_PATTERN)})",
        _length_between("name", 1, NAME_MAX),
        _length_between("text", 1, TEXT_MAX),
    ]
)

RULE = Rule(
    name="republish",
    description="Valid chat messages on <root>/out -> <root>/pub/<room>, stamped by the rule",
    # S608: IoT SQL built from constants (chatlib.limits), not from input.
    sql=(
        "SELECT type, room, name, text, newuuid() AS id, timestamp() AS ts, "  # noqa: S608
        "principal() AS sender, clientid() AS clientId "
        f"FROM '{{root}}/out' WHERE type = 'message' AND {VALIDATION}"
    ),
    actions=(RepublishAction(topic="{root}/pub/${room}", qos=1),),
)
