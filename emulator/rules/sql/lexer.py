"""Tokenizer of the IoT SQL dialect: keywords are case-insensitive, names are not.

``@name`` is a SET variable ("SET clause",
https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-set.html): its name has
letters, numbers and underscores, 64 characters at most. ``SET`` itself is not a
keyword, so a field called ``set`` still reads as a field; the parser knows it at the
start of a statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from emulator.rules.sql.errors import SqlSyntaxError

KEYWORDS = frozenset(
    {
        "SELECT", "FROM", "WHERE", "AS", "AND", "OR", "NOT", "IN",
        "CASE", "WHEN", "THEN", "ELSE", "END", "TRUE", "FALSE", "NULL",
    }
)  # fmt: skip

MAX_VARIABLE_NAME = 64  # "Variable names can be up to 64 characters long"

# Longest first, so "<=" wins over "<".
SYMBOLS = ("<>", "!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%",
           ",", ".", "(", ")", "[", "]", "{", "}", ":")  # fmt: skip

_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "/": "/", "n": "\n", "t": "\t", "r": "\r",
            "b": "\b", "f": "\f"}  # fmt: skip


class Kind(Enum):
    """What a token is."""

    IDENT = "identifier"
    KEYWORD = "keyword"
    NUMBER = "number"
    STRING = "string"
    VARIABLE = "variable"
    SYMBOL = "symbol"
    EOF = "end of input"


@dataclass(frozen=True, slots=True)
class Token:
    """One token; ``value`` is upper-cased for keywords, decoded for strings, a
    variable's name without its ``@``."""

    kind: Kind
    value: str
    pos: int
    end: int


def tokenize(sql: str) -> list[Token]:
    """Split ``sql`` into tokens, ending with one EOF token."""
    tokens: list[Token] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch.isspace():
            i += 1
        elif ch.isalpha() or ch == "_":
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            word = sql[i:j]
            if word.upper() in KEYWORDS:
                tokens.append(Token(Kind.KEYWORD, word.upper(), i, j))
            else:
                tokens.append(Token(Kind.IDENT, word, i, j))
            i = j
        elif ch.isdigit() or (ch == "." and i + 1 < n and sql[i + 1].isdigit()):
            j = _scan_number(sql, i)
            tokens.append(Token(Kind.NUMBER, sql[i:j], i, j))
            i = j
        elif ch == "@":
            j = _scan_variable(sql, i)
            tokens.append(Token(Kind.VARIABLE, sql[i + 1 : j], i, j))
            i = j
        elif ch in "'\"":
            value, j = _scan_string(sql, i)
            tokens.append(Token(Kind.STRING, value, i, j))
            i = j
        else:
            for symbol in SYMBOLS:
                if sql.startswith(symbol, i):
                    tokens.append(Token(Kind.SYMBOL, symbol, i, i + len(symbol)))
                    i += len(symbol)
                    break
            else:
                raise SqlSyntaxError(f"unexpected character {ch!r}", sql, i)
    tokens.append(Token(Kind.EOF, "", n, n))
    return tokens


def _scan_variable(sql: str, start: int) -> int:
    """End of the variable ``@name`` at ``start``, its name checked against the page's
    rules: letters, numbers and underscores, 64 characters at most."""
    j, n = start + 1, len(sql)
    while j < n and (sql[j].isalnum() or sql[j] == "_"):
        j += 1
    name = sql[start + 1 : j]
    if not name:
        raise SqlSyntaxError("expected a variable name after '@'", sql, start)
    if not name.isascii():
        raise SqlSyntaxError(
            f"variable @{name} has a character other than a letter, a number or '_'",
            sql,
            start,
        )
    if len(name) > MAX_VARIABLE_NAME:
        raise SqlSyntaxError(
            f"variable @{name[:20]}... has {len(name)} characters; "
            f"names are {MAX_VARIABLE_NAME} at most",
            sql,
            start,
        )
    return j


def _scan_number(sql: str, i: int) -> int:
    """End of the number starting at ``i`` (digits, fraction, exponent)."""
    n = len(sql)
    while i < n and sql[i].isdigit():
        i += 1
    if i < n and sql[i] == "." and i + 1 < n and sql[i + 1].isdigit():
        i += 1
        while i < n and sql[i].isdigit():
            i += 1
    if i < n and sql[i] in "eE":
        j = i + 1
        if j < n and sql[j] in "+-":
            j += 1
        if j < n and sql[j].isdigit():
            while j < n and sql[j].isdigit():
                j += 1
            i = j
    return i


def _scan_string(sql: str, start: int) -> tuple[str, int]:
    """Decode a quoted literal: a doubled quote is one quote, JSON-style escapes apply.

    An unknown backslash escape keeps its backslash, so regex patterns such as
    ``'\\d+'`` read as written.
    """
    quote = sql[start]
    out: list[str] = []
    i, n = start + 1, len(sql)
    while i < n:
        ch = sql[i]
        if ch == quote:
            if i + 1 < n and sql[i + 1] == quote:
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        if ch == "\\" and i + 1 < n:
            nxt = sql[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "u" and i + 6 <= n:
                try:
                    out.append(chr(int(sql[i + 2 : i + 6], 16)))
                    i += 6
                    continue
                except ValueError:
                    pass
            out.append(ch)
            i += 1
            continue
        out.append(ch)
        i += 1
    raise SqlSyntaxError("unterminated string literal", sql, start)
