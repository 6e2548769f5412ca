"""Read what the deploy tool needs from the template: functions and layers, their build
metadata, the parameters they take their code from, and the parameters the template
declares."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.errors import DeployError

FUNCTION_TYPE = "AWS::Lambda::Function"
LAYER_TYPE = "AWS::Lambda::LayerVersion"


@dataclass(frozen=True)
class FunctionSpec:
    """One AWS::Lambda::Function and where its code comes from."""

    logical_id: str
    handler: str
    source: Path
    requirements: Path | None
    code_key_parameter: str


@dataclass(frozen=True)
class LayerSpec:
    """One AWS::Lambda::LayerVersion built here: the packages of a requirements file."""

    logical_id: str
    requirements: Path
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

    def layers(self, root: Path) -> list[LayerSpec]:
        """Every layer the template builds from its own requirements, sorted by logical id
        (packaged whatever its Condition: its code key parameter always needs a value)."""
        return [
            _layer_spec(logical_id, res, root)
            for logical_id, res in sorted(self.resources.items())
            if res.get("Type") == LAYER_TYPE
        ]


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


def _build(logical_id: str, res: dict[str, Any], field: str) -> dict[str, Any]:
    build = (res.get("Metadata", {}) or {}).get("Build")
    if not isinstance(build, dict) or field not in build:
        raise DeployError(f"{logical_id}: the template gives no Metadata.Build.{field}")
    return build


def _code_key(logical_id: str, res: dict[str, Any], code_property: str) -> str:
    """The <X>CodeKey parameter the resource's S3Key refers to."""
    code = (res.get("Properties", {}) or {}).get(code_property, {}) or {}
    key_ref = code.get("S3Key")
    if not (isinstance(key_ref, dict) and isinstance(key_ref.get("Ref"), str)):
        raise DeployError(
            f"{logical_id}: {code_property}.S3Key must be a Ref to a <X>CodeKey parameter, "
            f"got {key_ref!r}"
        )
    return key_ref["Ref"]


def _layer_spec(logical_id: str, res: dict[str, Any], root: Path) -> LayerSpec:
    build = _build(logical_id, res, "Requirements")
    return LayerSpec(
        logical_id=logical_id,
        requirements=(root / build["Requirements"]).resolve(),
        code_key_parameter=_code_key(logical_id, res, "Content"),
    )


def _function_spec(logical_id: str, res: dict[str, Any], root: Path) -> FunctionSpec:
    props = res.get("Properties", {}) or {}
    build = _build(logical_id, res, "Source")
    key = _code_key(logical_id, res, "Code")
    handler = props.get("Handler")
    if not isinstance(handler, str) or "." not in handler:
        raise DeployError(f"{logical_id}: Handler must look like module.function")
    requirements = build.get("Requirements")
    return FunctionSpec(
        logical_id=logical_id,
        handler=handler,
        source=(root / build["Source"]).resolve(),
        requirements=(root / requirements).resolve() if requirements else None,
        code_key_parameter=key,
    )


def artifacts_bucket_parameter(template: Template) -> str:
    """The parameter that takes the artifacts bucket: the functions' Code.S3Bucket and the
    layers' Content.S3Bucket Ref."""
    code_property = {FUNCTION_TYPE: "Code", LAYER_TYPE: "Content"}
    names = set()
    for res in template.resources.values():
        if res.get("Type") in code_property:
            code = (res.get("Properties", {}) or {}).get(code_property[res["Type"]], {}) or {}
            ref = code.get("S3Bucket")
            if isinstance(ref, dict) and isinstance(ref.get("Ref"), str):
                names.add(ref["Ref"])
    if len(names) > 1:
        raise DeployError(f"code is taken from several bucket parameters: {sorted(names)}")
    return names.pop() if names else "ArtifactsBucket"
