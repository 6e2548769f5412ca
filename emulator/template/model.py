"""The loaded template: parameters, conditions, resources and outputs, resolved lazily.

Resolution is lazy and memoised so resources may reference each other in any order;
a reference cycle or a reference to a resource whose Condition is false fails with a
message naming it, as CloudFormation's validation would.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.template import naming
from emulator.template.coverage import ignored_report
from emulator.template.document import read_template
from emulator.template.errors import TemplateError
from emulator.template.intrinsics import NO_VALUE, Resolver, as_text
from emulator.template.parameters import resolve_parameters

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_STACK_NAME = "local"

# What the emulator does with each type; anything else is reported as skipped.
EMULATED_TYPES: dict[str, str] = {
    "AWS::DynamoDB::Table": "moto",
    "AWS::Kinesis::Stream": "moto",
    "AWS::SecretsManager::Secret": "moto",
    "AWS::SQS::Queue": "moto",
    "AWS::Logs::LogGroup": "moto",
    "AWS::SNS::Topic": "moto",
    "AWS::StepFunctions::StateMachine": "moto (executions recorded, not run)",
    "AWS::S3::Bucket": "moto, empty",
    "AWS::KinesisFirehose::DeliveryStream": "moto, S3 destinations",
    "AWS::Lambda::Function": "worker processes",
    "AWS::Lambda::EventSourceMapping": "Kinesis poller",
    "AWS::Lambda::Url": "HTTP endpoint",
    "AWS::Lambda::LayerVersion": "packages from the virtualenv",
    "AWS::Lambda::Permission": "resource-based policy",
    "AWS::IAM::Role": "moto IAM",
    "AWS::IoT::TopicRule": "rules engine",
    "AWS::IoT::Authorizer": "broker custom auth",
    "AWS::IoT::DomainConfiguration": "default authorizer",
    "AWS::Lambda::EventInvokeConfig": "asynchronous invocation retries",
}


@dataclass(frozen=True)
class Resource:
    """One resource with its properties resolved and its local identity."""

    logical_id: str
    type: str
    properties: dict[str, Any]
    metadata: dict[str, Any]
    physical_id: str
    arn: str | None
    ref: str
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourceType:
    """One line of the startup report: a type, its resources, emulated or skipped."""

    type: str
    logical_ids: tuple[str, ...]
    emulated: bool
    how: str


@dataclass
class Template:
    """A CloudFormation template bound to parameters, a stack name, region and account."""

    raw: dict[str, Any]
    parameters: dict[str, Any]
    placeholders: list[str]
    stack_name: str = DEFAULT_STACK_NAME
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    path: Path | None = None
    attribute_overrides: dict[str, Any] = field(default_factory=dict)
    _conditions: dict[str, bool] = field(default_factory=dict, repr=False)
    _identities: dict[str, naming.Identity] = field(default_factory=dict, repr=False)
    _resources: dict[str, Resource] = field(default_factory=dict, repr=False)
    _in_progress: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        self._resolver = Resolver(self)
        for name in self.raw.get("Conditions", {}):
            self.condition(name)

    # -- Scope protocol -------------------------------------------------------
    @property
    def partition(self) -> str:
        """aws, aws-cn or aws-us-gov, from the region."""
        if self.region.startswith("cn-"):
            return "aws-cn"
        return "aws-us-gov" if self.region.startswith("us-gov-") else "aws"

    def _pseudo(self, name: str) -> Any:
        suffix = "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"
        stack_uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"stack/{self.stack_name}")
        values: dict[str, Any] = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:{self.partition}:cloudformation:{self.region}:"
            f"{self.account_id}:stack/{self.stack_name}/{stack_uuid}",
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": suffix,
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        if name not in values:
            raise TemplateError(f"unknown pseudo parameter {name}")
        return values[name]

    def ref(self, name: str) -> Any:
        """Ref: a parameter, a pseudo parameter or a resource."""
        if name.startswith("AWS::"):
            return self._pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        override = self.attribute_overrides.get(f"{name}.Ref")
        return override if override is not None else self._ref_resource(name)

    def _ref_resource(self, logical_id: str) -> str:
        identity = self._identity(logical_id)
        return naming.ref_of(identity, naming.arn_of(identity))

    def get_att(self, logical_id: str, attribute: str) -> Any:
        """Fn::GetAtt, with integrator overrides such as a local function URL."""
        override = self.attribute_overrides.get(f"{logical_id}.{attribute}")
        if override is not None:
            return override
        identity = self._identity(logical_id)
        strict = identity.type in EMULATED_TYPES
        return naming.get_att(identity, naming.arn_of(identity), attribute, strict=strict)

    def condition(self, name: str) -> bool:
        """A named condition, evaluated once."""
        if name in self._conditions:
            return self._conditions[name]
        declared = self.raw.get("Conditions", {})
        if name not in declared:
            raise TemplateError(f"unknown condition {name}")
        key = f"Condition:{name}"
        if key in self._in_progress:
            raise TemplateError(f"condition {name} refers to itself")
        self._in_progress.add(key)
        try:
            self._conditions[name] = self._resolver.evaluate_condition(declared[name])
        finally:
            self._in_progress.discard(key)
        return self._conditions[name]

    def find_in_map(self, name: str, top: str, second: str) -> Any:
        """Fn::FindInMap over the Mappings section."""
        try:
            return self.raw.get("Mappings", {})[name][top][second]
        except KeyError:
            raise TemplateError(f"Fn::FindInMap: no {name}/{top}/{second} in Mappings") from None

    # -- resources --------------------------------------------------------------
    def _declared(self, logical_id: str) -> dict[str, Any]:
        declared = self.raw.get("Resources", {}).get(logical_id)
        if declared is None:
            raise TemplateError(f"unknown resource or parameter {logical_id}")
        if not self._included(declared):
            raise TemplateError(
                f"{logical_id} is not created (condition {declared['Condition']} is false) "
                "but something references it; wrap the reference in Fn::If"
            )
        return declared

    def _included(self, declared: Mapping[str, Any]) -> bool:
        condition = declared.get("Condition")
        return condition is None or self.condition(condition)

    def _identity(self, logical_id: str) -> naming.Identity:
        if logical_id in self._identities:
            return self._identities[logical_id]
        declared = self._declared(logical_id)
        if logical_id in self._in_progress:
            raise TemplateError(f"reference cycle through {logical_id}")
        self._in_progress.add(logical_id)
        try:
            identity = self._make_identity(logical_id, declared)
        finally:
            self._in_progress.discard(logical_id)
        self._identities[logical_id] = identity
        return identity

    def _make_identity(self, logical_id: str, declared: Mapping[str, Any]) -> naming.Identity:
        resource_type = str(declared.get("Type", ""))
        properties = declared.get("Properties", {}) or {}
        candidates = [naming.NAME_PROPERTIES.get(resource_type)]
        if resource_type not in naming.NAMELESS_TYPES:
            candidates += naming.GENERIC_NAME_PROPERTIES
        name: str | None = None
        for prop in candidates:
            if prop and prop in properties:
                value = self._resolver.resolve(properties[prop])
                if value is not NO_VALUE and value not in (None, ""):
                    name = as_text(value)
                    break
        if name is None:
            name = naming.generated_name(self.stack_name, logical_id, resource_type)
        extra: dict[str, Any] = {}
        if resource_type == "AWS::Lambda::Url" and "TargetFunctionArn" in properties:
            extra["TargetFunctionArn"] = self._resolver.resolve(properties["TargetFunctionArn"])
        return naming.Identity(
            logical_id=logical_id,
            type=resource_type,
            name=name,
            region=self.region,
            account_id=self.account_id,
            partition=self.partition,
            properties=extra,
        )

    def resource(self, logical_id: str) -> Resource:
        """One resource, resolved; fails if it is unknown or its condition is false."""
        if logical_id not in self._resources:
            declared = self._declared(logical_id)
            identity = self._identity(logical_id)
            arn = naming.arn_of(identity)
            depends = declared.get("DependsOn", [])
            self._resources[logical_id] = Resource(
                logical_id=logical_id,
                type=identity.type,
                properties=self._resolver.resolve(declared.get("Properties", {}) or {}),
                metadata=self._resolver.resolve(declared.get("Metadata", {}) or {}),
                physical_id=identity.name,
                arn=arn,
                ref=self._ref_resource(logical_id),
                depends_on=tuple([depends] if isinstance(depends, str) else depends),
            )
        return self._resources[logical_id]

    def resources(self, type: str | None = None) -> Iterator[Resource]:
        """Resources whose Condition holds, in template order, optionally of one type."""
        for logical_id, declared in self.raw.get("Resources", {}).items():
            if type is not None and declared.get("Type") != type:
                continue
            if self._included(declared):
                yield self.resource(logical_id)

    def find(self, name_or_arn: str, type: str | None = None) -> Resource | None:
        """A resource by logical id, physical id, Ref value or ARN (qualifier ignored)."""
        for resource in self.resources(type):
            keys = {resource.logical_id, resource.physical_id, resource.ref, resource.arn}
            if name_or_arn in keys:
                return resource
            if resource.arn and name_or_arn.startswith(resource.arn + ":"):
                return resource
        return None

    @property
    def outputs(self) -> dict[str, Any]:
        """Outputs whose Condition holds, with their values resolved."""
        result: dict[str, Any] = {}
        for name, output in self.raw.get("Outputs", {}).items():
            if self._included(output):
                result[name] = self._resolver.resolve(output.get("Value"))
        return result

    def resolve(self, value: Any) -> Any:
        """Resolve an arbitrary expression in this template's scope."""
        return self._resolver.resolve(value)

    @property
    def conditions(self) -> dict[str, bool]:
        """Every declared condition and its value."""
        return dict(self._conditions)

    @property
    def directory(self) -> Path:
        """The template's folder (the current directory for inline templates)."""
        return self.path.parent if self.path else Path.cwd()

    def resource_types(self) -> list[ResourceType]:
        """Every type present (condition true), with whether the emulator emulates it."""
        by_type: dict[str, list[str]] = {}
        for logical_id, declared in self.raw.get("Resources", {}).items():
            if self._included(declared):
                by_type.setdefault(str(declared.get("Type")), []).append(logical_id)
        return [
            ResourceType(
                type=t,
                logical_ids=tuple(ids),
                emulated=t in EMULATED_TYPES,
                how=EMULATED_TYPES.get(t, "skipped"),
            )
            for t, ids in sorted(by_type.items())
        ]

    def report(self, how: Mapping[str, str] | None = None) -> str:
        """The 'emulated / skipped' lines printed at startup; ``how`` overrides by type."""
        lines = []
        for entry in self.resource_types():
            status = "emulated" if entry.emulated else "skipped "
            detail = (how or {}).get(entry.type, entry.how)
            lines.append(
                f"  {status} {entry.type:<36} {len(entry.logical_ids):>2}  ({detail}) "
                f"{', '.join(entry.logical_ids)}"
            )
        included = {
            logical_id: declared
            for logical_id, declared in self.raw.get("Resources", {}).items()
            if self._included(declared)
        }
        ignored = ignored_report(included)
        if ignored:
            lines.append(f"  ignored properties: {', '.join(ignored)}")
        if self.placeholders:
            lines.append(f"  placeholder parameters: {', '.join(self.placeholders)}")
        return "\n".join(lines)


