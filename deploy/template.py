"""Read what the deploy tool needs from the template: functions, their build metadata,
the parameters they take their code from, and the parameters the template declares."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.errors import DeployError

FUNCTION_TYPE = "AWS::Lambda::Function"


@dataclass(frozen=True)
class FunctionSpec:
    """One AWS::Lambda::Function and where its code comes from."""

    logical_id: str
    handler: str
    source: Path
    requirements: Path | None
    code_key_parameter: str


@dataclass(frozen=True)
class Template:
    """The parsed template plus its text (the change set gets the exact bytes)."""

    path: Path
    body: str
    data: dict[str, Any]

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return self.data.get("Parameters", {}) or {}

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.data.get("Resources", {}) or {}

    def functions(self, root: Path) -> list[FunctionSpec]:
        """Every function with build metadata, sorted by logical id for stable output."""
        specs = []
        for logical_id, res in sorted(self.resources.items()):
            if res.get("Type") == FUNCTION_TYPE:
                specs.append(_function_spec(logical_id, res, root))
        return specs


def load_template(path: Path) -> Template:
    """Load a JSON template; a missing file points at `make template`."""
    if not path.is_file():
        raise DeployError(f"template {path} not found: run `make template` to generate it")
    body = path.read_text(encoding="utf-8")
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise DeployError(f"template {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise DeployError(f"template {path} has no Resources section")
    return Template(path=path, body=body, data=data)


def _function_spec(logical_id: str, res: dict[str, Any], root: Path) -> FunctionSpec:
    props = res.get("Properties", {}) or {}
    build = (res.get("Metadata", {}) or {}).get("Build")
    if not isinstance(build, dict) or "Source" not in build:
        raise DeployError(f"{logical_id}: the template gives no Metadata.Build.Source")
    code = props.get("Code", {}) or {}
    key_ref = code.get("S3Key")
    if not (isinstance(key_ref, dict) and isinstance(key_ref.get("Ref"), str)):
        raise DeployError(
            f"{logical_id}: Code.S3Key must be a Ref to a <X>CodeKey parameter, got {key_ref!r}"
        )
    handler = props.get("Handler")
    if not isinstance(handler, str) or "." not in handler:
        raise DeployError(f"{logical_id}: Handler must look like module.function")
    requirements = build.get("Requirements")
    return FunctionSpec(
        logical_id=logical_id,
        handler=handler,
        source=(root / build["Source"]).resolve(),
        requirements=(root / requirements).resolve() if requirements else None,
        code_key_parameter=key_ref["Ref"],
    )


def artifacts_bucket_parameter(template: Template) -> str:
    """The parameter that takes the artifacts bucket: the function's Code.S3Bucket Ref."""
    names = set()
    for res in template.resources.values():
        if res.get("Type") == FUNCTION_TYPE:
            ref = ((res.get("Properties", {}) or {}).get("Code", {}) or {}).get("S3Bucket")
            if isinstance(ref, dict) and isinstance(ref.get("Ref"), str):
                names.add(ref["Ref"])
    if len(names) > 1:
        raise DeployError(f"functions take their bucket from several parameters: {sorted(names)}")
    return names.pop() if names else "ArtifactsBucket"
