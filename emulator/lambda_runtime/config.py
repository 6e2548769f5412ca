"""What the runtime needs to know about one function, read from the template.

Code location comes from the function's Metadata.Build.Source (the same folder the
deploy tool zips), so the emulator runs exactly the code a deploy would ship.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.template import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, Resource, Template, TemplateError

DEFAULT_MAX_CONCURRENCY = 4


@dataclass(frozen=True)
class FunctionConfig:
    """One function: handler, code folder, environment, limits and identity."""

    name: str
    handler: str
    source_dir: Path
    environment: dict[str, str] = field(default_factory=dict)
    timeout: float = 3.0
    memory_size: int = 128
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    logical_id: str = ""
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    role_arn: str = ""
    runtime: str = "python3.12"
    log_group_name: str = ""

    @property
    def arn(self) -> str:
        """Unqualified function ARN."""
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.name}"

    @property
    def log_group(self) -> str:
        """The function's log group, /aws/lambda/<name> unless LoggingConfig says else."""
        return self.log_group_name or f"/aws/lambda/{self.name}"


def _as_env(variables: dict[str, Any]) -> dict[str, str]:
    return {
        k: ("true" if v is True else "false" if v is False else str(v))
        for k, v in variables.items()
    }


def find_source_dir(source: str, template: Template, root: Path | None) -> Path:
    """Metadata.Build.Source relative to the given root, the template folder or its parents."""
    candidates = [Path(source)] if Path(source).is_absolute() else []
    bases = [root] if root else []
    bases += [template.directory, *template.directory.parents, Path.cwd()]
    candidates += [base / source for base in bases if base is not None]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    raise TemplateError(
        f"Metadata.Build.Source {source!r} not found (looked in "
        f"{', '.join(str(c) for c in candidates[:3])}, ...)"
    )


def function_config(
    resource: Resource,
    template: Template,
    root: Path | None = None,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
) -> FunctionConfig:
    """FunctionConfig of one AWS::Lambda::Function resource."""
    props = resource.properties
    source = (resource.metadata.get("Build") or {}).get("Source")
    if not source:
        raise TemplateError(
            f"{resource.logical_id}: no Metadata.Build.Source, the emulator cannot find its code"
        )
    if "Handler" not in props:
        raise TemplateError(f"{resource.logical_id}: no Handler")
    reserved = props.get("ReservedConcurrentExecutions")
    concurrency = max_concurrency if reserved is None else min(int(reserved), max_concurrency)
    return FunctionConfig(
        name=resource.physical_id,
        handler=str(props["Handler"]),
        source_dir=find_source_dir(str(source), template, root),
        environment=_as_env((props.get("Environment") or {}).get("Variables") or {}),
        timeout=float(props.get("Timeout", 3)),
        memory_size=int(props.get("MemorySize", 128)),
        max_concurrency=max(concurrency, 0),
        logical_id=resource.logical_id,
        region=template.region,
        account_id=template.account_id,
        role_arn=str(props.get("Role", "")),
        runtime=str(props.get("Runtime", "python3.12")),
        log_group_name=str((props.get("LoggingConfig") or {}).get("LogGroup", "")),
    )


def functions_from_template(
    template: Template, root: Path | None = None, max_concurrency: int = DEFAULT_MAX_CONCURRENCY
) -> list[FunctionConfig]:
    """Every AWS::Lambda::Function in the template whose condition holds."""
    return [
        function_config(resource, template, root, max_concurrency)
        for resource in template.resources(type="AWS::Lambda::Function")
    ]
