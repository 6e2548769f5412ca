"""store: every message on a room topic is written to the messages table.

The rule is the only writer of messages: the republish rule's output and the chat
function's stream messages both reach it through ``<root>/pub/<room>``.

Sort key ``sk`` = ``<ts>#<seq>#<id>``, compared as a string:

- ``ts`` is the rules engine's timestamp() in epoch milliseconds, which has 13 digits from
  2001-09-09 to 2286-11-20, so cast(ts AS String) is already the fixed-width form and
  sorts like the number;
- ``seq`` is the sender's own counter (0..999,999,999), written as ``seq + 10^9`` so it
  always has 10 digits: one client's messages of the same millisecond sort in the order
  it sent them (a burst of 120 fits in one millisecond);
- ``id`` (newuuid) keeps two clients' messages of the same millisecond and seq apart.

``expiresAt`` (epoch seconds) drives the table's TTL.
"""

from chatlib import contract
from iot_rules.spec import DynamoDBv2, Rule

RULE = Rule(
    name="store",
    description="Messages on <root>/pub/+ -> messages table (with sort key and TTL)",
    sql=(
        "SELECT *, concat(cast(ts AS String), '#', "  # noqa: S608 - constants only
        f"cast(floor(seq) + {contract.SEQ_OFFSET} AS String), '#', id) AS sk, "
        "floor(ts / 1000) + {retention_days} * 86400 AS expiresAt "
        f"FROM '{contract.topic('room', '{root}', room='+')}' WHERE type = 'message'"
    ),
    actions=(DynamoDBv2(table="MessagesTable"),),
)
