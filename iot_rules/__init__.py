"""The chat's topic rules, one module each, as plain data (see iot_rules.spec).

``RULES`` is discovered from the package's modules (each defining ``RULE``), so adding
a rule is adding a module; it is sorted by name so the template stays stable.
"""

from __future__ import annotations

import importlib
import pkgutil

from iot_rules.spec import Rule

_NOT_RULES = frozenset({"spec"})


def _discover() -> tuple[Rule, ...]:
    """Import every rule module of this package and collect its ``RULE``."""
    rules: list[Rule] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name in _NOT_RULES or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        rule = getattr(module, "RULE", None)
        if not isinstance(rule, Rule):
            raise TypeError(f"{module.__name__} defines no RULE")
        if rule.name != info.name:
            raise ValueError(f"{module.__name__}: RULE.name is {rule.name!r}")
        rules.append(rule)
    return tuple(sorted(rules, key=lambda r: r.name))


RULES: tuple[Rule, ...] = _discover()
RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}

__all__ = ["RULES", "RULES_BY_NAME", "Rule"]
