"""Event source mappings read from the template (AWS::Lambda::EventSourceMapping)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from emulator.template import Resource, Template

log = logging.getLogger("emulator.kinesis")


@dataclass(frozen=True)
class MappingConfig:
    """One Kinesis-to-Lambda mapping with the options the emulator honours."""

    function: str
    stream_arn: str
    batch_size: int = 100
    batching_window: float = 0.0
    starting_position: str = "LATEST"
    starting_timestamp: float | None = None
    report_batch_item_failures: bool = False
    bisect_on_error: bool = False
    max_retries: int = -1
    max_record_age: float = -1
    on_failure_arn: str | None = None
    invoke_identity_arn: str = ""
    region: str = "us-east-1"
    logical_id: str = ""
    uuid: str = ""
    function_arn: str = ""

    @property
    def stream_name(self) -> str:
        """The stream name from arn:aws:kinesis:R:A:stream/NAME."""
        return self.stream_arn.split(":stream/", 1)[-1]


def _flag(value: object) -> bool:
    return value is True or str(value).lower() == "true"


def mapping_config(
    resource: Resource, template: Template, starting_position: str | None = None
) -> MappingConfig:
    """MappingConfig of one resource; the function's role becomes invokeIdentityArn."""
    props = resource.properties
    function = str(props["FunctionName"])
    target = template.find(function, type="AWS::Lambda::Function")
    role = str(target.properties.get("Role", "")) if target else ""
    destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    timestamp = props.get("StartingPositionTimestamp")
    return MappingConfig(
        function=target.physical_id if target else function,
        stream_arn=str(props["EventSourceArn"]),
        batch_size=int(props.get("BatchSize", 100)),
        batching_window=float(props.get("MaximumBatchingWindowInSeconds", 0)),
        starting_position=starting_position or str(props.get("StartingPosition", "LATEST")),
        starting_timestamp=float(timestamp) if timestamp is not None else None,
        report_batch_item_failures="ReportBatchItemFailures"
        in (props.get("FunctionResponseTypes") or []),
        bisect_on_error=_flag(props.get("BisectBatchOnFunctionError", False)),
        max_retries=int(props.get("MaximumRetryAttempts", -1)),
        max_record_age=float(props.get("MaximumRecordAgeInSeconds", -1)),
        on_failure_arn=str(destination) if destination else None,
        invoke_identity_arn=role,
        region=template.region,
        logical_id=resource.logical_id,
        uuid=resource.physical_id,
        function_arn=(target.arn or "") if target else function,
    )


def mappings_from_template(
    template: Template, starting_position: str | None = None
) -> list[MappingConfig]:
    """Enabled Kinesis mappings; other sources (SQS, DynamoDB streams) are logged, skipped."""
    configs = []
    for resource in template.resources(type="AWS::Lambda::EventSourceMapping"):
        source = str(resource.properties.get("EventSourceArn", ""))
        if not _flag(resource.properties.get("Enabled", True)):
            log.info("mapping %s is disabled", resource.logical_id)
        elif ":kinesis:" not in source:
            log.warning("mapping %s: source %s is not emulated", resource.logical_id, source)
        else:
            configs.append(mapping_config(resource, template, starting_position))
    return configs
