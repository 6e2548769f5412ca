"""stream: the high-throughput path; commands go to Kinesis and the chat function
reads them in batches (event source mapping). Present only when EnableStream is true.

Partition key ``${room}`` keeps one room's commands in order on one shard.
"""

from chatlib import contract
from iot_rules.spec import Kinesis, Rule

RULE = Rule(
    name="stream",
    description="Commands on <root>/stream -> Kinesis stream, stamped by the rule",
    # S608: IoT SQL built from the contract's constants, not from input.
    sql=(
        "SELECT *, newuuid() AS id, timestamp() AS ts, principal() AS sender, "  # noqa: S608
        f"clientid() AS clientId FROM '{contract.topic('stream', '{root}')}'"
    ),
    actions=(Kinesis(stream="ChatStream", partition_key="${room}"),),
    condition="StreamEnabled",
)
