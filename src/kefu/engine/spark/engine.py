"""The cluster engine: Spark. Everything Spark-specific that runs definitions is here.

The definitions are the same templates the DuckDB engine runs, rendered by sqlglot in
Spark's dialect (``kefu.metrics.templates``); the few spellings Spark lacks are rewritten
on the parsed tree by :func:`kefu.engine.spark.dialect.for_spark`, never in a template.

The inputs are checked and quarantined by kefu's one loader (``kefu.io.load``), so
validation is never written twice: canonical Parquet is read by Spark itself and the
loader's checks run there (``loading.py``); any other input is loaded on DuckDB and handed
over as Parquet (:meth:`SparkEngine.receive`).
Times are naive local wall-clock times, as the loader made them: the session is pinned to
UTC (T1) and ``TIMESTAMP`` means ``TIMESTAMP_NTZ``, so Spark converts nothing.

>>> from kefu.engine.spark import SparkEngine  # doctest: +SKIP
>>> result = kefu.assess("shop-data/", engine=SparkEngine())  # doctest: +SKIP
"""

from __future__ import annotations

import re
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from kefu.engine import EngineUnavailable
from kefu.engine.spark.dialect import for_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from sqlglot import exp

    from kefu.engine.spark.loading import SparkLoading
    from kefu.io.load import Loader

#: What the session must say whoever made it: T1, and times as the loader wrote them.
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    # The same Arrow types DuckDB returns (string, not large_string).
    "spark.sql.execution.arrow.useLargeVarTypes": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Spark's ANSI mode raises where DuckDB yields NULL (a division by zero in a rate
    # nobody can have); the templates are written for NULL.
    "spark.sql.ansi.enabled": "false",
    # A quarantined row's record keeps its empty fields, as DuckDB's JSON does.
    "spark.sql.jsonGenerator.ignoreNullFields": "false",
}

#: A local session's settings: small shuffles (kefu's data per shop is small) and no UI.
LOCAL_CONF = {
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",  # kefu shows its own progress
    "spark.driver.memory": "2g",
    # The driver keeps each query's plan for the UI, and kefu's plans are long (the
    # loader's checks and every step before): a thousand of them filled a 2 GB heap.
    "spark.sql.ui.retainedExecutions": "20",
    "spark.ui.retainedJobs": "50",
    "spark.ui.retainedStages": "50",
}

