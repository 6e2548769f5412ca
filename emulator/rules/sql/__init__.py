"""The AWS IoT SQL dialect (version 2016-03-23): lexer, parser, compiler, functions.

``compile_query(sql)`` once per rule, then ``query.evaluate(RuleMessage(...))`` per message.
"""

from emulator.rules.sql import more_functions  # noqa: F401 (registers its functions)
from emulator.rules.sql.context import MessageContext, RuleMessage, encode_output
from emulator.rules.sql.errors import SqlEvaluationError, SqlSyntaxError
from emulator.rules.sql.parser import parse_expression, parse_query
from emulator.rules.sql.query import NO_MATCH, CompiledQuery, compile_query
from emulator.rules.sql.topics import TopicFilter
from emulator.rules.sql.values import UNDEFINED

__all__ = [
    "NO_MATCH",
    "UNDEFINED",
    "CompiledQuery",
    "MessageContext",
    "RuleMessage",
    "SqlEvaluationError",
    "SqlSyntaxError",
    "TopicFilter",
    "compile_query",
    "encode_output",
    "parse_expression",
    "parse_query",
]
