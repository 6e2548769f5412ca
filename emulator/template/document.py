"""A template file as written: its exact text, its JSON and the build metadata of its
resources. The one reader of template files, shared by the deploy tool (which uploads
the exact bytes and packages the code the metadata names) and the emulator (which binds
and resolves it, emulator.template.model).

``Metadata.Build`` is this project's own convention, which CloudFormation ignores:
``Source`` is the folder holding a function's code, ``Requirements`` the pins a function
or a layer installs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.template.errors import TemplateError


class TemplateFileError(TemplateError):
    """The file is missing, is not JSON, or is not a template (no Resources section)."""


class TemplateNotFoundError(TemplateFileError):
    """No file at the path given (the deploy tool says how to generate it)."""


@dataclass(frozen=True)
class BuildMetadata:
    """A resource's Metadata.Build: where its code and pins come from, if it says."""

    source: str | None = None
    requirements: str | None = None

    @classmethod
    def of(cls, metadata: Mapping[str, Any] | None) -> BuildMetadata:
        """Read from a resource's Metadata (absent or malformed Build: nothing given)."""
        build = (metadata or {}).get("Build")
        if not isinstance(build, Mapping):
            return cls()
        source, requirements = build.get("Source"), build.get("Requirements")
        return cls(
            source=str(source) if source else None,
            requirements=str(requirements) if requirements else None,
        )


@dataclass(frozen=True)
class TemplateDocument:
    """The parsed template plus its text (a change set gets the exact bytes)."""

    path: Path
    body: str
    data: dict[str, Any]

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        """The Parameters section (empty when the template declares none)."""
        return self.data.get("Parameters") or {}

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """The Resources section, by logical id."""
        resources: dict[str, dict[str, Any]] = self.data["Resources"]
        return resources

    def resources_of_type(self, type_: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """(logical id, resource) of one type, sorted by logical id for stable output."""
        for logical_id, resource in sorted(self.resources.items()):
            if isinstance(resource, dict) and resource.get("Type") == type_:
                yield logical_id, resource

    @property
    def directory(self) -> Path:
        """The folder the template lies in, which relative build paths may start from."""
        return self.path.parent


def read_template(path: str | Path) -> TemplateDocument:
    """Read a JSON template; TemplateFileError says plainly what is wrong with the file."""
    path = Path(path).resolve()
    try:
        body = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        raise TemplateNotFoundError(f"template {path} not found") from None
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise TemplateFileError(f"template {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateFileError(f"template {path} has no Resources section")
    return TemplateDocument(path=path, body=body, data=data)
