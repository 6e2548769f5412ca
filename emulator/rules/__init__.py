"""The rules layer: IoT SQL (``rules.sql``), substitution templates, actions, engine.

The app builds ``RulesEngine(rules, target, account_id, region)`` from the template's
AWS::IoT::TopicRule resources and calls ``engine.dispatch(topic, payload, ctx)`` for
every publish the broker accepted.
"""

from emulator.rules.actions import SUPPORTED_ACTIONS, ActionError, RuleDefinitionError
from emulator.rules.engine import CompiledRule, EngineStats, RulesEngine, TopicRule
from emulator.rules.sql import MessageContext, SqlSyntaxError
from emulator.rules.target import ActionTarget, BotoClients, CallbackTarget

__all__ = [
    "SUPPORTED_ACTIONS",
    "ActionError",
    "ActionTarget",
    "BotoClients",
    "CallbackTarget",
    "CompiledRule",
    "EngineStats",
    "MessageContext",
    "RuleDefinitionError",
    "RulesEngine",
    "SqlSyntaxError",
    "TopicRule",
]
