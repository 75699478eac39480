"""The definitions carry no DuckDB-only SQL: sqlglot transpiles each one to Spark SQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from kefu.metrics.assessment import RELATIONS
from kefu.metrics.figures import LEVELS, level_figures
from kefu.metrics.params import Params
from kefu.rules.profile import load_profile


def definitions(profile: str):
    prof = load_profile(profile)
    if profile == "1688":  # cover the idle-gap consultation split too
        prof = prof.override(consultation_split="gap")
    params = Params(prof, dt.date(2024, 1, 8))
    for name, definition in RELATIONS:
        yield name, definition(params)
    for level in LEVELS:
        yield f"figures-{level}", level_figures(level, params)


@pytest.mark.parametrize("profile", ["taobao", "1688"])
def test_every_definition_transpiles_to_spark(profile):
    for name, sql in definitions(profile):
        spark = sqlglot.transpile(
            sql, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE
        )
        assert len(spark) == 1 and spark[0], name
