"""Hand-written recursive-descent parser: IoT SQL text to an ast.Query.

Precedence, lowest first: OR, AND, NOT, comparison (= <> != < <= > >= IN),
additive (+ -), multiplicative (* / %), unary minus, postfix (.name, [index]).

A statement may open with a SET clause ("SET clause",
https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-set.html):
``SET @a = expr [, @b = expr] SELECT ...``. The page's syntax rules are checked here,
so a rule that breaks one fails to compile: SET comes once, before SELECT; each
variable is assigned once; at most 10 variables ("SET clause limits"); a variable is
used only after its assignment (an assignment sees the ones before it).
"""

from __future__ import annotations

from emulator.rules.sql import ast
from emulator.rules.sql.errors import SqlSyntaxError
from emulator.rules.sql.lexer import Kind, Token, tokenize
from emulator.rules.sql.topics import filter_problem
from emulator.rules.sql.values import normalize_number

CAST_TYPES = {
    "string": "String", "nvarchar": "String", "text": "String", "ntext": "String",
    "varchar": "String", "int": "Int", "integer": "Int", "double": "Double",
    "decimal": "Decimal", "bool": "Bool", "boolean": "Bool",
}  # fmt: skip

_COMPARISONS = frozenset({"=", "<>", "!=", "<", "<=", ">", ">="})

MAX_VARIABLES = 10  # "Maximum of 10 unique variables per SQL statement"


def parse_query(sql: str) -> ast.Query:
    """Parse a whole ``[SET ...] SELECT ... FROM '...' [WHERE ...]`` statement."""
    return _Parser(sql, {}).query()


def parse_expression(text: str) -> ast.Node:
    """Parse one expression (the inside of a ``${...}`` substitution template).

    Its variables are not resolved here (slot None): the template is parsed apart
    from its rule's SQL, which checks them when the rule is built.
    """
    parser = _Parser(text, None)
    node = parser.expression()
    parser.expect_eof()
    return node


