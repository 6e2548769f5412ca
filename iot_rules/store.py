"""store: every message republished to a room is written to the messages table.

Sort key ``sk`` = ``<ts>#<id>``: ``ts`` is epoch milliseconds, which has 13 digits from
2001-09-09 to 2286-11-20, so cast(ts AS String) is already the 13-digit zero-padded
form and sorts like the number; ``id`` (newuuid) keeps two messages of the same
millisecond apart. ``expiresAt`` (epoch seconds) drives the table's TTL.
"""

from iot_rules.spec import DynamoDBv2Action, Rule

RULE = Rule(
    name="store",
    description="Messages on <root>/pub/+ -> messages table (with sort key and TTL)",
    sql=(
        "SELECT *, concat(cast(ts AS String), '#', id) AS sk, "
        "floor(ts / 1000) + {retention_days} * 86400 AS expiresAt "
        "FROM '{root}/pub/+' WHERE type = 'message'"
    ),
    actions=(DynamoDBv2Action(table="MessagesTable"),),
)
