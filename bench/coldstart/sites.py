"""The folders a cold start imports from, laid out as Lambda lays them out.

AWS Lambda Developer Guide, "Managing Lambda dependencies with layers"
(https://docs.aws.amazon.com/lambda/latest/dg/chapter-layers.html): the function's zip
is unpacked in /var/task, each layer's ``python/`` folder follows it on ``sys.path``,
and the runtime's own packages (boto3) come last. Here, on this machine:

* the zip: built by ``deploy.package`` for this machine's platform (the figures of the
  Lambda zip, built for arm64, come from ``zips.py``), unpacked; no bytecode, as in a
  deployed zip;
* AWS's Powertools layer: the pinned release installed the way AWS builds its layer
  (powertools-lambda-layer-cdk, layer/Pythonv3/Dockerfile): boto3 and its dependencies
  removed (the runtime has them) and every ``.pyc`` deleted;
* a layer of the template (JwksLayer): built by ``deploy.package``, unpacked;
* the runtime: boto3 at the pinned version, with bytecode (as pip leaves it).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from deploy.package import HOST, PackageOptions, package_function, package_layer
from deploy.template import FunctionSpec, LayerSpec
from emulator.lambda_runtime.layers import POWERTOOLS_PARAMETER
from emulator.template import Template

# What AWS removes from its Powertools layer because the runtime provides it.
RUNTIME_PACKAGES = (
    "boto",
    "s3transfer",
    "dateutil",
    "python_dateutil",
    "urllib3",
    "six",
    "jmespath",
)


@dataclass(frozen=True)
class Variant:
    """One function as its cold start sees it."""

    name: str  # "AuthorizerFunction", or "AuthorizerFunction + JwksLayer"
    module: str  # the handler's module
    task: Path  # the unpacked zip
    layers: tuple[Path, ...]  # each layer's python/ folder, in order


def pip_target(target: Path, requirements: list[str], constraints: Path) -> Path:
    """``pip install --target`` for this machine, once per target folder."""
    done = target / ".complete"
    if done.is_file():
        return target
    shutil.rmtree(target, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    cmd += ["--target", str(target), "-c", str(constraints), *requirements]
    subprocess.run(cmd, check=True)  # noqa: S603
    done.write_text(" ".join(requirements))
    return target


def runtime_site(root: Path, out: Path) -> Path:
    """boto3 at the version the project pins, as the Lambda runtime carries it."""
    return pip_target(out / "runtime", ["boto3"], root / "requirements.txt")


def powertools_site(version: str, root: Path, out: Path) -> Path:
    """The python/ folder of AWS's Powertools layer for ``version``, built as AWS does."""
    python = out / f"powertools-{version}" / "python"
    pip_target(python, [f"aws-lambda-powertools=={version}"], root / "requirements.txt")
    for child in python.iterdir():
        if child.name.startswith(RUNTIME_PACKAGES) or child.name == "bin":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    for cache in list(python.rglob("__pycache__")):
        shutil.rmtree(cache)
    return python


def unpack(zip_path: Path, dest: Path) -> Path:
    shutil.rmtree(dest, ignore_errors=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
    return dest


def host_layers(layers: list[LayerSpec], out: Path) -> dict[str, Path]:
    """The template's own layers, built for this machine: logical id -> python/ folder."""
    options = PackageOptions(build_dir=out / "host", platform=HOST)
    return {
        spec.logical_id: unpack(
            package_layer(spec, options).path, out / "host" / "unpacked" / spec.logical_id
        )
        / "python"
        for spec in layers
    }


def function_layers(
    template: Template, logical_id: str, built: dict[str, Path], root: Path, out: Path
) -> tuple[Path, ...]:
    """The python/ folders of a function's Layers, as the template resolves them."""
    refs = {res.ref: res.logical_id for res in template.resources(type="AWS::Lambda::LayerVersion")}
    folders = []
    for layer in template.resource(logical_id).properties.get("Layers") or []:
        match = POWERTOOLS_PARAMETER.match(str(layer))
        if match:
            folders.append(powertools_site(match["version"], root, out))
        elif refs.get(str(layer)) in built:
            folders.append(built[refs[str(layer)]])
        else:
            raise ValueError(f"{logical_id}: cannot lay out layer {layer!r} locally")
    return tuple(folders)


def variants(
    specs: list[FunctionSpec],
    templates: dict[str, Template],
    layers: list[LayerSpec],
    root: Path,
    out: Path,
) -> list[Variant]:
    """Each function once per template configuration that changes its layers
    (``templates``: a suffix such as ``""`` or ``" + JwksLayer"`` -> bound template)."""
    options = PackageOptions(build_dir=out / "host", platform=HOST)
    built = host_layers(layers, out)
    found: list[Variant] = []
    for spec in specs:
        task = unpack(
            package_function(spec, options).path, out / "host" / "unpacked" / spec.logical_id
        )
        module = spec.handler.rsplit(".", 1)[0]
        seen: set[tuple[Path, ...]] = set()
        for suffix, template in templates.items():
            folders = function_layers(template, spec.logical_id, built, root, out)
            if folders not in seen:
                seen.add(folders)
                found.append(Variant(spec.logical_id + suffix, module, task, folders))
    return found