class _Parser:
    """One parse of one text; tokens are produced up front."""

    def __init__(self, sql: str, variables: dict[str, int] | None) -> None:
        self.sql = sql
        self.tokens = tokenize(sql)
        self.i = 0
        # name -> slot of the variables assigned so far; None: any name (a template)
        self.variables = variables

    # -- token helpers -------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        if token.kind is not Kind.EOF:
            self.i += 1
        return token

    def is_symbol(self, *symbols: str) -> bool:
        return self.tok.kind is Kind.SYMBOL and self.tok.value in symbols

    def is_keyword(self, *words: str) -> bool:
        return self.tok.kind is Kind.KEYWORD and self.tok.value in words

    def error(self, message: str, token: Token | None = None) -> SqlSyntaxError:
        return SqlSyntaxError(message, self.sql, (token or self.tok).pos)

    def expect_symbol(self, symbol: str) -> Token:
        if not self.is_symbol(symbol):
            raise self.error(f"expected {symbol!r}, found {self.describe()}")
        return self.advance()

    def expect_keyword(self, word: str) -> Token:
        if not self.is_keyword(word):
            raise self.error(f"expected {word}, found {self.describe()}")
        return self.advance()

    def expect_eof(self) -> None:
        if self.tok.kind is not Kind.EOF:
            raise self.error(f"unexpected {self.describe()}")

    def describe(self) -> str:
        token = self.tok
        if token.kind is Kind.EOF:
            return "end of input"
        return f"{token.kind.value} {self.sql[token.pos : token.end]!r}"

    # -- statement -----------------------------------------------------------------

    def query(self) -> ast.Query:
        assignments = self.set_clause() if self._at_set() else ()
        self.expect_keyword("SELECT")
        value = self._value_keyword()
        items = [self.select_item()]
        while self.is_symbol(","):
            self.advance()
            items.append(self.select_item())
        if value and (len(items) != 1 or isinstance(items[0].expr, ast.Star)):
            raise self.error("SELECT VALUE takes exactly one expression")
        topic_filter, filter_pos = None, self.tok.pos
        if self.is_keyword("FROM"):
            self.advance()
            token = self.tok
            if token.kind is not Kind.STRING:
                raise self.error(f"expected a quoted topic filter, found {self.describe()}")
            problem = filter_problem(token.value)
            if problem:
                raise self.error(f"invalid topic filter: {problem}", token)
            topic_filter, filter_pos = token.value, token.pos
            self.advance()
        where = None
        if self.is_keyword("WHERE"):
            self.advance()
            where = self.expression()
        if self._at_set():
            raise self.error("the SET clause must come before SELECT")
        self.expect_eof()
        return ast.Query(
            self.sql, tuple(items), value, topic_filter, where, filter_pos, assignments
        )

    def _at_set(self) -> bool:
        """``SET`` is not a keyword (a field may be called so): it is a clause only as a
        statement's first word, and named in errors where it appears out of place."""
        token = self.tok
        return token.kind is Kind.IDENT and token.value.upper() == "SET"

    def set_clause(self) -> tuple[ast.Assignment, ...]:
        """``SET @name = expr [, @name = expr]...``, checked against the page's rules."""
        self.advance()
        variables: dict[str, int] = {}
        self.variables = variables
        assignments: list[ast.Assignment] = []
        while True:
            token = self.tok
            if token.kind is not Kind.VARIABLE:
                raise self.error(f"expected a variable (@name) to SET, found {self.describe()}")
            if token.value in variables:
                raise self.error(
                    f"variable @{token.value} is already assigned: variables are immutable, "
                    "each is assigned once"
                )
            if len(variables) == MAX_VARIABLES:
                raise self.error(f"a statement sets at most {MAX_VARIABLES} variables")
            self.advance()
            self.expect_symbol("=")
            expr = self.set_value()
            # Known only from here on: its own expression cannot use it.
            variables[token.value] = len(assignments)
            assignments.append(ast.Assignment(token.pos, token.value, expr))
            if not self.is_symbol(","):
                break
            self.advance()
        if self._at_set():
            raise self.error(
                "SET can be used once per statement: separate its variables with commas"
            )
        if not self.is_keyword("SELECT"):
            raise self.error(
                f"expected ',' or SELECT after a SET assignment, found {self.describe()}"
            )
        return tuple(assignments)

    def set_value(self) -> ast.Node:
        """An assignment's expression; a lone ``*`` is the JSON payload as it is."""
        if self.is_symbol("*"):
            after = self.peek()
            if (after.kind is Kind.SYMBOL and after.value == ",") or (
                after.kind is Kind.KEYWORD and after.value == "SELECT"
            ):
                return ast.Star(self.advance().pos)
        return self.expression()

    def subquery(self) -> ast.Node:
        """A nested SELECT over an array of the message ("Nested object queries",
        https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-nested-queries.html)."""
        start = self.expect_keyword("SELECT")
        value = self._value_keyword()
        items = [self.select_item()]
        while self.is_symbol(","):
            self.advance()
            items.append(self.select_item())
        if value and (len(items) != 1 or isinstance(items[0].expr, ast.Star)):
            raise self.error("SELECT VALUE takes exactly one expression")
        self.expect_keyword("FROM")
        source = self.expression()
        where = None
        if self.is_keyword("WHERE"):
            self.advance()
            where = self.expression()
        return ast.SubQuery(start.pos, tuple(items), value, source, where)

    def _value_keyword(self) -> bool:
        """``SELECT VALUE expr``; a field that happens to be called ``value`` still works."""
        token = self.tok
        if token.kind is not Kind.IDENT or token.value.upper() != "VALUE":
            return False
        nxt = self.peek()
        if nxt.kind is Kind.EOF or (nxt.kind is Kind.SYMBOL and nxt.value in ",.[("):
            return False
        if nxt.kind is Kind.KEYWORD and nxt.value in ("FROM", "AS"):
            return False
        self.advance()
        return True

    def select_item(self) -> ast.SelectItem:
        start = self.tok
        if self.is_symbol("*"):
            self.advance()
            return ast.SelectItem(ast.Star(start.pos), "*")
        expr = self.expression()
        end = self.tokens[self.i - 1].end
        if self.is_keyword("AS"):
            self.advance()
            alias = self.tok
            clause = alias.kind is Kind.KEYWORD and alias.value in ("FROM", "WHERE")
            if alias.kind not in (Kind.IDENT, Kind.KEYWORD, Kind.STRING) or clause:
                raise self.error(f"expected a column name after AS, found {self.describe()}")
            self.advance()
            name = alias.value if alias.kind is not Kind.KEYWORD else self._source(alias)
            return ast.SelectItem(expr, name)
        return ast.SelectItem(expr, _default_name(expr, self.sql[start.pos : end]))

    def _source(self, token: Token) -> str:
        return self.sql[token.pos : token.end]

    # -- expressions ---------------------------------------------------------------

    def expression(self) -> ast.Node:
        return self.or_expr()

    def or_expr(self) -> ast.Node:
        node = self.and_expr()
        while self.is_keyword("OR"):
            token = self.advance()
            node = ast.Binary(token.pos, "OR", node, self.and_expr())
        return node

    def and_expr(self) -> ast.Node:
        node = self.not_expr()
        while self.is_keyword("AND"):
            token = self.advance()
            node = ast.Binary(token.pos, "AND", node, self.not_expr())
        return node

    def not_expr(self) -> ast.Node:
        if self.is_keyword("NOT"):
            token = self.advance()
            return ast.Unary(token.pos, "NOT", self.not_expr())
        return self.comparison()

    def comparison(self) -> ast.Node:
        node = self.additive()
        if self.tok.kind is Kind.SYMBOL and self.tok.value in _COMPARISONS:
            token = self.advance()
            op = "<>" if token.value == "!=" else token.value
            node = ast.Binary(token.pos, op, node, self.additive())
        elif self.is_keyword("IN"):
            token = self.advance()
            node = ast.Binary(token.pos, "IN", node, self.additive())
        if (self.tok.kind is Kind.SYMBOL and self.tok.value in _COMPARISONS) or self.is_keyword(
            "IN"
        ):
            raise self.error("comparisons cannot be chained; use AND")
        return node

    def additive(self) -> ast.Node:
        node = self.multiplicative()
        while self.is_symbol("+", "-"):
            token = self.advance()
            node = ast.Binary(token.pos, token.value, node, self.multiplicative())
        return node

    def multiplicative(self) -> ast.Node:
        node = self.unary()
        while self.is_symbol("*", "/", "%"):
            token = self.advance()
            node = ast.Binary(token.pos, token.value, node, self.unary())
        return node

    def unary(self) -> ast.Node:
        if self.is_symbol("-"):
            token = self.advance()
            operand = self.unary()
            if isinstance(operand, ast.Literal) and type(operand.value) in (int, float):
                return ast.Literal(token.pos, -operand.value)
            return ast.Unary(token.pos, "-", operand)
        if self.is_symbol("+"):
            self.advance()
            return self.unary()
        return self.postfix(self.primary())

    def postfix(self, node: ast.Node) -> ast.Node:
        while True:
            if self.is_symbol("."):
                self.advance()
                token = self.tok
                if token.kind not in (Kind.IDENT, Kind.KEYWORD):
                    raise self.error(f"expected a field name after '.', found {self.describe()}")
                self.advance()
                node = ast.Member(token.pos, node, self._source(token))
            elif self.is_symbol("["):
                token = self.advance()
                index = self.expression()
                self.expect_symbol("]")
                node = ast.Index(token.pos, node, index)
            else:
                return node

    def primary(self) -> ast.Node:
        token = self.tok
        kind = token.kind
        if kind is Kind.NUMBER:
            self.advance()
            return ast.Literal(token.pos, _number(token.value))
        if kind is Kind.STRING:
            self.advance()
            return ast.Literal(token.pos, token.value)
        if kind is Kind.KEYWORD:
            if token.value in ("TRUE", "FALSE"):
                self.advance()
                return ast.Literal(token.pos, token.value == "TRUE")
            if token.value == "NULL":
                self.advance()
                return ast.Literal(token.pos, None)
            if token.value == "CASE":
                return self.case()
            raise self.error(f"unexpected keyword {token.value}")
        if kind is Kind.VARIABLE:
            return self.variable()
        if kind is Kind.IDENT:
            self.advance()
            if self.is_symbol("("):
                return self.call(token)
            return ast.Field(token.pos, token.value)
        if self.is_symbol("("):
            self.advance()
            node = self.subquery() if self.is_keyword("SELECT") else self.expression()
            self.expect_symbol(")")
            return node
        if self.is_symbol("{"):
            return self.object_literal()
        if self.is_symbol("["):
            return self.array_literal()
        if kind is Kind.EOF:
            raise self.error("unexpected end of input, expected an expression")
        raise self.error(f"unexpected {self.describe()}, expected an expression")

    def variable(self) -> ast.Node:
        """A reference to a SET variable, which must be assigned before it is used."""
        token = self.tok
        if self.variables is None:
            self.advance()
            return ast.Variable(token.pos, token.value, None)
        slot = self.variables.get(token.value)
        if slot is None:
            raise self.error(
                f"undefined variable @{token.value}: assign it in the SET clause, "
                "before the expression that uses it"
            )
        self.advance()
        return ast.Variable(token.pos, token.value, slot)

    def call(self, name_token: Token) -> ast.Node:
        name = name_token.value.lower()
        self.expect_symbol("(")
        if name == "cast":
            expr = self.expression()
            self.expect_keyword("AS")
            type_token = self.tok
            cast_type = CAST_TYPES.get(type_token.value.lower())
            if type_token.kind is not Kind.IDENT or cast_type is None:
                raise self.error(f"unknown cast type {self._source(type_token)!r}")
            self.advance()
            self.expect_symbol(")")
            return ast.Cast(name_token.pos, expr, cast_type)
        args: list[ast.Node] = []
        if not self.is_symbol(")"):
            while True:
                args.append(self.argument())
                if not self.is_symbol(","):
                    break
                self.advance()
        self.expect_symbol(")")
        return ast.Call(name_token.pos, name, tuple(args))

    def argument(self) -> ast.Node:
        if self.is_symbol("*") and self.peek().kind is Kind.SYMBOL and self.peek().value in ",)":
            return ast.Star(self.advance().pos)
        return self.expression()

    def case(self) -> ast.Node:
        start = self.expect_keyword("CASE")
        subject = None if self.is_keyword("WHEN") else self.expression()
        whens: list[tuple[ast.Node, ast.Node]] = []
        while self.is_keyword("WHEN"):
            self.advance()
            condition = self.expression()
            self.expect_keyword("THEN")
            whens.append((condition, self.expression()))
        if not whens:
            raise self.error("CASE needs at least one WHEN")
        default = None
        if self.is_keyword("ELSE"):
            self.advance()
            default = self.expression()
        self.expect_keyword("END")
        return ast.Case(start.pos, subject, tuple(whens), default)

    def object_literal(self) -> ast.Node:
        start = self.expect_symbol("{")
        items: list[tuple[str, ast.Node]] = []
        if not self.is_symbol("}"):
            while True:
                key = self.tok
                if key.kind not in (Kind.STRING, Kind.IDENT):
                    raise self.error(f"expected an object key, found {self.describe()}")
                self.advance()
                self.expect_symbol(":")
                items.append((key.value, self.expression()))
                if not self.is_symbol(","):
                    break
                self.advance()
        self.expect_symbol("}")
        return ast.ObjectLit(start.pos, tuple(items))

    def array_literal(self) -> ast.Node:
        start = self.expect_symbol("[")
        items: list[ast.Node] = []
        if not self.is_symbol("]"):
            while True:
                items.append(self.expression())
                if not self.is_symbol(","):
                    break
                self.advance()
        self.expect_symbol("]")
        return ast.ArrayLit(start.pos, tuple(items))


def _number(text: str) -> int | float:
    if "." in text or "e" in text or "E" in text:
        return normalize_number(float(text))
    return int(text)


def _default_name(expr: ast.Node, source: str) -> str:
    """Output key of a column without AS: a field's own name, else its source text."""
    if isinstance(expr, ast.Field):
        return expr.name
    if isinstance(expr, ast.Member):
        return expr.name
    if isinstance(expr, ast.Variable):  # named like a field (the SET page shows none without AS)
        return expr.name
    return source.strip()
