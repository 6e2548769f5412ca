"""What the emulator keeps between runs: the template's tables, its secrets (the token
signing key, so open pages keep their tokens) and the stream records no consumer has
finished, in a folder (``make run`` uses ``.local-state/`` in the checkout).

moto keeps everything in memory, so the emulator writes it out when it stops and puts it
back when it starts, before any function runs:

    <dir>/tables/<table name>.jsonl     one item a line, in DynamoDB's JSON
    <dir>/secrets.json                  secret name -> SecretString (file mode 0600)
    <dir>/streams/<stream name>.jsonl   the records after each shard's checkpoint, in order

Items whose TTL has passed are not put back (DynamoDB would have deleted them). Stream
records are put back in their shard order once the event source mappings are reading,
so they are delivered again: at least once, as Lambda retries a batch. A resource the
template no longer declares is skipped with a warning. Only a clean stop saves: a killed
emulator keeps what the previous stop wrote.
"""

from __future__ import annotations

import base64
import json
import logging
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from emulator.template import Resource, Template

log = logging.getLogger("emulator.state")

ClientFactory = Callable[[str], Any]
# stream name -> shard id -> sequence number of the last record its consumer finished
Checkpoints = Mapping[str, Mapping[str, str]]
BATCH = 25  # BatchWriteItem's most items per call


class LocalState:
    """Saves and restores one template's state in ``directory``."""

    def __init__(self, directory: Path, template: Template, client: ClientFactory) -> None:
        self.directory = directory
        self.template = template
        self.client = client

    @property
    def exists(self) -> bool:
        return (self.directory / "secrets.json").is_file()

    def clear(self) -> None:
        """Forget everything kept (``make run FRESH=1``)."""
        shutil.rmtree(self.directory, ignore_errors=True)

    # -- restore ----------------------------------------------------------------------

    def restore(self) -> dict[str, int]:
        """Put tables and secrets back; what was restored, counted by kind."""
        counts = {"items": 0, "secrets": 0}
        if not self.exists:
            return counts
        for table in self._tables():
            counts["items"] += self._restore_table(table)
        secrets = json.loads((self.directory / "secrets.json").read_text(encoding="utf-8"))
        manager = self.client("secretsmanager")
        for secret in self.template.resources(type="AWS::SecretsManager::Secret"):
            value = secrets.get(secret.physical_id)
            if value is not None:
                manager.put_secret_value(SecretId=secret.physical_id, SecretString=value)
                counts["secrets"] += 1
        return counts

    def _restore_table(self, table: Resource) -> int:
        path = self.directory / "tables" / f"{table.physical_id}.jsonl"
        if not path.is_file():
            return 0
        ttl = table.properties.get("TimeToLiveSpecification") or {}
        ttl_attribute = (
            ttl.get("AttributeName") if str(ttl.get("Enabled")).lower() == "true" else None
        )
        now = time.time()
        items = [
            item
            for item in _lines(path)
            if not ttl_attribute or not _expired(item.get(ttl_attribute), now)
        ]
        dynamodb = self.client("dynamodb")
        for start in range(0, len(items), BATCH):
            requests = [{"PutRequest": {"Item": i}} for i in items[start : start + BATCH]]
            pending: dict[str, Any] = {table.physical_id: requests}
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending).get(
                    "UnprocessedItems", {}
                )
        return len(items)

    def restore_streams(self) -> int:
        """Put the unfinished stream records back, in order; call it once the mappings
        have taken their iterators (a LATEST iterator would miss them otherwise)."""
        kinesis, restored = self.client("kinesis"), 0
        for stream in self.template.resources(type="AWS::Kinesis::Stream"):
            path = self.directory / "streams" / f"{stream.physical_id}.jsonl"
            if not path.is_file():
                continue
            for record in _lines(path):
                kinesis.put_record(
                    StreamName=stream.physical_id,
                    PartitionKey=record["PartitionKey"],
                    Data=base64.b64decode(record["Data"]),
                )
                restored += 1
        return restored

    # -- save -------------------------------------------------------------------------

    def save(self, checkpoints: Checkpoints) -> dict[str, int]:
        """Write tables, secrets and unfinished stream records; counts by kind."""
        staging = self.directory.with_name(self.directory.name + ".saving")
        shutil.rmtree(staging, ignore_errors=True)
        counts = {"items": 0, "secrets": 0, "records": 0}
        dynamodb = self.client("dynamodb")
        for table in self._tables():
            counts["items"] += _write_lines(
                staging / "tables" / f"{table.physical_id}.jsonl", _scan(dynamodb, table)
            )
        manager = self.client("secretsmanager")
        secrets = {
            s.physical_id: manager.get_secret_value(SecretId=s.physical_id)["SecretString"]
            for s in self.template.resources(type="AWS::SecretsManager::Secret")
        }
        counts["secrets"] = len(secrets)
        path = staging / "secrets.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(secrets, indent=1), encoding="utf-8")
        kinesis = self.client("kinesis")
        for stream in self.template.resources(type="AWS::Kinesis::Stream"):
            done = checkpoints.get(stream.physical_id, {})
            counts["records"] += _write_lines(
                staging / "streams" / f"{stream.physical_id}.jsonl",
                _unfinished(kinesis, stream.physical_id, done),
            )
        # Replace the previous state only once the new one is whole.
        shutil.rmtree(self.directory, ignore_errors=True)
        staging.rename(self.directory)
        return counts

    def _tables(self) -> Iterator[Resource]:
        return self.template.resources(type="AWS::DynamoDB::Table")


def _expired(value: Any, now: float) -> bool:
    """A TTL attribute (DynamoDB JSON number, epoch seconds) in the past."""
    try:
        return float(value["N"]) < now
    except (TypeError, KeyError, ValueError):
        return False


def _scan(dynamodb: Any, table: Resource) -> Iterator[dict[str, Any]]:
    for page in dynamodb.get_paginator("scan").paginate(TableName=table.physical_id):
        yield from page["Items"]


def _unfinished(kinesis: Any, stream: str, done: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """Records after each shard's checkpoint (all of a shard without one), shard by shard."""
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        shard_id = shard["ShardId"]
        after = int(done[shard_id]) if shard_id in done else -1
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            for record in page["Records"]:
                if int(record["SequenceNumber"]) > after:
                    yield {
                        "PartitionKey": record["PartitionKey"],
                        "Data": base64.b64encode(record["Data"]).decode("ascii"),
                    }
            if not page["Records"]:
                break  # caught up (an open shard always hands out a next iterator)
            iterator = page.get("NextShardIterator")


def _write_lines(path: Path, rows: Iterator[dict[str, Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as rows:
        for line in rows:
            if line.strip():
                yield json.loads(line)
