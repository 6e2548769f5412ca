"""How the emulator serves a template on one HTTP port: function URL mounts, the static
site and its config.json, and where S3-hosted function code is found locally.

AWS gives each function URL a domain of its own and hosts a site wherever the template
puts it; locally everything shares one port. The template may say how in its top-level
``Metadata.LocalEmulator`` (CloudFormation ignores Metadata it does not know), and
command-line options override it:

    "Metadata": {"LocalEmulator": {
        "Site": "web",                                  # static files, relative to the template
        "SiteConfig": {"tokenUrl": "TokenUrl"},         # config.json key -> Output name
        "FunctionUrlPaths": {"TokenFunctionUrl": "/"},  # URL logical id -> mount path
        "Open": "/lobby"                                # the page printed at start
    }}

A function URL not listed is mounted at ``/lambda-url/<LogicalId>/``. Its
``Fn::GetAtt FunctionUrl`` is the mount path, so Outputs built from it (for instance
``${Url.FunctionUrl}api/token``) are paths on the emulator's port.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.template import Template, TemplateError

METADATA_KEY = "LocalEmulator"
URL_PREFIX = "/lambda-url/"


@dataclass(frozen=True)
class ServingOptions:
    """What the command line says; empty or None means: as the template's metadata says."""

    site: Path | None = None
    site_config: Mapping[str, str] = field(default_factory=dict)
    function_url_paths: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Serving:
    """The resolved plan: mounts by URL logical id, the site folder, config.json."""

    url_paths: dict[str, str]
    site: Path | None
    site_config: dict[str, Any] | None
    open_path: str = "/"


def _mount(logical_id: str, path: str) -> str:
    if not path.startswith("/") or not path.endswith("/"):
        raise TemplateError(
            f"function URL {logical_id}: mount path {path!r} must start and end with /"
        )
    return path


def _find_dir(folder: str, template: Template) -> Path:
    base = Path(folder)
    candidates = [base] if base.is_absolute() else []
    bases = (template.directory, *template.directory.parents, Path.cwd())
    candidates += [d / folder for d in bases]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    raise TemplateError(f"site folder {folder!r} not found next to the template, above it or here")


def plan(template: Template, options: ServingOptions) -> Serving:
    """Mount every function URL and bind its FunctionUrl attribute; read the site."""
    meta = (template.raw.get("Metadata") or {}).get(METADATA_KEY) or {}
    if not isinstance(meta, dict):
        raise TemplateError(f"Metadata.{METADATA_KEY} must be an object")
    wanted = {**(meta.get("FunctionUrlPaths") or {}), **options.function_url_paths}
    urls = [r.logical_id for r in template.resources(type="AWS::Lambda::Url")]
    unknown = sorted(set(wanted) - set(urls))
    if unknown:
        raise TemplateError(f"function URL paths given for unknown URLs: {', '.join(unknown)}")
    paths = {u: _mount(u, str(wanted.get(u, f"{URL_PREFIX}{u}/"))) for u in urls}
    if len(set(paths.values())) != len(paths):
        raise TemplateError(f"two function URLs share a mount path: {paths}")
    for logical_id, path in paths.items():
        template.attribute_overrides[f"{logical_id}.FunctionUrl"] = path
    site: Path | None = options.site
    if site is None and meta.get("Site"):
        site = _find_dir(str(meta["Site"]), template)
    names = {**(meta.get("SiteConfig") or {}), **options.site_config}
    site_config: dict[str, Any] | None = None
    if names:
        outputs = template.outputs
        missing = sorted(n for n in names.values() if n not in outputs)
        if missing:
            raise TemplateError(f"config.json names outputs the template lacks: {missing}")
        site_config = {key: outputs[name] for key, name in names.items()}
    open_path = str(meta.get("Open", "/"))
    return Serving(paths, site, site_config, open_path if open_path.startswith("/") else "/")
