"""Kinesis event source mappings: poll streams in moto and invoke Lambda functions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from emulator.kinesis.config import MappingConfig, mapping_config, mappings_from_template
from emulator.kinesis.events import failure_record, first_failed_index, kinesis_record
from emulator.kinesis.mapping import ClientFactory, Invoke, KinesisEventSourceMapping

__all__ = [
    "EventSourceMappings",
    "KinesisEventSourceMapping",
    "MappingConfig",
    "failure_record",
    "first_failed_index",
    "kinesis_record",
    "mapping_config",
    "mappings_from_template",
]


class EventSourceMappings:
    """Every mapping of a template, started and stopped together."""

    def __init__(
        self,
        configs: Iterable[MappingConfig],
        client: ClientFactory,
        invoke: Invoke,
        **options: Any,
    ) -> None:
        self.mappings = [KinesisEventSourceMapping(c, client, invoke, **options) for c in configs]

    async def start(self) -> None:
        """Start polling every stream."""
        await asyncio.gather(*(m.start() for m in self.mappings))

    async def close(self) -> None:
        """Stop every poller."""
        await asyncio.gather(*(m.close() for m in self.mappings))
