"""Malformed SQL fails at registration with a position, as CreateTopicRule would."""

from __future__ import annotations

import pytest

from emulator.rules.sql import SqlSyntaxError, ast, compile_query, parse_query


@pytest.mark.parametrize(
    ("sql", "column", "fragment"),
    [
        ("SELEC * FROM 'a'", 1, "expected SELECT"),
        ("SELECT FROM 'a'", 8, "unexpected keyword FROM"),
        ("SELECT a, FROM 'a'", 11, "unexpected keyword FROM"),
        ("SELECT * FROM a", 15, "quoted topic filter"),
        ("SELECT * FROM 'a/#/b'", 15, "invalid topic filter"),
        ("SELECT * FROM 'a/b+'", 15, "invalid topic filter"),
        ("SELECT * FROM 'a' WHERE", 24, "end of input"),
        ("SELECT * FROM 'a' WHERE x = ", 29, "end of input"),
        ("SELECT * FROM 'a' WHERE x = 1 = 2", 31, "chained"),
        ("SELECT (a FROM 'a'", 11, "expected ')'"),
        ("SELECT 'abc FROM 'a'", 20, "unterminated string"),
        ("SELECT a AS FROM 'a'", 13, "column name after AS"),
        ("SELECT cast(a AS Widget) FROM 'a'", 18, "unknown cast type"),
        ("SELECT nosuchfn(a) FROM 'a'", 8, "unknown function"),
        ("SELECT CASE WHEN a THEN 1 FROM 'a'", 27, "expected END"),
        ("SELECT CASE a END FROM 'a'", 15, "at least one WHEN"),
        ("SELECT a # b FROM 'a'", 10, "unexpected character"),
        ("SELECT * FROM 'a' garbage", 19, "unexpected identifier"),
        ("SELECT VALUE a, b FROM 'a'", 19, "exactly one"),
        ("SELECT a.[1] FROM 'a'", 10, "field name after '.'"),
    ],
)
def test_syntax_error_position(sql: str, column: int, fragment: str) -> None:
    with pytest.raises(SqlSyntaxError) as caught:
        compile_query(sql)
    err = caught.value
    assert fragment in str(err)
    assert (err.line, err.column) == (1, column), str(err)


def test_multiline_position() -> None:
    with pytest.raises(SqlSyntaxError) as caught:
        compile_query("SELECT *\nFROM 'a'\nWHERE a = = 1")
    assert (caught.value.line, caught.value.column) == (3, 11)


def test_precedence_tree() -> None:
    where = parse_query("SELECT * FROM 'a' WHERE NOT a = 1 OR b AND c > 1 + 2 * 3").where
    assert isinstance(where, ast.Binary) and where.op == "OR"
    assert isinstance(where.left, ast.Unary) and where.left.op == "NOT"
    right = where.right
    assert isinstance(right, ast.Binary) and right.op == "AND"
    comparison = right.right
    assert isinstance(comparison, ast.Binary) and comparison.op == ">"
    assert isinstance(comparison.right, ast.Binary) and comparison.right.op == "+"


def test_keywords_are_case_insensitive() -> None:
    query = parse_query("select * from 'a' where a = 1 and not b")
    assert query.topic_filter == "a"
    assert isinstance(query.where, ast.Binary) and query.where.op == "AND"


def test_alias_forms() -> None:
    items = parse_query("SELECT a AS x, b AS 'y z', c AS timestamp, upper(d) FROM 'a'").items
    assert [i.name for i in items] == ["x", "y z", "timestamp", "upper(d)"]
