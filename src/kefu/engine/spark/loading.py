"""kefu's one loader, run on Spark: canonical Parquet read by the executors themselves.

The loader (``kefu.io.load``) writes its checks once, as SQL in DuckDB's dialect. Given
this session instead of a DuckDB one, the same statements are rendered for Spark by
sqlglot (and ``dialect.for_spark``) and run there, over Parquet files Spark reads where
they lie: nothing goes through the driver, and the reconciliation (read = accepted +
quarantined + duplicates) and the quarantine are the loader's, row for row.

Only Parquet is read this way (:func:`reads_directly`). A CSV, Excel or JSON export is
parsed by DuckDB's readers, so such an input is loaded on DuckDB and handed over
(``SparkEngine.receive``).

>>> reads_directly({"messages": [Path("m/day=2024-03-01/part-0.parquet")]})
True
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import pyarrow as pa
import sqlglot

from kefu.io.errors import InputError
from kefu.io.load import QUARANTINE_TABLE
from kefu.io.partitions import FILE_NO, PARQUET_SUFFIXES, partition_keys
from kefu.metrics.params import sql_str
from kefu.metrics.templates import parsed_tree

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import DataType

    from kefu.engine.spark.engine import SparkEngine


def reads_directly(inputs: dict[str, list[Path]]) -> bool:
    """Whether Spark reads ``inputs`` itself: there is a file, and every file is Parquet."""
    files = [f for paths in inputs.values() for f in paths]
    return bool(files) and all(Path(f).suffix.lower() in PARQUET_SUFFIXES for f in files)


def duckdb_type(kind: DataType) -> str:
    """The DuckDB name of a Spark column type: what the loader decides on (``_typed``).

    >>> from pyspark.sql.types import TimestampType, LongType
    >>> duckdb_type(TimestampType()), duckdb_type(LongType())
    ('TIMESTAMP WITH TIME ZONE', 'BIGINT')
    """
    name = kind.typeName()
    names = {
        "string": "VARCHAR",
        "long": "BIGINT",
        "integer": "INTEGER",
        "short": "SMALLINT",
        "byte": "TINYINT",
        "double": "DOUBLE",
        "float": "FLOAT",
        "boolean": "BOOLEAN",
        "date": "DATE",
        "binary": "BLOB",
        "timestamp_ntz": "TIMESTAMP",
        # An instant (a Parquet timestamp adjusted to UTC): converted to local time (T1).
        "timestamp": "TIMESTAMP WITH TIME ZONE",
    }
    return names.get(name, kind.simpleString().upper())


class SparkLoading:
    """The session the loader checks its rows on when Spark reads the files (DuckDB's
    dialect in, Spark's run). What the loader makes is the engine's: ``messages`` and the
    other canonical tables are temporary views, which ``SparkEngine.receive`` keeps cached
    before it frees the loader's checked copies (``release``).
    """

    def __init__(self, engine: SparkEngine) -> None:
        self.engine = engine
        self._times: dict[str, dict[str, bool]] = {}  # raw view → time column → an instant?
        self._copies: set[str] = set()  # what the loader computed and cached here

    def _spark(self, sql: str) -> str:
        return self.engine.render(parsed_tree(sqlglot.parse_one(sql, read="duckdb")))

    def view(self, name: str, sql: str) -> None:
        self.engine.view(name, self._spark(sql))

    def materialize(self, name: str, sql: str) -> None:
        self.engine.materialize(name, self._spark(sql))
        self._copies.add(name)

    def release(self) -> None:
        """Free the checked copies once the canonical tables are kept on their own; the
        quarantine stays (``LoadReport`` reads it)."""
        for name in self._copies - {QUARANTINE_TABLE}:
            self.engine.drop(name)
        self._copies &= {QUARANTINE_TABLE}

    def query(self, sql: str) -> pa.Table:
        return self.engine.query(self._spark(sql))

    def batches(self, sql: str) -> pa.RecordBatchReader:
        return self.query(sql).to_reader()

    def scalar(self, sql: str) -> Any:
        rows = self.query(sql).to_pylist()
        return next(iter(rows[0].values())) if rows else None

    def columns(self, relation: str) -> list[tuple[str, str]]:
        """(name, DuckDB type) of each column of view ``relation``."""
        schema = self.engine.spark.table(relation).schema
        return [(f.name, duckdb_type(f.dataType)) for f in schema.fields]

    def read_parquet_files(self, paths: list[Path], name: str, first_no: int) -> list[str]:
        """View ``name`` over Parquet files of one schema, as ``partitions.read_parquet_files``
        makes it on DuckDB: the files' columns and partition keys, ``row_no`` (1-based
        within its file) and, for several files, ``__file_no`` (``first_no``, ``+ 1``, …).
        """
        from pyspark.errors import PySparkException
        from pyspark.sql import functions as F

        reader = self.engine.spark.read
        if partition_keys(paths[0]):
            reader = reader.option("basePath", str(_partition_base(paths[0])))
        try:
            files = reader.parquet(*(str(p) for p in paths))
            # The hidden file metadata: each row's place in its file, and the file.
            frame = files.select(
                "*",
                (F.col("_metadata.row_index") + 1).alias("row_no"),
                F.col("_metadata.file_path").alias("__path"),
            )
            if len(paths) > 1:
                frame = frame.join(
                    F.broadcast(self._file_numbers(files, paths, first_no)), "__path"
                )
            frame.drop("__path").createOrReplaceTempView(self.engine.checked(name))
            self._times[name] = {
                f.name: f.dataType.typeName() == "timestamp"  # an instant (zoned)
                for f in files.schema.fields
                if f.dataType.typeName() in ("timestamp", "timestamp_ntz", "date")
            }
        except PySparkException as exc:
            first = str(exc).strip().splitlines()[0]
            more = f" (and {len(paths) - 1} more)" if len(paths) > 1 else ""
            raise InputError(f"{paths[0]}{more}: cannot read as PARQUET: {first}") from None
        return [c for c, _ in self.columns(name) if c not in ("row_no", FILE_NO)]

    def _file_numbers(self, files: DataFrame, paths: list[Path], first_no: int) -> DataFrame:
        """(``__path`` as Spark names the file, ``__file_no``): a file's number by its path.

        Spark names a file by a URI (``file:/a/b%20c.parquet``); each is matched to the path
        it was given as, so the numbers follow the order the loader gave the files in. The
        file list spells a local file ``file:///a``, a row's metadata ``file:/a``: both
        spellings are listed, so the join needs no function of every row.
        """
        number = {p.resolve(): first_no + i for i, p in enumerate(paths)}
        rows = {
            (spelling, number[Path(unquote(urlparse(uri).path)).resolve()])
            for uri in files.inputFiles()
            for spelling in (uri, re.sub("^file:///", "file:/", uri))
        }
        return self.engine.spark.createDataFrame(sorted(rows), f"__path string, {FILE_NO} int")

    def record(self, raw: str, alias: str, columns: list[str]) -> str:
        """SQL (DuckDB's dialect): a row of raw view ``raw`` (named ``alias``) as JSON text,
        the quarantine's record, as DuckDB writes it: the file's columns and ``row_no``,
        NULLs included (``SESSION_CONF``), times as text (``2024-03-01 10:00:05``)."""
        times = self._times.get(raw, {})

        def value(name: str) -> str:
            column = _column(alias, name)
            if name not in times:
                return column
            # DuckDB writes an instant in its session's zone, UTC (T1), with the offset.
            return f"CAST({column} AS VARCHAR)" + (" || '+00'" if times[name] else "")

        fields = ", ".join(f"{sql_str(c)}: {value(c)}" for c in [*columns, "row_no"])
        return f"CAST(to_json({{{fields}}}) AS VARCHAR)"


def _column(alias: str, name: str) -> str:
    """SQL: column ``name`` of ``alias``, quoted."""
    return alias + '."' + name.replace('"', '""') + '"'


def _partition_base(path: Path) -> Path:
    """The folder above ``path``'s outermost ``key=value`` folder: where partitions start."""
    parent = path.parent
    while "=" in parent.name:
        parent = parent.parent
    return parent
