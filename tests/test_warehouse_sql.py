"""``kefu sql``: the emitted SQL, run on other engines, gives kefu's figures.

The input is a demo month made harder (tests/parity.py: rows without ``seq``, equal
timestamps, same-day re-ratings), assessed by ``kefu.assess``. The tables it loaded are
handed to each engine as a warehouse would hold them: the canonical columns plus ``line``,
the export's line number, named as T3's order of ties (``--input-order messages=line``).
The statements then run unmodified on DuckDB, PostgreSQL (a real server) and Spark, and
every level and every audit relation must equal kefu's: counts exactly, floats to 1e-9.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from parity import assert_same_table, write_hard_data
from typer.testing import CliRunner

import kefu
from kefu.cli import app
from kefu.metrics.dialects import rendered
from kefu.metrics.params import Params
from kefu.metrics.relations import INPUTS
from kefu.metrics.warehouse import (
    AUDIT,
    DIALECTS,
    TARGETS,
    WarehouseError,
    assessment_sql,
    statement,
)
from kefu.rules.profile import load_profile

AS_OF = dt.date(2024, 3, 1)
PROFILES = ("taobao", "tmall", "1688")
#: The inputs whose rows have an order (T3); the others are lookups.
ORDERED = ("messages", "ratings", "refusals")
WAREHOUSE = {table: f"w_{table}" for table in INPUTS}
LINES = {table: "line" for table in ORDERED}


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("warehouse")
    write_hard_data(folder, AS_OF, seeds=(7,))
    return folder


@pytest.fixture(scope="module")
def results(month) -> dict[str, kefu.Result]:
    return {profile: kefu.assess(month, profile, AS_OF) for profile in PROFILES}


@pytest.fixture(scope="module")
def warehouse(results) -> dict[str, pa.Table]:
    """kefu's checked input tables as a warehouse holds them: ``line`` is T3's order.

    One input file, so ``file_no`` is 0 and ``line`` is kefu's own ``row_no``: the audit
    relations' ``row_no`` (the order value) then equals kefu's.
    """
    assessment = results["taobao"].assessment
    out = {}
    for table in INPUTS:
        rows = assessment.query(f"SELECT * FROM {table}")
        if "row_no" in rows.column_names:
            assert set(rows["file_no"].to_pylist()) <= {0}
            rows = rows.append_column("line", rows["row_no"]).drop_columns(["file_no", "row_no"])
        out[table] = rows
    assert out["messages"].num_rows > 100_000
    return out


def expected(result: kefu.Result, target: str) -> pa.Table:
    """kefu's own rows of ``target``: a level's figures, or an audit relation in full."""
    if target in AUDIT:
        columns = result.assessment.relation(target, "FALSE").column_names
        return result.assessment.relation(target, order=", ".join(columns))
    return result.figures[target]


def duckdb_rows(relation: duckdb.DuckDBPyRelation, target: str) -> pa.Table:
    """A level's rows as they come; an audit relation (no order of its own) in kefu's order.

    ``expected`` sorts an audit relation by every column in DuckDB; so is it sorted here.
    """
    if target in AUDIT:
        relation = relation.order(", ".join(relation.columns))
    return relation.to_arrow_table()


def _key(row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple((v is None, float(v) if isinstance(v, decimal.Decimal) else v) for v in row)


def assert_same_values(
    want: pa.Table, names: Sequence[str], rows: Sequence[Sequence[Any]], target: str
) -> int:
    """An engine's rows (any Python types) equal kefu's: exact, floats to 1e-9.

    An audit relation has no order of its own: both sides are sorted by every column.
    """
    assert list(names) == want.column_names, target
    assert len(rows) == want.num_rows, target
    expect = [tuple(row.values()) for row in want.to_pylist()]
    if target in AUDIT:
        expect, rows = sorted(expect, key=_key), sorted(rows, key=_key)
    compared = 0
    for x, y in zip(expect, rows, strict=True):
        for name, u, v in zip(names, x, y, strict=True):
            v = float(v) if isinstance(v, decimal.Decimal) else v
            if isinstance(u, float) and isinstance(v, float | int):
                same = math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9)
            else:
                same = u == v
            assert same, f"{target} {name}: kefu {u!r}, engine {v!r} in {x}"
            compared += 1
    return compared


@pytest.mark.parametrize("profile", PROFILES)
def test_duckdb_runs_the_emitted_sql_and_gets_kefus_figures(results, warehouse, profile):
    result = results[profile]
    con = duckdb.connect()
    for table, rows in warehouse.items():
        con.register(f"rows_{table}", rows)
        con.execute(f"CREATE TABLE w_{table} AS SELECT * FROM rows_{table}")
    compared = 0
    for target in TARGETS:
        sql = rendered(statement(target, result.params, WAREHOUSE, LINES), "duckdb")
        got = duckdb_rows(con.sql(sql), target)
        compared += assert_same_table(expected(result, target), got, f"{profile} {target}")
    assert compared > 50_000


def _postgres_type(field: pa.Field) -> str:
    types = {
        pa.types.is_string: "TEXT",
        pa.types.is_large_string: "TEXT",
        pa.types.is_integer: "BIGINT",
        pa.types.is_floating: "DOUBLE PRECISION",
        pa.types.is_boolean: "BOOLEAN",
        pa.types.is_timestamp: "TIMESTAMP",
        pa.types.is_date: "DATE",
    }
    for test, name in types.items():
        if test(field.type):
            return name
    raise AssertionError(f"no PostgreSQL type for {field}")


def _load_postgres(pg: Any, tables: Mapping[str, pa.Table]) -> None:
    for table, rows in tables.items():
        columns = ", ".join(f"{f.name} {_postgres_type(f)}" for f in rows.schema)
        pg.execute(f"DROP TABLE IF EXISTS w_{table}")
        pg.execute(f"CREATE TABLE w_{table} ({columns})")
        with pg.cursor().copy(f"COPY w_{table} FROM STDIN") as copy:
            for row in rows.to_pylist():
                copy.write_row(tuple(row.values()))
        pg.execute(f"ANALYZE w_{table}")


@pytest.fixture(scope="module")
def postgres(warehouse, postgres_dsn) -> Any:
    """A connection to a real PostgreSQL server holding the warehouse tables."""
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(postgres_dsn, autocommit=True) as pg:
        _load_postgres(pg, warehouse)
        yield pg


@pytest.mark.parametrize("profile", ["taobao", "1688"])
def test_postgres_runs_the_emitted_sql_and_gets_kefus_figures(results, postgres, profile):
    """A real PostgreSQL server, the statements as ``kefu sql --dialect postgres`` prints."""
    result = results[profile]
    postgres.execute("SET enable_nestloop = off")  # as the output's header says (a CTE's size)
    text = assessment_sql(result.params, "postgres", TARGETS, WAREHOUSE, LINES)
    statements = re.split(r"\n\n(?=-- )", text)[1:]  # each block: its heading, then its SQL
    assert len(statements) == len(TARGETS)
    compared = 0
    for target, sql in zip(TARGETS, statements, strict=True):
        cursor = postgres.execute(sql)
        names = [column.name for column in cursor.description]
        compared += assert_same_values(expected(result, target), names, cursor.fetchall(), target)
    assert compared > 50_000


@pytest.mark.spark
def test_spark_runs_the_emitted_sql_unmodified(results, warehouse, spark_engine, tmp_path):
    spark = spark_engine.spark
    for table, rows in warehouse.items():
        pq.write_table(rows, tmp_path / f"{table}.parquet")
        path = str(tmp_path / f"{table}.parquet").replace("`", "``")
        spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW w_{table} AS SELECT * FROM parquet.`{path}`")
    result = results["tmall"]
    compared = 0
    for target in TARGETS:
        sql = rendered(statement(target, result.params, WAREHOUSE, LINES), "spark")
        got = spark.sql(sql)
        rows = [tuple(row) for row in got.collect()]
        compared += assert_same_values(expected(result, target), got.columns, rows, target)
    assert compared > 50_000


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_gets_every_statement_that_it_can_express(profile, dialect):
    params = Params(load_profile(profile), AS_OF)
    recursive = profile != "1688"  # S3's 24-hour chain: taobao and tmall use it
    if dialect == "hive" and recursive:  # what reads the chain fails; the rest is printed
        for target in TARGETS:
            if target in ("rounds", "refusal_audit", "agent_day"):
                assert sqlglot.parse(assessment_sql(params, dialect, [target]), read=dialect)
                continue
            with pytest.raises(WarehouseError, match="WITH RECURSIVE"):
                assessment_sql(params, dialect, [target])
        return
    text = assessment_sql(params, dialect, TARGETS, {"messages": "db.chat_messages"})
    statements = sqlglot.parse(text, read=dialect)  # what it printed, it reads back
    assert len([s for s in statements if s is not None]) == len(TARGETS)
    tables = {
        ".".join(part.name for part in table.parts)
        for s in statements
        if s is not None
        for table in s.find_all(sqlglot.exp.Table)
    }
    assert "db.chat_messages" in tables and "messages" not in tables


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dialect", "oracle"], "--dialect 'oracle': one of duckdb, spark"),
        (["--only", "week"], "--only 'week': no level or audit relation"),
        (["--table", "messages"], "--table"),
        (["--table", "chats=db.c"], "--table chats=db.c: no input 'chats'"),
        (["--table", "messages=db.chat messages"], "not a table name"),
        (["--input-order", "messages=line no"], "not a column name: 'line no'"),
        (["--as-of", "2024-13-01"], "--as-of"),
    ],
)
def test_bad_options_are_one_line(args, message):
    base = ["sql", "--as-of", AS_OF.isoformat()]
    result = CliRunner().invoke(app, [*base, *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_kefu_sql_writes_the_chosen_statements(tmp_path):
    out = tmp_path / "kefu.sql"
    args = ["sql", "--as-of", "2024-03-01", "--dialect", "trino", "--only", "shop"]
    args += ["--only", "rounds", "--table", "messages=lake.chat", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    text = out.read_text("utf-8")
    assert text.count("\n-- figures per ") == 1 and "\n-- the rounds rows" in text
    assert "lake.chat" in text
    assert len(sqlglot.parse(text, read="trino")) == 2
