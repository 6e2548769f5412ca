"""lifecycle: connect/disconnect events go to the presence function.

Lifecycle topics are account-wide (``$aws/events/...``), not under TopicRoot, so with
several stacks in one account and region every stack's presence function sees every
client's events. Nothing in a client id or principal is stack-specific (the client id
is ``<principalId>-*``), so no WHERE clause could tell them apart; the rule forwards
everything, and the presence function acts only on clients its own connections table
knows (joined through this stack), ignoring the rest.
"""

from iot_rules.spec import Lambda, Rule

RULE = Rule(
    name="lifecycle",
    description="IoT lifecycle events (connect/disconnect) -> presence function",
    sql="SELECT * FROM '$aws/events/presence/+/+'",
    actions=(Lambda(function="PresenceFunction"),),
)