def template_from_dict(
    raw: Mapping[str, Any],
    parameters: Mapping[str, Any] | None = None,
    stack_name: str = DEFAULT_STACK_NAME,
    region: str = DEFAULT_REGION,
    account_id: str = DEFAULT_ACCOUNT_ID,
    *,
    path: Path | None = None,
    attribute_overrides: Mapping[str, Any] | None = None,
) -> Template:
    """Bind an already parsed template (tests use inline dicts)."""
    if not isinstance(raw.get("Resources"), dict):
        raise TemplateError("the template has no Resources section")
    resolved = resolve_parameters(raw.get("Parameters", {}), parameters)
    return Template(
        raw=dict(raw),
        parameters=resolved.values,
        placeholders=resolved.placeholders,
        stack_name=stack_name,
        region=region,
        account_id=account_id,
        path=path,
        attribute_overrides=dict(attribute_overrides or {}),
    )


def load_template(
    path: str | Path,
    parameters: Mapping[str, Any] | None = None,
    stack_name: str = DEFAULT_STACK_NAME,
    region: str = DEFAULT_REGION,
    account_id: str = DEFAULT_ACCOUNT_ID,
    *,
    attribute_overrides: Mapping[str, Any] | None = None,
) -> Template:
    """Read a JSON template from disk (emulator.template.document) and bind it
    (see `template_from_dict`)."""
    document = read_template(path)
    return template_from_dict(
        document.data,
        parameters,
        stack_name,
        region,
        account_id,
        path=document.path,
        attribute_overrides=attribute_overrides,
    )
