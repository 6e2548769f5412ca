"""emulator.state: what one run saves is what the next run starts with."""

from __future__ import annotations

from pathlib import Path

from emulator.aws import AwsServices
from emulator.state import LocalState
from emulator.template import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "chat.json"


def message(n: int, expires: int) -> dict:
    return {
        "room": {"S": "lobby"},
        "sk": {"S": f"17000000000{n:02d}#1000000000#id{n}"},
        "text": {"S": f"kept {n}"},
        "expiresAt": {"N": str(expires)},
    }


def test_tables_secrets_and_unread_stream_records_survive_a_restart(tmp_path: Path) -> None:
    template = load_template(TEMPLATE)
    state_dir = tmp_path / "state"
    with AwsServices() as aws:
        aws.provision(template)
        state = LocalState(state_dir, template, aws.client)
        dynamodb, kinesis = aws.client("dynamodb"), aws.client("kinesis")
        for n in range(30):
            dynamodb.put_item(TableName="local-messages", Item=message(n, 4_000_000_000))
        dynamodb.put_item(TableName="local-messages", Item=message(99, 1_000))  # TTL passed
        key = aws.client("secretsmanager").get_secret_value(SecretId="local/token-signing-key")[
            "SecretString"
        ]
        sequences = [
            kinesis.put_record(StreamName="local-ChatStream", PartitionKey="lobby", Data=data)
            for data in (b"read", b"unread 1", b"unread 2")
        ]
        done = {"local-ChatStream": {sequences[0]["ShardId"]: sequences[0]["SequenceNumber"]}}
        saved = state.save(done)
        assert saved == {"items": 31, "secrets": 1, "records": 2}
        assert oct((state_dir / "secrets.json").stat().st_mode)[-3:] == "600"

    with AwsServices() as aws:  # a new moto: empty until restored
        aws.provision(template)
        state = LocalState(state_dir, template, aws.client)
        assert state.restore() == {"items": 30, "secrets": 1}
        items = aws.client("dynamodb").scan(TableName="local-messages")["Items"]
        assert sorted(i["text"]["S"] for i in items) == sorted(f"kept {n}" for n in range(30))
        value = aws.client("secretsmanager").get_secret_value(SecretId="local/token-signing-key")
        assert value["SecretString"] == key
        assert state.restore_streams() == 2
        kinesis = aws.client("kinesis")
        records = []
        for shard in kinesis.list_shards(StreamName="local-ChatStream")["Shards"]:
            iterator = kinesis.get_shard_iterator(
                StreamName="local-ChatStream",
                ShardId=shard["ShardId"],
                ShardIteratorType="TRIM_HORIZON",
            )["ShardIterator"]
            records += kinesis.get_records(ShardIterator=iterator)["Records"]
        assert [r["Data"] for r in records] == [b"unread 1", b"unread 2"]


def test_nothing_saved_means_nothing_restored_and_fresh_forgets(tmp_path: Path) -> None:
    template = load_template(TEMPLATE)
    with AwsServices() as aws:
        aws.provision(template)
        state = LocalState(tmp_path / "state", template, aws.client)
        assert state.restore() == {"items": 0, "secrets": 0}
        state.save({})
        assert state.exists
        state.clear()
        assert not state.exists and not (tmp_path / "state").exists()
