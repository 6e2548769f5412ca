"""AWS IoT policy evaluation: pure functions over policy documents, no broker state.

Explicit Deny wins over Allow; nothing allowed means denied. Resources and actions
match with IAM globbing (`*` any run of characters, `?` one character). Policy
variables such as ${iot:ClientId} are substituted literally (a client id holding
`*` does not become a wildcard); a variable with no value makes its pattern match
nothing, as AWS does. Statements with a Condition are not evaluated: an Allow with
a Condition grants nothing, a Deny with a Condition still denies (fail closed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

SUPPORTED_VERSIONS = ("2012-10-17", "2008-10-17")
_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class PolicyError(ValueError):
    """A policy document that AWS would reject."""


class Decision(Enum):
    """Outcome of evaluating one request against a set of policies."""

    ALLOW = "allow"
    EXPLICIT_DENY = "explicit_deny"
    IMPLICIT_DENY = "implicit_deny"


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement, with its action and resource lists normalised to tuples."""

    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    has_condition: bool

    def applies(self, action: str, resource: str, variables: Mapping[str, str]) -> bool:
        """Whether this statement covers (action, resource), ignoring its effect."""
        if self.actions:
            if not any(_action_matches(p, action) for p in self.actions):
                return False
        elif any(_action_matches(p, action) for p in self.not_actions):
            return False
        if self.resources:
            return any(_resource_matches(p, resource, variables) for p in self.resources)
        return not any(_resource_matches(p, resource, variables) for p in self.not_resources)


@dataclass(frozen=True, slots=True)
class Policy:
    """A parsed policy document."""

    statements: tuple[Statement, ...]

    @classmethod
    def parse(cls, document: str | Mapping[str, Any]) -> Policy:
        """Parse a JSON string (as authorizers return them) or an already-decoded dict."""
        if isinstance(document, str):
            try:
                document = json.loads(document)
            except json.JSONDecodeError as exc:
                raise PolicyError(f"policy is not valid JSON: {exc}") from exc
        if not isinstance(document, Mapping):
            raise PolicyError("policy must be a JSON object")
        if document.get("Version") not in SUPPORTED_VERSIONS:
            raise PolicyError(f"unsupported policy Version {document.get('Version')!r}")
        raw = document.get("Statement")
        if isinstance(raw, Mapping):
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            raise PolicyError("Statement must be an object or a non-empty list")
        return cls(tuple(_parse_statement(s) for s in raw))


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PolicyError(f"{name} must be a string or a non-empty list of strings")


def _parse_statement(raw: Any) -> Statement:
    if not isinstance(raw, Mapping):
        raise PolicyError("each Statement must be an object")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"Effect must be Allow or Deny, not {effect!r}")
    actions = _strings(raw.get("Action"), "Action")
    not_actions = _strings(raw.get("NotAction"), "NotAction")
    resources = _strings(raw.get("Resource"), "Resource")
    not_resources = _strings(raw.get("NotResource"), "NotResource")
    if bool(actions) == bool(not_actions):
        raise PolicyError("a Statement needs exactly one of Action and NotAction")
    if bool(resources) == bool(not_resources):
        raise PolicyError("a Statement needs exactly one of Resource and NotResource")
    return Statement(
        effect=effect,
        actions=actions,
        not_actions=not_actions,
        resources=resources,
        not_resources=not_resources,
        has_condition=bool(raw.get("Condition")),
    )


@dataclass(frozen=True, slots=True)
class PolicySet:
    """All policies attached to one principal (the authorizer's policyDocuments)."""

    policies: tuple[Policy, ...] = ()

    @classmethod
    def from_documents(cls, documents: Iterable[str | Mapping[str, Any]]) -> PolicySet:
        """Parse every document; one bad document rejects the set, as AWS does."""
        return cls(tuple(Policy.parse(d) for d in documents))

    def evaluate(self, action: str, resource: str, variables: Mapping[str, str]) -> Decision:
        """Explicit Deny, else Allow, else implicit deny."""
        allowed = False
        for policy in self.policies:
            for statement in policy.statements:
                if not statement.applies(action, resource, variables):
                    continue
                if statement.effect == "Deny":
                    return Decision.EXPLICIT_DENY
                if not statement.has_condition:
                    allowed = True
        return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY

    def is_allowed(self, action: str, resource: str, variables: Mapping[str, str]) -> bool:
        """Shorthand for evaluate(...) is ALLOW."""
        return self.evaluate(action, resource, variables) is Decision.ALLOW


@dataclass(frozen=True, slots=True)
class IotArns:
    """Builds the resource ARNs IoT Core checks for each MQTT action."""

    region: str = "us-east-1"
    account_id: str = "123456789012"

    def _arn(self, kind: str, name: str) -> str:
        return f"arn:aws:iot:{self.region}:{self.account_id}:{kind}/{name}"

    def client(self, client_id: str) -> str:
        """Resource of iot:Connect."""
        return self._arn("client", client_id)

    def topic(self, topic: str) -> str:
        """Resource of iot:Publish and iot:Receive."""
        return self._arn("topic", topic)

    def topicfilter(self, topic_filter: str) -> str:
        """Resource of iot:Subscribe (MQTT wildcards + and # are literal characters here)."""
        return self._arn("topicfilter", topic_filter)


def connection_variables(client_id: str, *, thing_name: str | None = None) -> dict[str, str]:
    """Policy variables known for a connection.

    ${iot:Connection.Thing.ThingName} resolves to the client id unless a thing name is
    given (AWS resolves it only for clients attached to a thing).
    """
    return {
        "iot:ClientId": client_id,
        "iot:Connection.Thing.ThingName": thing_name if thing_name is not None else client_id,
        "iot:Connection.Thing.IsAttached": "false",
    }


def _action_matches(pattern: str, action: str) -> bool:
    return _glob(pattern.lower()).fullmatch(action.lower()) is not None


@lru_cache(maxsize=4096)
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL
    )


def _resource_matches(pattern: str, resource: str, variables: Mapping[str, str]) -> bool:
    regex = _resource_regex(pattern, variables)
    return regex is not None and regex.fullmatch(resource) is not None


def _resource_regex(pattern: str, variables: Mapping[str, str]) -> re.Pattern[str] | None:
    parts: list[str] = []
    position = 0
    for match in _VARIABLE.finditer(pattern):
        parts.append(_glob(pattern[position : match.start()]).pattern)
        name = match.group(1)
        if name in ("*", "?", "$"):
            parts.append(re.escape(name))
        elif name in variables:
            parts.append(re.escape(variables[name]))
        else:
            return None
        position = match.end()
    parts.append(_glob(pattern[position:]).pattern)
    return re.compile("".join(parts), re.DOTALL)
