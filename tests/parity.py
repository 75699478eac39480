"""Shared by the parity tests: the demo month made harder, and tables compared exactly.

The harder data: a tenth of the rows lose their ``seq`` (T3 orders them by file and row),
a twentieth are snapped to the whole minute (equal timestamps), and some buyers change
their rating the same day (S3).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kefu.demo.generator import generate_demo


def renamed(table: pa.Table, prefix: str) -> pa.Table:
    """The table with its shop ids (and message ids) prefixed: another set of shops."""
    for column in ("shop_id", "msg_id", "agent_id"):
        if column in table.column_names:
            i = table.column_names.index(column)
            table = table.set_column(
                i, column, pc.binary_join_element_wise(prefix, table[column], "")
            )
    return table


def harder(messages: pa.Table, rng: np.random.Generator) -> pa.Table:
    """A tenth of the rows without ``seq``, a twentieth on the whole minute (T3 ties)."""
    n = messages.num_rows
    seq = messages["seq"].to_numpy(zero_copy_only=False).astype(float)
    seq[rng.random(n) < 0.10] = np.nan
    ts = messages["ts"].cast(pa.timestamp("ms")).to_numpy(zero_copy_only=False)
    snap = rng.random(n) < 0.05
    ts = np.where(snap, ts.astype("datetime64[m]").astype("datetime64[ms]"), ts)
    i_seq, i_ts = messages.column_names.index("seq"), messages.column_names.index("ts")
    messages = messages.set_column(i_seq, "seq", pa.array(seq, pa.int64(), from_pandas=True))
    return messages.set_column(i_ts, "ts", pa.array(ts, messages["ts"].type))


def same_day_changes(ratings: pa.Table, rng: np.random.Generator) -> pa.Table:
    """Some ratings given again an hour later the same day with another score."""
    pick = rng.choice(ratings.num_rows, size=max(10, ratings.num_rows // 20), replace=False)
    again = ratings.take(pa.array(np.sort(pick)))
    later = pc.add(again["ts"], pa.scalar(dt.timedelta(hours=1), pa.duration("ms")))
    day = pc.floor_temporal(again["ts"], unit="day")
    later = pc.if_else(pc.equal(pc.floor_temporal(later, unit="day"), day), later, again["ts"])
    score = pc.subtract(pa.scalar(6, pa.int8()), again["score"])  # 1 ↔ 5, 2 ↔ 4
    again = again.set_column(again.column_names.index("ts"), "ts", later.cast(again["ts"].type))
    again = again.set_column(again.column_names.index("score"), "score", score)
    return pa.concat_tables([ratings, again])


def assert_same_table(a: pa.Table, b: pa.Table, level: str) -> int:
    """Same types, rows and values (floats to 1e-9); returns the number of values compared."""
    assert a.schema == b.schema, f"{level}: {a.schema} vs {b.schema}"
    assert a.num_rows == b.num_rows, level
    compared = 0
    for x, y in zip(a.to_pylist(), b.to_pylist(), strict=True):
        for name, u in x.items():
            v = y[name]
            if isinstance(u, float) and isinstance(v, float):
                same = math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9) or (
                    math.isnan(u) and math.isnan(v)
                )
            else:
                same = u == v
            assert same, f"{level} {name}: {u!r} vs {v!r} in {x}"
            compared += 1
    return compared


def write_hard_data(folder: Path, as_of: dt.date, seeds: Sequence[int]) -> None:
    """The demo months of ``seeds`` (each its own set of shops), made harder, as Parquet."""
    rng = np.random.default_rng(11)
    months = [generate_demo(as_of, seed=seed).tables() for seed in seeds]
    for name in months[0]:
        tables = [
            renamed(month[name], f"{'b' * i}_") if i else month[name]
            for i, month in enumerate(months)
        ]
        table = pa.concat_tables(tables, promote_options="permissive")
        if name == "messages":
            table = harder(table, rng)
        if name == "ratings":
            table = same_day_changes(table, rng)
        pq.write_table(table, folder / f"{name}.parquet")
