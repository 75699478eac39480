"""Spark: the same definitions on a cluster (``kefu assess --engine spark``)."""

from kefu.engine.spark.engine import SparkEngine, local_session

__all__ = ["SparkEngine", "local_session"]
