"""The engines that run kefu's definitions: DuckDB embedded (the default) and Spark.

>>> check_engine("spark")
'spark'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kefu.metrics.assessment import Engine

#: The engines ``kefu assess --engine`` knows.
ENGINES = ("duckdb", "spark")


class EngineUnavailable(RuntimeError):
    """The engine asked for cannot start here (its package or its Java is missing)."""


def check_engine(name: str, option: str = "engine") -> str:
    """``name`` if it is an engine kefu has, else a one-line ``ValueError`` naming ``option``."""
    if name not in ENGINES:
        raise ValueError(f"{option} {name!r}: unknown engine (known: {', '.join(ENGINES)})")
    return name


def open_engine(
    name: str, *, memory_limit: str | None = None, spark_master: str | None = None
) -> Engine | None:
    """The engine ``name`` ready to run; ``None`` for DuckDB (the loader's session is used).

    ``spark_master`` is a Spark master URL (default ``local[*]``, this machine's cores).
    """
    if check_engine(name) == "duckdb":
        return None
    try:
        from kefu.engine.spark import SparkEngine
    except ImportError:
        raise EngineUnavailable(
            "--engine spark needs pyspark: install kefu with its spark extra (kefu[spark])"
        ) from None
    return SparkEngine(master=spark_master or "local[*]")
