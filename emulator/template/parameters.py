"""Template parameters: defaults, overrides and CloudFormation's constraint checks.

Checked here rather than at use so a bad `--parameter` fails at startup with the
same message CloudFormation would give, before any resource is provisioned.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.template.errors import ParameterError

PLACEHOLDER_PREFIX = "emulator-placeholder"


@dataclass(frozen=True)
class ResolvedParameters:
    """Final parameter values (what Ref answers) and which ones are placeholders."""

    values: dict[str, Any]
    placeholders: list[str] = field(default_factory=list)


def _is_list_type(declared_type: str) -> bool:
    return declared_type == "CommaDelimitedList" or declared_type.startswith("List<")


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _normalise(name: str, declared_type: str, value: Any) -> Any:
    """Turn an override or default into the form Ref returns (string or list of strings)."""
    if _is_list_type(declared_type):
        items = value if isinstance(value, list | tuple) else _as_text(value).split(",")
        return [_as_text(item).strip() for item in items]
    if isinstance(value, list | tuple | dict):
        raise ParameterError(f"parameter {name} ({declared_type}) takes a single value")
    return _as_text(value)


def _check_number(name: str, text: str, spec: Mapping[str, Any]) -> None:
    try:
        number = float(text)
    except ValueError:
        raise ParameterError(f"parameter {name} must be a number, got {text!r}") from None
    if "MinValue" in spec and number < float(spec["MinValue"]):
        raise ParameterError(f"parameter {name} must be >= {spec['MinValue']}, got {text}")
    if "MaxValue" in spec and number > float(spec["MaxValue"]):
        raise ParameterError(f"parameter {name} must be <= {spec['MaxValue']}, got {text}")


def _check_one(name: str, text: str, spec: Mapping[str, Any], declared_type: str) -> None:
    allowed = spec.get("AllowedValues")
    if allowed is not None and text not in [_as_text(v) for v in allowed]:
        raise ParameterError(
            f"parameter {name} must be one of {[_as_text(v) for v in allowed]}, got {text!r}"
        )
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, text):
        detail = spec.get("ConstraintDescription") or f"must match pattern {pattern}"
        raise ParameterError(f"parameter {name} {detail}, got {text!r}")
    if "MinLength" in spec and len(text) < int(spec["MinLength"]):
        raise ParameterError(f"parameter {name} must be at least {spec['MinLength']} chars")
    if "MaxLength" in spec and len(text) > int(spec["MaxLength"]):
        raise ParameterError(f"parameter {name} must be at most {spec['MaxLength']} chars")
    if declared_type in ("Number", "List<Number>"):
        _check_number(name, text, spec)


def _validate(name: str, value: Any, spec: Mapping[str, Any], declared_type: str) -> None:
    for text in value if isinstance(value, list) else [value]:
        _check_one(name, text, spec, declared_type)


def _placeholder(name: str, spec: Mapping[str, Any], declared_type: str) -> Any:
    """A stand-in for a parameter only a real deploy needs (bucket, code keys)."""
    allowed = spec.get("AllowedValues")
    if allowed:
        text = _as_text(allowed[0])
    elif declared_type in ("Number", "List<Number>"):
        text = _as_text(spec.get("MinValue", 0))
    else:
        text = f"{PLACEHOLDER_PREFIX}-{name.lower()}"
    return _normalise(name, declared_type, text)


def resolve_parameters(
    declared: Mapping[str, Mapping[str, Any]], overrides: Mapping[str, Any] | None = None
) -> ResolvedParameters:
    """Apply overrides over defaults, validate them, and fill placeholders for the rest."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(unknown)}; the template declares "
            f"{', '.join(sorted(declared)) or 'none'}"
        )
    values: dict[str, Any] = {}
    placeholders: list[str] = []
    for name, spec in declared.items():
        declared_type = str(spec.get("Type", "String"))
        if name in overrides:
            value = _normalise(name, declared_type, overrides[name])
        elif "Default" in spec:
            value = _normalise(name, declared_type, spec["Default"])
        else:
            values[name] = _placeholder(name, spec, declared_type)
            placeholders.append(name)
            continue
        _validate(name, value, spec, declared_type)
        values[name] = value
    return ResolvedParameters(values=values, placeholders=placeholders)
