"""An engine that runs every definition after a DuckDB → Spark → DuckDB trip through sqlglot.

It wraps the DuckDB engine an assessment was loaded on: what the definitions send is
transpiled to Spark SQL and back before DuckDB runs it, so a construct sqlglot cannot
carry to Spark (or back) fails here, without a JVM.
"""

from __future__ import annotations

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from kefu.engine.duckdb import DuckDBEngine


def round_trip(sql: str) -> str:
    """``sql`` (DuckDB) as Spark SQL and back; raises on anything sqlglot cannot carry."""
    spark = sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE)
    assert len(spark) == 1, sql
    back = sqlglot.transpile(
        spark[0], read="spark", write="duckdb", unsupported_level=ErrorLevel.RAISE
    )
    assert len(back) == 1, spark[0]
    return back[0]


class RoundTripEngine:
    """The engine protocol of ``kefu.metrics.assessment``, over a loaded DuckDB engine."""

    dialect = "duckdb"

    def __init__(self, inner: DuckDBEngine) -> None:
        self.inner = inner
        self.statements: list[str] = []

    def _trip(self, sql: str) -> str:
        self.statements.append(sql)
        return round_trip(sql)

    def relation_name(self, namespace: str, relation: str) -> str:
        return self.inner.relation_name(namespace, relation)

    def render(self, tree: exp.Expression) -> str:
        return self.inner.render(tree)

    def namespace(self, name: str) -> None:
        self.inner.namespace(name)

    def drop_namespace(self, name: str) -> None:
        self.inner.drop_namespace(name)

    def materialize(self, name: str, sql: str) -> None:
        self.inner.materialize(name, self._trip(sql))

    def view(self, name: str, sql: str) -> None:
        self.inner.view(name, self._trip(sql))

    def query(self, sql: str) -> pa.Table:
        return self.inner.query(self._trip(sql))

    def batches(self, sql: str) -> pa.RecordBatchReader:
        return self.inner.batches(self._trip(sql))
