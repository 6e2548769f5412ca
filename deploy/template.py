"""What the deploy tool needs from the template: functions and layers, their build
metadata and the parameters they take their code from. The file itself is read by
emulator.template.document, the reader the emulator uses too."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.errors import DeployError
from emulator.template.document import (
    BuildMetadata,
    TemplateDocument,
    TemplateFileError,
    TemplateNotFoundError,
    read_template,
)

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


def load_template(path: Path) -> TemplateDocument:
    """The template file (emulator.template.document, the emulator's reader too); a
    missing file points at `make template`."""
    try:
        return read_template(path)
    except TemplateNotFoundError as exc:
        raise DeployError(f"{exc}: run `make template` to generate it") from None
    except TemplateFileError as exc:
        raise DeployError(str(exc)) from None


def functions(template: TemplateDocument, root: Path) -> list[FunctionSpec]:
    """Every function, with where its code comes from, sorted by logical id."""
    return [
        _function_spec(logical_id, res, root)
        for logical_id, res in template.resources_of_type(FUNCTION_TYPE)
    ]


def layers(template: TemplateDocument, root: Path) -> list[LayerSpec]:
    """Every layer the template builds from its own requirements, sorted by logical id
    (packaged whatever its Condition: its code key parameter always needs a value)."""
    return [
        _layer_spec(logical_id, res, root)
        for logical_id, res in template.resources_of_type(LAYER_TYPE)
    ]


def _required(logical_id: str, value: str | None, field: str) -> str:
    if value is None:
        raise DeployError(f"{logical_id}: the template gives no Metadata.Build.{field}")
    return value


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
    build = BuildMetadata.of(res.get("Metadata"))
    requirements = _required(logical_id, build.requirements, "Requirements")
    return LayerSpec(
        logical_id=logical_id,
        requirements=(root / requirements).resolve(),
        code_key_parameter=_code_key(logical_id, res, "Content"),
    )


def _function_spec(logical_id: str, res: dict[str, Any], root: Path) -> FunctionSpec:
    props = res.get("Properties", {}) or {}
    build = BuildMetadata.of(res.get("Metadata"))
    source = _required(logical_id, build.source, "Source")
    key = _code_key(logical_id, res, "Code")
    handler = props.get("Handler")
    if not isinstance(handler, str) or "." not in handler:
        raise DeployError(f"{logical_id}: Handler must look like module.function")
    return FunctionSpec(
        logical_id=logical_id,
        handler=handler,
        source=(root / source).resolve(),
        requirements=(root / build.requirements).resolve() if build.requirements else None,
        code_key_parameter=key,
    )


def artifacts_bucket_parameter(template: TemplateDocument) -> str:
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