#: Handed-over tables read only now and then (a transcript's texts): not kept in memory.
UNCACHED = ("message_texts",)

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def local_session(master: str = "local[*]", conf: dict[str, str] | None = None) -> SparkSession:
    """A Spark session on ``master`` (``local[*]``: this machine's cores, or a cluster URL).

    A session that cannot start (no Java 17, a master nobody answers) is one
    ``EngineUnavailable`` line, not a Java stack trace.
    """
    from pyspark.errors import PySparkException
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName("kefu")
    # A cluster's own settings (shuffle partitions, driver memory) are its operator's.
    local = LOCAL_CONF if master.startswith("local") else {}
    for key, value in {**local, **SESSION_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")  # kefu says what went wrong itself
        return session
    except (PySparkException, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EngineUnavailable(
            f"Spark did not start on {master} ({first}); it needs Java 17 (JAVA_HOME)"
        ) from None


class SparkEngine:
    """A Spark session that runs kefu's SQL definitions (the engine protocol of
    ``kefu.metrics.assessment``).

    ``spark`` is an existing session (a cluster's); without one a session is started on
    ``master``. An assessment's relations are temporary views named ``<assessment>__<name>``;
    a relation later steps read more than once is cached (memory, then disk), so no query
    recomputes it. ``scratch`` is where the loader's checked tables are written as
    Parquet (default: a temporary folder; on a cluster, a path every executor reads).
    """

    name = "spark"
    dialect = "spark"

    def __init__(
        self,
        spark: SparkSession | None = None,
        *,
        master: str = "local[*]",
        scratch: str | None = None,
        read_parquet: bool = True,
    ) -> None:
        self.spark = spark or local_session(master)
        # False: Parquet too is checked on DuckDB and handed over (a driver that cannot
        # read the executors' files, or a comparison of the two paths).
        self.read_parquet = read_parquet
        for key, value in SESSION_CONF.items():
            self.spark.conf.set(key, value)
        self._own_scratch = scratch is None
        self.scratch = Path(scratch or tempfile.mkdtemp(prefix="kefu-spark-"))
        # An own scratch folder goes with the engine (close, garbage, or exit: the first).
        owned = [str(self.scratch)] if self._own_scratch else []
        self._cleanup = weakref.finalize(self, _remove, owned)
        self._cached: dict[str, DataFrame] = {}

    # -- names -----------------------------------------------------------------------
    @staticmethod
    def relation_name(namespace: str, relation: str) -> str:
        """Temporary views have no schema: ``kefu_a1.rounds`` is ``kefu_a1__rounds``."""
        return f"{namespace}__{relation}"

    @staticmethod
    def checked(name: str) -> str:
        """``name`` if Spark can name a temporary view so, else a ``ValueError``."""
        if not _NAME.match(name):
            raise ValueError(f"not a relation name for Spark: {name!r}")
        return name

    # -- the engine protocol ---------------------------------------------------------
    def namespace(self, name: str) -> None:
        self.drop_namespace(name)

    def drop_namespace(self, name: str) -> None:
        prefix = f"{name}__"
        for view in list(self._cached):
            if view.startswith(prefix):
                self.drop(view)
        for row in self.spark.sql("SHOW VIEWS").collect():
            if row.viewName.startswith(prefix) and row.isTemporary:
                self.spark.catalog.dropTempView(row.viewName)

    def materialize(self, name: str, sql: str) -> None:
        """Compute ``sql`` once (cached, spilling to disk) as the temporary view ``name``."""
        from pyspark import StorageLevel

        self.drop(name)
        frame = self.spark.sql(sql).persist(StorageLevel.MEMORY_AND_DISK)
        frame.count()  # computed now, once, as a step of its own (progress, errors)
        frame.createOrReplaceTempView(self.checked(name))
        self._cached[name] = frame

    def view(self, name: str, sql: str) -> None:
        """Name ``sql`` as a temporary view: recomputed by each query that reads it."""
        self.drop(name)
        self.spark.sql(sql).createOrReplaceTempView(self.checked(name))

    def drop(self, name: str) -> None:
        frame = self._cached.pop(name, None)
        if frame is not None:
            frame.unpersist()
        self.spark.catalog.dropTempView(name)

    def render(self, tree: exp.Expression) -> str:
        """A bound template (sqlglot tree, DuckDB's dialect) as the SQL Spark runs."""
        return str(for_spark(tree).sql(dialect="spark"))

    def query(self, sql: str) -> pa.Table:
        return _as_duckdb_types(self.spark.sql(sql).toArrow())

    def batches(self, sql: str) -> pa.RecordBatchReader:
        return self.query(sql).to_reader()

    # -- inputs ----------------------------------------------------------------------
    def load_session(self, inputs: dict[str, list[Path]]) -> SparkLoading | None:
        """Where the loader checks ``inputs``: here, when Spark reads them itself (with
        ``read_parquet``, every file Parquet); None: on DuckDB, then handed over."""
        from kefu.engine.spark.loading import SparkLoading, reads_directly

        return SparkLoading(self) if self.read_parquet and reads_directly(inputs) else None

    def receive(self, loader: Loader, tables: tuple[str, ...]) -> None:
        """Take the loader's checked tables: each written once as Parquet, read by Spark.

        The loader's tables are views that parse and check rows as they are read; writing
        them is the one pass of checking, and every later step reads the typed result.
        Tables the loader checked on DuckDB are written by DuckDB; tables it checked here
        (``load_session``) by Spark, and the loader's intermediate copies freed. Either
        way a later plan starts at a Parquet scan: the checks' long plans are not analysed
        again by every query (kept in them, they filled a 2 GB driver's heap).
        """
        from kefu.engine.duckdb import DuckDBEngine
        from kefu.engine.spark.loading import SparkLoading

        if isinstance(loader, SparkLoading):
            if loader.engine is not self:
                raise ValueError("a Spark engine takes the tables it loaded itself, or DuckDB's")
        elif not isinstance(loader, DuckDBEngine):
            raise TypeError(f"a Spark engine cannot take tables from {type(loader).__name__}")
        for table in tables:
            folder = self.scratch / table
            shutil.rmtree(folder, ignore_errors=True)
            if isinstance(loader, SparkLoading):
                self.spark.table(table).write.parquet(str(folder))
            else:
                folder.mkdir(parents=True)
                path = _sql_path(folder / "part-0.parquet")
                loader.execute(f"COPY (SELECT * FROM {table}) TO '{path}' (FORMAT parquet)")
            read = f"SELECT * FROM parquet.`{_sql_path(folder)}`"
            if table in UNCACHED:
                self.view(table, read)
            else:
                self.materialize(table, read)
        if isinstance(loader, SparkLoading):
            loader.release()

    def close(self) -> None:
        for name in list(self._cached):
            self.drop(name)
        self._cleanup()


def _remove(folders: list[str]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _as_duckdb_types(table: pa.Table) -> pa.Table:
    """Spark's Arrow result with the types DuckDB returns for the same SQL.

    Spark's strings arrive as ``large_string`` unless the session says otherwise, and a
    zoned timestamp loses its zone (times are naive wall-clock times, T1); every field is
    nullable, as DuckDB's are. Integer widths are not touched: the templates cast them.
    """
    fields = []
    for f in table.schema:
        kind = f.type
        if pa.types.is_large_string(kind):
            kind = pa.string()
        elif pa.types.is_timestamp(kind) and kind.tz is not None:
            kind = pa.timestamp(kind.unit)
        # Nullable, as DuckDB's results are (Spark knows a count is never NULL).
        fields.append(pa.field(f.name, kind, True))
    return table.cast(pa.schema(fields))
