"""Plain-data description of a topic rule, independent of troposphere.

The rules are data so that the template generator (stack/rules.py), the tests and
anyone reading them share one definition. Texts (SQL, topics, partition keys) use two
kinds of placeholder:

- ``{root}`` / ``{retention_days}``: template parameters (``TopicRoot``,
  ``MessageRetentionDays``); ``to_sub`` turns them into ``${TopicRoot}`` for Fn::Sub.
- ``${room}`` and the like: AWS IoT substitution templates, evaluated per message by
  the rules engine; ``to_sub`` escapes them as ``${!room}`` so CloudFormation leaves
  them alone.

Each action class is named after its key in a TopicRule's Action (``Lambda``,
``Republish``, ``DynamoDBv2``, ...); ``stack/rule_actions.py`` turns it into
troposphere's ``iot.<Key>Action`` and the emulator runs the template's
(``emulator/rules/actions.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Placeholder -> CloudFormation parameter it stands for.
PLACEHOLDERS: dict[str, str] = {
    "root": "TopicRoot",
    "retention_days": "MessageRetentionDays",
}

SQL_VERSION = "2016-03-23"

_PLACEHOLDER_RE = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


@dataclass(frozen=True)
class Lambda:
    """Invoke a function (by its logical id) with the rule's output."""

    function: str


@dataclass(frozen=True)
class Republish:
    """Publish the rule's output to another topic."""

    topic: str
    qos: int = 1


@dataclass(frozen=True)
class DynamoDBv2:
    """PutItem the rule's output (each selected field an attribute) into a table."""

    table: str


@dataclass(frozen=True)
class Kinesis:
    """PutRecord the rule's output into a stream."""

    stream: str
    partition_key: str


@dataclass(frozen=True)
class CloudwatchLogs:
    """Write the failed message and the error to a log group (used as error action)."""

    log_group: str


Action = Lambda | Republish | DynamoDBv2 | Kinesis | CloudwatchLogs

# The one error action every rule uses unless it says otherwise.
RULE_ERRORS = CloudwatchLogs(log_group="RuleErrorsLogGroup")


@dataclass(frozen=True)
class Rule:
    """One AWS IoT topic rule.

    ``name`` is the short lower-case key (also the module name); ``condition`` names a
    template condition the rule and its role depend on (``None``: always present).
    """

    name: str
    description: str
    sql: str
    actions: tuple[Action, ...]
    error_action: Action = RULE_ERRORS
    condition: str | None = None
    sql_version: str = SQL_VERSION

    @property
    def logical_id(self) -> str:
        """CloudFormation logical id, e.g. ``RouteRule`` for ``route``."""
        return self.name.capitalize() + "Rule"


def to_sub(text: str) -> str:
    """Turn a rule text into an Fn::Sub string.

    IoT substitution templates (``${room}``) are escaped first as ``${!room}``, then
    parameter placeholders (``{root}``) become ``${TopicRoot}``.
    """
    escaped = text.replace("${", "${!")
    return _PLACEHOLDER_RE.sub(lambda m: "${" + PLACEHOLDERS[m.group(1)] + "}", escaped)


def has_placeholders(text: str) -> bool:
    """Whether the text needs Fn::Sub (it names a template parameter)."""
    return _PLACEHOLDER_RE.search(text) is not None


def render(text: str, **values: object) -> str:
    """Fill the parameter placeholders with concrete values (tests, tools).

    IoT substitution templates are left as they are, as AWS would see them.
    """
    missing = set(_PLACEHOLDER_RE.findall(text)) - set(values)
    if missing:
        raise KeyError(f"no value for placeholder(s): {sorted(missing)}")
    return _PLACEHOLDER_RE.sub(lambda m: str(values[m.group(1)]), text)


def sql_string(value: str) -> str:
    """Quote a literal for IoT SQL.

    IoT SQL's escaping of quotes inside literals is not something to rely on, so a
    literal containing one is refused rather than guessed at.
    """
    if "'" in value:
        raise ValueError(f"single quote in an IoT SQL literal: {value!r}")
    return "'" + value + "'"
