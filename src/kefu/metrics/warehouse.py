"""The assessment as SQL a warehouse runs: one self-contained statement per level.

``kefu sql`` prints what the engines run, from the same templates, for a data team that
keeps its messages in its own warehouse (Spark/Hive, Trino, BigQuery, Snowflake,
ClickHouse, PostgreSQL, DuckDB). Each statement is one ``WITH`` chain: the input tables,
read from the names the team gives them (``messages=db.chat_messages``), then every audit
relation in the order the engines build them (``kefu.metrics.relations``), then the
level's figures — nothing to create, nothing kept between statements, so it runs with
read-only rights. A relation's own ``WITH`` is hoisted into the chain under its name
(``rounds__opened``), so the chain is flat and any dialect that has CTEs reads it.

The tables hold checked canonical rows (docs/schema.md): senders already ``buyer`` /
``agent`` / ``bot`` / ``system``, times naive local times of the profile's zone (T1),
duplicates removed. T3's file order has no meaning in a warehouse table, so events with
the same time and no ``seq`` are ordered by ``input_order`` — a column the team names (an
export's line number, an ingestion id); without one, ``msg_id`` keeps the order
deterministic (T3, decided for warehouses: any fixed order, since a table has no other).

>>> from kefu.rules.profile import load_profile
>>> sql = statement("shop", Params(load_profile("taobao"), dt.date(2024, 3, 31)))
>>> sql.sql("postgres").startswith("WITH RECURSIVE kefu_messages AS (SELECT")
True

PostgreSQL cannot estimate how many rows a CTE yields and may join two large ones by a
nested loop; ``SET enable_nestloop = off`` for the statement's session avoids it (the
header of its output says so).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from kefu.io.load import HEAVY
from kefu.io.schema import TABLES
from kefu.metrics.assessment import FIGURE_LEVELS
from kefu.metrics.dialects import rendered
from kefu.metrics.figures import level_parts, level_query
from kefu.metrics.params import Params
from kefu.metrics.relations import INPUTS, RELATIONS
from kefu.metrics.templates import DIALECT, parsed_tree, qualify, render

#: The dialects ``kefu sql`` writes (sqlglot's names).
DIALECTS = ("duckdb", "spark", "hive", "trino", "bigquery", "snowflake", "clickhouse", "postgres")

#: What a statement can select: a level's figures, or an audit relation's rows.
AUDIT = ("rounds", "rating_audit", "refusal_audit")
TARGETS = (*FIGURE_LEVELS, *AUDIT)

PREFIX = "kefu_"


class WarehouseError(ValueError):
    """A statement a dialect cannot express, or a table mapping that names no input."""


@dataclass
class _Chain:
    """The CTEs of one statement, in order, and the names the templates' tables get."""

    ctes: list[exp.CTE] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, tree: exp.Expression) -> None:
        """Append ``tree`` as the CTE ``name``, its own ``WITH`` hoisted before it."""
        inner = tree.args.get("with_")
        if isinstance(inner, exp.With):
            tree.set("with_", None)
            own = {cte.alias: f"{name}__{cte.alias}" for cte in inner.expressions}
            for cte in inner.expressions:
                self.ctes.append(_cte(own[cte.alias], qualify(cte.this, own)))
            tree = qualify(tree, own)
        self.ctes.append(_cte(name, tree))

    def select(self, body: exp.Select) -> exp.Select:
        """``body`` headed by the CTEs it reads, directly or through another.

        An audit relation needs only some (the rounds do not read the ratings), so a
        dialect that cannot express one part (Hive: S3's recursive chain) still gets the
        rest. ``RECURSIVE`` only if a kept CTE reads itself.
        """
        needed, kept = _tables(body), []
        for cte in reversed(self.ctes):
            if cte.alias in needed:
                kept.append(cte)
                needed |= _tables(cte.this)
        recursive = any(cte.alias in _tables(cte.this) for cte in kept)
        body.set("with_", exp.With(expressions=kept[::-1], recursive=recursive))
        return body


def _tables(tree: exp.Expression) -> set[str]:
    """The names of the tables (and CTEs) ``tree`` reads."""
    return {table.name for table in tree.find_all(exp.Table)}


def _cte(name: str, tree: exp.Expression) -> exp.CTE:
    return exp.CTE(this=tree, alias=exp.TableAlias(this=exp.to_identifier(name)))


def _input(table: str, source: str, input_order: str | None) -> exp.Expression:
    """The warehouse table ``source`` as the canonical input ``table`` the templates read.

    ``file_no`` and ``row_no`` are the loader's provenance: one "file", and T3's order.
    """
    # The heavy columns (a message's text) are not read by any definition.
    columns = [c.name for c in TABLES[table] if c.name not in HEAVY.get(table, ())]
    sql = f"SELECT {', '.join(f't.{c}' for c in columns)}, 0 AS file_no, "
    sql += f"{_order(columns, input_order)} AS row_no"
    select = parsed_tree(sqlglot.parse_one(sql, read=DIALECT))
    assert isinstance(select, exp.Select)
    return select.from_(exp.alias_(exp.to_table(source), "t"))


def _order(columns: list[str], input_order: str | None) -> str:
    """T3 (decided for warehouses): what orders an input's events with the same time.

    The column the team names; else ``msg_id``; else — a rating has no ID — the row's own
    values, so that of two ratings at the same second the same one counts on every run.
    """
    if input_order:
        return f"t.{input_order}"
    if "msg_id" in columns:
        return "t.msg_id"
    # Ties are only ever broken within one buyer's stream, so the keys need not take part.
    values = [f"CAST(t.{c} AS VARCHAR)" for c in columns if c not in ("shop_id", "buyer_id", "ts")]
    if "ts" in columns and values:  # DuckDB's CONCAT reads NULL as ''; sqlglot keeps that
        return "CONCAT(" + ", '|', ".join(values) + ")"
    return "0"


