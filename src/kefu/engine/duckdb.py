"""The embedded engine: DuckDB. Everything DuckDB-specific that runs definitions is here.

The session is pinned to UTC (T1): timestamps are converted once, at load, into naive local
wall-clock time, and nothing may convert them again.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
from sqlglot import exp

if TYPE_CHECKING:
    from kefu.io.load import Loader

#: DuckDB alone would take 80 % of RAM; 1.5 GB keeps a 10 M-message month under 2 GB of
#: process memory (docs/benchmarks.md) at about a fifth more time, spilling the rest.
DEFAULT_MEMORY_LIMIT = "1536MB"


class DuckDBEngine:
    """A DuckDB session that runs kefu's SQL definitions.

    ``memory_limit`` (e.g. ``"4GB"``; default: the ``KEFU_MEMORY_LIMIT`` environment
    variable, else ``DEFAULT_MEMORY_LIMIT``) caps DuckDB's memory; past it, work spills to
    ``temp_directory`` instead of failing, so memory does not grow with history.
    """

    name = "duckdb"
    dialect = "duckdb"

    def __init__(
        self,
        *,
        memory_limit: str | None = None,
        threads: int | None = None,
        temp_directory: str | None = None,
    ) -> None:
        config: dict[str, Any] = {}
        memory_limit = memory_limit or os.environ.get("KEFU_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
        config["memory_limit"] = memory_limit
        if threads:
            config["threads"] = threads
        config["temp_directory"] = temp_directory or tempfile.gettempdir() + "/kefu-duckdb"
        self.con = duckdb.connect(config=config)
        # T1: pinned after connect; ICU is built in but cannot be configured before it.
        self.con.execute("SET TimeZone = 'UTC'")

    @staticmethod
    def relation_name(namespace: str, relation: str) -> str:
        """An assessment's relations live in a schema of their own: ``kefu_a1.rounds``."""
        return f"{namespace}.{relation}"

    def render(self, tree: exp.Expression) -> str:
        """A bound template (sqlglot tree) as the SQL DuckDB runs: its own dialect."""
        return tree.sql(dialect=self.dialect)

    def load_session(self, inputs: dict[str, list[Path]]) -> DuckDBEngine:
        """The loader checks every input on this session (kefu loads with DuckDB)."""
        return self

    def receive(self, loader: Loader, tables: tuple[str, ...]) -> None:
        """The loader's tables are already this session's (kefu loads with DuckDB)."""
        if loader is not self:
            raise ValueError("a DuckDB engine assesses the tables it loaded itself")

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        # Fetch to the end: DuckDB 2 refuses new work while a result is left unread.
        self.con.execute(sql, params or []).fetchall()

    def namespace(self, name: str) -> None:
        """A schema for one assessment's relations (``name.rounds``), empty if it existed."""
        self.con.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        self.con.execute(f"CREATE SCHEMA {name}")

    def drop_namespace(self, name: str) -> None:
        self.con.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")

    @staticmethod
    def _temp(name: str) -> str:
        # The session's own tables are temporary; an assessment's live in its schema (the
        # database is in memory either way, spilling past the memory limit).
        return "" if "." in name else "TEMP "

    def materialize(self, name: str, sql: str) -> None:
        """Compute ``sql`` once and keep it as table ``name`` for the queries that follow."""
        self.con.execute(f"CREATE OR REPLACE {self._temp(name)}TABLE {name} AS {sql}")

    def view(self, name: str, sql: str) -> None:
        """Name ``sql`` as a view: recomputed by each query that reads it."""
        self.con.execute(f"CREATE OR REPLACE {self._temp(name)}VIEW {name} AS {sql}")

    def drop(self, name: str) -> None:
        """Drop table or view ``name`` if it exists."""
        kinds = self.con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()
        for (kind,) in kinds:
            self.con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} IF EXISTS {name}")

    def register(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table visible to SQL as a table called ``name``."""
        self.con.register(f"__arrow_{name}", table)
        self.materialize(name, f"SELECT * FROM __arrow_{name}")
        self.con.unregister(f"__arrow_{name}")

    def query(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def batches(self, sql: str, rows: int = 100_000) -> pa.RecordBatchReader:
        """``sql``'s rows as a stream of Arrow batches, so a large result is never held whole.

        Read it to the end before the next query: the session serves one result at a time.
        """
        return self.con.sql(sql).to_arrow_reader(rows)

    def scalar(self, sql: str) -> Any:
        rows = self.con.execute(sql).fetchall()
        return rows[0][0] if rows else None

    def columns(self, relation_sql: str) -> list[tuple[str, str]]:
        """(name, type) of each column a relation or table function yields."""
        return [(r[0], r[1]) for r in self.con.execute(f"DESCRIBE {relation_sql}").fetchall()]

    def close(self) -> None:
        self.con.close()
