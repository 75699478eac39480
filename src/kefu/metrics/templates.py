"""The definitions as data: ``sql/*.sql`` parsed once, bound from a profile, rendered per engine.

Each audit relation is one SQL file in DuckDB's dialect with named placeholders
(``wait_s <= :response_limit_s``). It is parsed once with sqlglot (a typo fails the unit
test that parses every file, not an assessment), its placeholders are replaced by the
profile's values as typed literals, and the relations and input tables it reads are
renamed to the names one assessment gives them — so two assessments (this window and the
previous one, two web requests) live side by side in one session. The same bound tree
renders as DuckDB SQL here and as Spark SQL on a cluster.

>>> bound = render("own_accounts", {}, {"accounts": "a1.accounts"})
>>> bound.sql("duckdb")
'SELECT DISTINCT shop_id, account FROM a1.accounts'
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from importlib import resources

import sqlglot
from sqlglot import exp

#: The dialect the templates are written in.
DIALECT = "duckdb"

Value = bool | int | float | str | dt.datetime | exp.Expression


class TemplateError(ValueError):
    """A template that does not parse, or a placeholder with no value."""


def template_names() -> list[str]:
    """Every template in ``kefu/metrics/sql``, without the ``.sql``."""
    folder = resources.files("kefu.metrics").joinpath("sql")
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".sql"))


@functools.cache
def parsed(name: str) -> exp.Expression:
    """The parsed template ``name`` (cached; callers get a copy from :func:`render`)."""
    text = resources.files("kefu.metrics").joinpath("sql", f"{name}.sql").read_text("utf-8")
    try:
        tree = sqlglot.parse_one(text, read=DIALECT)
    except sqlglot.errors.ParseError as exc:
        raise TemplateError(f"sql/{name}.sql: {exc}") from None
    return parsed_tree(tree)


def parsed_tree(tree: object) -> exp.Expression:
    """``sqlglot.parse_one``'s result as the expression it is (its annotation is wider)."""
    assert isinstance(tree, exp.Expression)
    return tree


def placeholders(name: str) -> set[str]:
    """The named placeholders template ``name`` needs."""
    return {p.name for p in parsed(name).find_all(exp.Placeholder)}


def literal(value: Value) -> exp.Expression:
    """A Python value as a typed SQL literal.

    A fraction is a DOUBLE (DuckDB would read ``0.9`` as a DECIMAL), a time a TIMESTAMP.

    >>> literal(0.9).sql("duckdb")
    'CAST(0.9 AS DOUBLE)'
    >>> literal(dt.datetime(2024, 3, 1)).sql("duckdb")
    "CAST('2024-03-01 00:00:00' AS TIMESTAMP)"
    """
    if isinstance(value, exp.Expression):
        return value
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        return exp.cast(exp.Literal.number(repr(value)), exp.DataType.build("DOUBLE"))
    if isinstance(value, dt.datetime):
        text = exp.Literal.string(f"{value:%Y-%m-%d %H:%M:%S}")
        return exp.cast(text, exp.DataType.build("TIMESTAMP"))
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise TemplateError(f"no SQL literal for {value!r}")


def qualify(tree: exp.Expression, names: Mapping[str, str]) -> exp.Expression:
    """Rename the tables ``tree`` reads: ``rounds`` → ``a1.rounds`` (in place)."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and not node.args.get("db") and node.name in names:
            renamed = exp.to_table(names[node.name])
            renamed.set("alias", node.args.get("alias"))
            return renamed
        return node

    return parsed_tree(tree.transform(swap, copy=False))


def bind(tree: exp.Expression, values: Mapping[str, Value], where: str) -> exp.Expression:
    """Replace every placeholder of ``tree`` by its value (in place); a missing one is an error."""
    missing = sorted({p.name for p in tree.find_all(exp.Placeholder)} - set(values))
    if missing:
        raise TemplateError(f"{where}: no value for {', '.join(':' + m for m in missing)}")

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder):
            # A value is used as an operand: parenthesise an expression so precedence holds.
            value = literal(values[node.name])
            return value if not isinstance(value, exp.Binary) else exp.paren(value.copy())
        return node

    return parsed_tree(tree.transform(swap, copy=False))


def render(name: str, values: Mapping[str, Value], names: Mapping[str, str]) -> exp.Expression:
    """Template ``name`` bound to ``values``, reading the relations and tables in ``names``."""
    tree = parsed(name).copy()
    return qualify(bind(tree, values, f"sql/{name}.sql"), names)
