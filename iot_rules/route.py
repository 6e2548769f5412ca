"""route: every command except chat messages goes to the chat function.

join, history and leave need the database and a reply on the client's own topic, so a
function handles them; messages take the serverless path (republish + store).
"""

from chatlib import contract
from iot_rules.spec import LambdaAction, Rule

RULE = Rule(
    name="route",
    description="Commands other than messages on <root>/out -> chat function",
    # S608: IoT SQL built from the contract's constants, not from input.
    sql=(
        "SELECT *, clientid() AS clientId, principal() AS sender, timestamp() AS ts "  # noqa: S608
        f"FROM '{contract.topic('out', '{root}')}' WHERE type <> 'message'"
    ),
    actions=(LambdaAction(function="ChatFunction"),),
)