def statement(
    target: str,
    params: Params,
    tables: Mapping[str, str] | None = None,
    input_order: Mapping[str, str] | None = None,
) -> exp.Select:
    """The statement of ``target`` (a level or an audit relation) as a sqlglot tree.

    ``tables`` maps an input (``messages``) to the warehouse table holding it (default:
    its own name); ``input_order`` names each input's order column for T3's ties.
    """
    check_targets([target])
    sources = {t: t for t in INPUTS} | checked_tables(tables or {})
    orders = checked_orders(input_order or {})
    chain = _Chain()
    for table in INPUTS:
        chain.add(PREFIX + table, _input(table, sources[table], orders.get(table)))
        chain.names[table] = PREFIX + table
    values = params.values()
    for relation in RELATIONS:
        tree = render(relation.template_for(params), values, chain.names)
        chain.add(PREFIX + relation.name, tree)
        chain.names[relation.name] = PREFIX + relation.name
        if relation.name == target:
            return chain.select(exp.select("*").from_(PREFIX + relation.name))
    parts = parsed_tree(sqlglot.parse_one(level_parts(params), read=DIALECT))
    chain.add(PREFIX + "level_parts", qualify(parts, chain.names))
    chain.names["level_parts"] = PREFIX + "level_parts"
    if target == "agent_day":
        body = exp.select("*").from_(PREFIX + "agent_days").order_by("shop_id", "agent_id", "day")
        return chain.select(body)
    query = level_query(target, params, chain.names)
    assert isinstance(query, exp.Select)
    inner = query.args.get("with_")
    if isinstance(inner, exp.With):  # the shop's lines and composite score: into the chain
        query.set("with_", None)
        chain.ctes.extend(inner.expressions)
    return chain.select(query)


def _table_name(text: str) -> str:
    """A (qualified) table name as the warehouse spells it: ``db.chat_messages``."""
    try:
        table = exp.to_table(text)
    except sqlglot.errors.ParseError:
        table = None
    if table is None or not table.name or table.sql() != text.strip():
        raise WarehouseError(f"not a table name: {text!r} (write it as db.table)")
    return text.strip()


def _column_name(text: str) -> str:
    if not text.strip().isidentifier():
        raise WarehouseError(f"not a column name: {text!r}")
    return text.strip()


def _checked(
    mapping: Mapping[str, str], option: str, check: Callable[[str], str]
) -> dict[str, str]:
    """``mapping`` of inputs to names, each input one kefu reads and each name well formed."""
    out = {}
    for table, name in mapping.items():
        if table not in INPUTS:
            raise WarehouseError(
                f"{option} {table}={name}: no input {table!r}; one of {', '.join(INPUTS)}"
            )
        try:
            out[table] = check(name)
        except WarehouseError as exc:
            raise WarehouseError(f"{option} {table}={name}: {exc}") from None
    return out


def checked_tables(mapping: Mapping[str, str], option: str = "tables") -> dict[str, str]:
    """Each input mapped to a well-formed table name; else a WarehouseError naming ``option``.

    >>> checked_tables({"messages": "db.chat"})
    {'messages': 'db.chat'}
    """
    return _checked(mapping, option, _table_name)


def checked_orders(mapping: Mapping[str, str], option: str = "input_order") -> dict[str, str]:
    """Each input mapped to a column name (T3's order of ties); else a WarehouseError."""
    return _checked(mapping, option, _column_name)


def check_dialect(dialect: str, option: str = "dialect") -> None:
    if dialect not in DIALECTS:
        raise WarehouseError(f"{option} {dialect!r}: one of {', '.join(DIALECTS)}")


def check_targets(targets: Sequence[str], option: str = "targets") -> None:
    for target in targets:
        if target not in TARGETS:
            raise WarehouseError(
                f"{option} {target!r}: no level or audit relation; one of {', '.join(TARGETS)}"
            )


def assessment_sql(
    params: Params,
    dialect: str = "duckdb",
    targets: Sequence[str] = FIGURE_LEVELS,
    tables: Mapping[str, str] | None = None,
    input_order: Mapping[str, str] | None = None,
    *,
    pretty: bool = True,
) -> str:
    """The statements of ``targets`` in ``dialect``, each headed by what it computes.

    >>> from kefu.rules.profile import load_profile
    >>> text = assessment_sql(Params(load_profile("tmall"), dt.date(2024, 3, 31)), "trino")
    >>> text.count("-- figures per")
    6
    """
    check_dialect(dialect)
    check_targets(targets)
    last_day = params.window_end - dt.timedelta(days=1)
    window = f"{params.window_start:%Y-%m-%d} – {last_day:%Y-%m-%d}"
    out = [
        f"-- kefu: the {params.profile.name} assessment as of {params.as_of} (window {window}), "
        f"in {dialect} SQL.",
        "-- Each statement reads the canonical input tables; it creates nothing.",
    ]
    if dialect == "postgres":
        out.append("-- PostgreSQL: SET enable_nestloop = off first (it misjudges CTE sizes).")
    for target in targets:
        what = f"figures per {target}" if target in FIGURE_LEVELS else f"the {target} rows"
        tree = statement(target, params, tables, input_order)
        try:
            text = rendered(tree, dialect, pretty=pretty)
        except sqlglot.errors.UnsupportedError as exc:
            why = f"{dialect} cannot express {what}: {exc}"
            if tree.args["with_"].args.get("recursive"):
                why += " (S3's 24-hour rating periods chain from rating to rating: WITH RECURSIVE)"
            raise WarehouseError(why) from None
        out += ["", f"-- {what}", text + ";"]
    return "\n".join(out) + "\n"
