"""Lambda layers, locally: what a layer would add to a function's path, the emulator's
workers already import from its virtualenv. So a layer is not unpacked; it is named, and
checked against the virtualenv: the same package at the same version.

AWS Lambda Developer Guide, "Managing Lambda dependencies with layers"
(https://docs.aws.amazon.com/lambda/latest/dg/chapter-layers.html): a Python layer's
``python/`` folder is on the function's ``sys.path``. Two kinds are recognised:

* AWS's published Powertools for AWS Lambda (Python) layer, by its ARN (account
  017000801446) or by the public SSM parameter naming the ARN of one release
  (``/aws/service/powertools/python/<arch>/<python>/<version>``, what a template
  parameter of type ``AWS::SSM::Parameter::Value<String>`` holds here, as the emulator
  has no SSM): provided by the virtualenv's aws-lambda-powertools;
* an ``AWS::Lambda::LayerVersion`` of the template built from
  ``Metadata.Build.Requirements``: provided by the virtualenv's packages of those pins.

Anything else is reported as a layer whose packages the virtualenv must hold itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from emulator.template import Template
from emulator.template.document import BuildMetadata

POWERTOOLS = "aws-lambda-powertools"
POWERTOOLS_PARAMETER = re.compile(
    r"^/aws/service/powertools/python/[^/]+/[^/]+/(?P<version>[^/]+)$"
)
POWERTOOLS_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[^:]+:017000801446:layer:AWSLambdaPowertools")
PIN = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)(\[[^\]]*\])?==(?P<version>\S+)$")


@dataclass(frozen=True)
class LayerCheck:
    """One layer of the template: which functions use it, what provides it locally."""

    layer: str
    functions: tuple[str, ...]
    provided_by: str
    problem: str | None = None  # set when the virtualenv does not match the layer


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _pins(requirements: Path) -> dict[str, str]:
    pins = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.split("#", 1)[0].strip())
        if match:
            pins[match["name"]] = match["version"]
    return pins


def _check_pins(layer: str, functions: tuple[str, ...], pins: dict[str, str]) -> LayerCheck:
    found = {name: _installed(name) for name in pins}
    wrong = [
        f"{n} {pins[n]} (virtualenv: {found[n] or 'missing'})" for n in pins if found[n] != pins[n]
    ]
    provided = ", ".join(f"{n} {v}" for n, v in found.items() if v) or "nothing"
    problem = f"the layer has {'; '.join(wrong)}" if wrong else None
    return LayerCheck(layer, functions, f"the virtualenv's {provided}", problem)


def _check(
    layer: str, functions: tuple[str, ...], built: dict[str, tuple[str, Path]]
) -> LayerCheck:
    match = POWERTOOLS_PARAMETER.match(layer)
    if match:
        return _check_pins(layer, functions, {POWERTOOLS: match["version"]})
    if POWERTOOLS_ARN.match(layer):
        version = _installed(POWERTOOLS)
        problem = None if version else f"{POWERTOOLS} is not installed"
        return LayerCheck(layer, functions, f"the virtualenv's {POWERTOOLS} {version}", problem)
    if layer in built:
        logical_id, requirements = built[layer]
        return _check_pins(logical_id, functions, _pins(requirements))
    return LayerCheck(
        layer,
        functions,
        "nothing: not a layer the emulator knows",
        "its packages must be in the virtualenv",
    )


def check_layers(template: Template, root: Path) -> list[LayerCheck]:
    """Every layer the template's functions use, and what provides it locally."""
    built: dict[str, tuple[str, Path]] = {}
    for resource in template.resources(type="AWS::Lambda::LayerVersion"):
        requirements = BuildMetadata.of(resource.metadata).requirements
        if requirements and (root / requirements).is_file():
            built[resource.ref] = (resource.logical_id, root / requirements)
    users: dict[str, list[str]] = {}
    for function in template.resources(type="AWS::Lambda::Function"):
        for layer in function.properties.get("Layers") or []:
            users.setdefault(str(layer), []).append(function.logical_id)
    return [_check(layer, tuple(sorted(fns)), built) for layer, fns in sorted(users.items())]
