"""route: every command that needs the database or a membership check goes to the chat
function.

join, history, leave, DMs, edits, deletes and private-room commands need a table and a
reply, so a function handles them; public messages and public typing signals take the
serverless paths (republish + store, typing).
"""

from chatlib import contract
from iot_rules.spec import Lambda, Rule

# True only for "private": true. A bare ``private = true`` is Undefined when the field is
# absent, and Undefined would make the whole WHERE Undefined (false), so it is a CASE.
IS_PRIVATE = "CASE isUndefined(private) WHEN true THEN false ELSE private = true END"

RULE = Rule(
    name="route",
    description="Commands other than public messages and typing on <root>/out -> chat function",
    # S608: IoT SQL built from the contract's constants, not from input.
    sql=(
        "SELECT *, clientid() AS clientId, principal() AS sender, timestamp() AS ts "  # noqa: S608
        f"FROM '{contract.topic('out', '{root}')}' "
        f"WHERE (type <> 'message' AND type <> 'typing') OR ({IS_PRIVATE})"
    ),
    actions=(Lambda(function="ChatFunction"),),
)
