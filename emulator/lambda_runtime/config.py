"""What the runtime needs to know about one function, read from the template.

Code is found, in this order: the function's Metadata.Build.Source (the folder this
project's deploy tool zips, so the emulator runs what a deploy ships); inline
``Code.ZipFile``, which CloudFormation writes to ``index.py`` for Python runtimes
("AWS::Lambda::Function Code", https://docs.aws.amazon.com/AWSCloudFormation/latest/
TemplateReference/aws-properties-lambda-function-code.html); ``Code.S3Bucket`` and
``Code.S3Key``, mapped by the caller (``--code s3://bucket/key=PATH``) to a local folder
or zip.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.template import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, Resource, Template, TemplateError
from emulator.template.document import BuildMetadata

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


def _unzip(archive: Path, scratch: Path, name: str) -> Path:
    target = scratch / name
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                if member.startswith("/") or ".." in Path(member).parts:
                    raise TemplateError(f"{archive}: unsafe path {member!r} in the zip")
            zf.extractall(target)
    except zipfile.BadZipFile as exc:
        raise TemplateError(f"{archive} is not a zip file: {exc}") from None
    return target


def code_dir(
    resource: Resource,
    template: Template,
    root: Path | None,
    code: Mapping[str, Path],
    scratch: Path,
) -> Path:
    """The local folder holding a function's code (see the module's docstring)."""
    source = BuildMetadata.of(resource.metadata).source
    if source:
        return find_source_dir(source, template, root)
    spec = resource.properties.get("Code") or {}
    name = resource.logical_id
    if "ZipFile" in spec:
        if not str(resource.properties.get("Runtime", "python")).startswith("python"):
            raise TemplateError(f"{name}: inline Code.ZipFile runs only for Python runtimes")
        folder = scratch / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.py").write_text(str(spec["ZipFile"]))
        return folder
    if "S3Bucket" in spec and "S3Key" in spec:
        uri = f"s3://{spec['S3Bucket']}/{spec['S3Key']}"
        local = code.get(uri)
        if local is None:
            raise TemplateError(
                f"{name}: code at {uri}; map it to a folder or zip with --code {uri}=PATH"
            )
        if local.is_dir():
            return local.resolve()
        if local.is_file():
            return _unzip(local, scratch, name)
        raise TemplateError(f"{name}: --code {uri}={local}: no such folder or zip")
    raise TemplateError(
        f"{name}: no code the emulator can find (Metadata.Build.Source, Code.ZipFile, "
        "or Code.S3Bucket/S3Key with --code)"
    )


def function_config(
    resource: Resource,
    template: Template,
    root: Path | None = None,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    *,
    code: Mapping[str, Path] | None = None,
    scratch: Path | None = None,
) -> FunctionConfig:
    """FunctionConfig of one AWS::Lambda::Function resource."""
    props = resource.properties
    if "Handler" not in props:
        raise TemplateError(f"{resource.logical_id}: no Handler")
    folder = code_dir(
        resource, template, root, code or {}, scratch or Path(tempfile.mkdtemp(prefix="lambda-"))
    )
    reserved = props.get("ReservedConcurrentExecutions")
    concurrency = max_concurrency if reserved is None else min(int(reserved), max_concurrency)
    return FunctionConfig(
        name=resource.physical_id,
        handler=str(props["Handler"]),
        source_dir=folder,
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
    template: Template,
    root: Path | None = None,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    *,
    code: Mapping[str, Path] | None = None,
    scratch: Path | None = None,
) -> list[FunctionConfig]:
    """Every AWS::Lambda::Function in the template whose condition holds."""
    work = scratch or Path(tempfile.mkdtemp(prefix="lambda-code-"))
    return [
        function_config(resource, template, root, max_concurrency, code=code, scratch=work)
        for resource in template.resources(type="AWS::Lambda::Function")
    ]
