"""Intrinsic functions and condition functions, resolved the way CloudFormation does.

The resolver is independent of where names come from: a `Scope` answers Ref, GetAtt,
Condition and FindInMap, so the same code serves properties, outputs and conditions.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any, Protocol

from emulator.template.errors import TemplateError, UnsupportedIntrinsicError


class _NoValue:
    """AWS::NoValue: the property or list item disappears."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Scope(Protocol):
    """What the resolver needs from the template around it."""

    region: str

    def ref(self, name: str) -> Any: ...

    def get_att(self, logical_id: str, attribute: str) -> Any: ...

    def condition(self, name: str) -> bool: ...

    def find_in_map(self, name: str, top: str, second: str) -> Any: ...


def as_text(value: Any) -> str:
    """CloudFormation's string form of a scalar (booleans are lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        raise TemplateError(f"expected a string, got {json.dumps(value)[:80]}")
    return str(value)


class Resolver:
    """Evaluates intrinsic functions against a scope; branches of Fn::If are lazy."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::If": self._if,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::GetAZs": self._get_azs,
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": self._base64,
            "Fn::Equals": self._equals,
            "Fn::Not": self._not,
            "Fn::And": self._and,
            "Fn::Or": self._or,
            "Fn::ToJsonString": self._to_json_string,
            "Fn::Length": self._length,
            "Condition": self._condition,
        }

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic inside `value`; NoValue items are dropped."""
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                if key in self._functions and (key != "Condition" or isinstance(argument, str)):
                    return self._functions[key](argument)
                if key.startswith("Fn::"):
                    why = " (there are no other stacks locally)" if key == "Fn::ImportValue" else ""
                    raise UnsupportedIntrinsicError(f"{key} is not supported by the emulator{why}")
            resolved = {k: self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        return value

    def evaluate_condition(self, expression: Any) -> bool:
        """A condition body: a condition function, {"Condition": name} or a literal."""
        result = self.resolve(expression)
        if isinstance(result, bool):
            return result
        if isinstance(result, str) and result.lower() in ("true", "false"):
            return result.lower() == "true"
        raise TemplateError(f"condition does not evaluate to a boolean: {expression!r}")

    def _text(self, value: Any) -> str:
        return as_text(self.resolve(value))

    def _list(self, value: Any, function: str) -> list[Any]:
        result = self.resolve(value)
        if not isinstance(result, list):
            raise TemplateError(f"{function} expects a list, got {result!r}")
        return result

    def _ref(self, argument: Any) -> Any:
        if not isinstance(argument, str):
            raise TemplateError(f"Ref takes a name, got {argument!r}")
        return self.scope.ref(argument)

    def _get_att(self, argument: Any) -> Any:
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        if not isinstance(argument, list) or len(argument) != 2:
            raise TemplateError(f"Fn::GetAtt takes [LogicalId, Attribute], got {argument!r}")
        logical_id, attribute = argument[0], self._text(argument[1])
        return self.scope.get_att(logical_id, attribute)

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        elif isinstance(argument, list) and len(argument) == 2:
            text, variables = argument[0], argument[1]
            if not isinstance(text, str) or not isinstance(variables, dict):
                raise TemplateError(f"Fn::Sub takes [string, {{vars}}], got {argument!r}")
        else:
            raise TemplateError(f"Fn::Sub takes a string or [string, {{vars}}], got {argument!r}")

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            name = name.strip()
            if name in variables:
                return self._text(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return as_text(self.scope.get_att(logical_id, attribute))
            return as_text(self.scope.ref(name))

        return _SUB_VARIABLE.sub(replace, text)

    def _join(self, argument: Any) -> str:
        if not isinstance(argument, list) or len(argument) != 2:
            raise TemplateError(f"Fn::Join takes [delimiter, [values]], got {argument!r}")
        delimiter = self._text(argument[0])
        return delimiter.join(as_text(item) for item in self._list(argument[1], "Fn::Join"))

    def _if(self, argument: Any) -> Any:
        if not isinstance(argument, list) or len(argument) != 3:
            raise TemplateError(f"Fn::If takes [condition, then, else], got {argument!r}")
        chosen = argument[1] if self.scope.condition(argument[0]) else argument[2]
        return self.resolve(chosen)

    def _select(self, argument: Any) -> Any:
        if not isinstance(argument, list) or len(argument) != 2:
            raise TemplateError(f"Fn::Select takes [index, [values]], got {argument!r}")
        index = int(self._text(argument[0]))
        items = self._list(argument[1], "Fn::Select")
        if not 0 <= index < len(items):
            raise TemplateError(f"Fn::Select index {index} out of range for {len(items)} items")
        return items[index]

    def _split(self, argument: Any) -> list[str]:
        if not isinstance(argument, list) or len(argument) != 2:
            raise TemplateError(f"Fn::Split takes [delimiter, string], got {argument!r}")
        return self._text(argument[1]).split(self._text(argument[0]))

    def _get_azs(self, argument: Any) -> list[str]:
        region = self._text(argument) or self.scope.region
        return [f"{region}{zone}" for zone in "abc"]

    def _find_in_map(self, argument: Any) -> Any:
        if not isinstance(argument, list) or len(argument) != 3:
            raise TemplateError(f"Fn::FindInMap takes [map, key, key], got {argument!r}")
        name, top, second = (self._text(part) for part in argument)
        return self.scope.find_in_map(name, top, second)

    def _base64(self, argument: Any) -> str:
        return base64.b64encode(self._text(argument).encode()).decode()

    def _to_json_string(self, argument: Any) -> str:
        return json.dumps(self.resolve(argument), separators=(",", ":"))

    def _length(self, argument: Any) -> int:
        return len(self._list(argument, "Fn::Length"))

    def _equals(self, argument: Any) -> bool:
        if not isinstance(argument, list) or len(argument) != 2:
            raise TemplateError(f"Fn::Equals takes two values, got {argument!r}")
        left, right = (self.resolve(part) for part in argument)
        if isinstance(left, list) or isinstance(right, list):
            return left == right
        return as_text(left) == as_text(right)

    def _not(self, argument: Any) -> bool:
        if not isinstance(argument, list) or len(argument) != 1:
            raise TemplateError(f"Fn::Not takes one condition, got {argument!r}")
        return not self.evaluate_condition(argument[0])

    def _conditions(self, argument: Any, function: str) -> list[Any]:
        if not isinstance(argument, list) or not 2 <= len(argument) <= 10:
            raise TemplateError(f"{function} takes 2 to 10 conditions, got {argument!r}")
        return argument

    def _and(self, argument: Any) -> bool:
        return all(self.evaluate_condition(c) for c in self._conditions(argument, "Fn::And"))

    def _or(self, argument: Any) -> bool:
        return any(self.evaluate_condition(c) for c in self._conditions(argument, "Fn::Or"))

    def _condition(self, argument: Any) -> bool:
        if not isinstance(argument, str):
            raise TemplateError(f"Condition takes a condition name, got {argument!r}")
        return self.scope.condition(argument)
