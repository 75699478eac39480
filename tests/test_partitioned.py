"""Hive-partitioned input: ``messages/day=YYYY-MM-DD/part-0.parquet`` (issue 8 §3).

The figures of a day-partitioned dataset are those of the same rows as flat files; only
the message partitions of ``Params.message_days()`` are opened (a corrupt file outside them
does not matter, one inside fails with the usual one line); a table's partitions are one
source; and every row read is accounted for.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import kefu
from kefu.cli import app
from kefu.demo.scale import write_dataset
from kefu.engine.duckdb import DuckDBEngine
from kefu.io.partitions import partition_day, partitioned_as_of
from kefu.metrics.params import Params
from kefu.rules.profile import load_profile

AS_OF = dt.date(2024, 6, 1)
DAYS = 12
#: A 3-day window: the dataset's last 3 days, its history and margins are read (5 days).
SHORT = load_profile("taobao").override(window_days=3)


@pytest.fixture(scope="module")
def parted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("parted") / "ds"
    write_dataset(out, 8_000, 3, AS_OF, days=DAYS, seed=3)
    return out


@pytest.fixture(scope="module")
def flat(parted: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same rows, one file per table, in the same order (day files one after another)."""
    out = tmp_path_factory.mktemp("flat")
    for table in ("messages", "ratings", "refusals"):
        files = sorted((parted / table).glob("day=*/part-0.parquet"))
        pq.write_table(pa.concat_tables(pq.read_table(f, partitioning=None) for f in files),
                       out / f"{table}.parquet")  # fmt: skip
    for table in ("shops", "agents", "accounts"):
        shutil.copy(parted / f"{table}.parquet", out)
    return out


@pytest.fixture(scope="module")
def whole(parted: Path) -> tuple[kefu.Result, DuckDBEngine]:
    """The partitioned dataset assessed with the defaults (as of the day after its last)."""
    engine = DuckDBEngine()
    return kefu.assess(parted, engine=engine), engine


def figures(result: kefu.Result) -> dict[str, list[dict]]:
    return {level: table.to_pylist() for level, table in result.figures.items()}


def day_file(root: Path, day: dt.date) -> Path:
    return root / "messages" / f"day={day}" / "part-0.parquet"


def test_figures_equal_those_of_flat_files(
    parted: Path, flat: Path, whole: tuple[kefu.Result, DuckDBEngine]
) -> None:
    result = whole[0]
    flat_result = kefu.assess(flat)
    assert result.as_of == flat_result.as_of == AS_OF  # default: the day after the last
    assert figures(result) == figures(flat_result)
    assert result.load.notes[0] == (
        f"messages: read {DAYS} of {DAYS} day partitions, "
        f"{AS_OF - dt.timedelta(days=DAYS)} … {AS_OF - dt.timedelta(days=1)}"
    )
    short = kefu.assess(parted, SHORT, AS_OF)
    assert figures(short) == figures(kefu.assess(flat, SHORT, AS_OF))
    first, last = Params(SHORT, AS_OF).message_days()
    read = [d for d in (AS_OF - dt.timedelta(days=i) for i in range(1, DAYS + 1))
            if first <= d <= last]  # fmt: skip
    assert short.load.notes[0] == (
        f"messages: read {len(read)} of {DAYS} day partitions, {min(read)} … {max(read)}"
    )
    assert len(read) < DAYS
    count = short.load.counts["messages"]
    rows = sum(pq.read_metadata(day_file(parted, d)).num_rows for d in read)
    assert count.read == rows == count.accepted + count.quarantined + count.duplicates
    assert count.files == [str(day_file(parted, d)) for d in sorted(read)]


def test_partitions_outside_the_days_are_never_opened(parted: Path, tmp_path: Path) -> None:
    root = tmp_path / "ds"
    shutil.copytree(parted, root)
    outside = AS_OF - dt.timedelta(days=DAYS)  # the first day: before a 3-day window's history
    first, _ = Params(SHORT, AS_OF).message_days()
    assert outside < first
    day_file(root, outside).write_bytes(b"not parquet at all")
    profile = tmp_path / "short.toml"
    profile.write_text('name = "short"\nextends = "taobao"\n\n[params]\nwindow_days = 3\n')
    runner = CliRunner(env={"KEFU_DEBUG": None})
    run = runner.invoke(app, ["assess", str(root), "--profile", str(profile),
                              "--out", str(tmp_path / "o"), "--as-of", str(AS_OF)])  # fmt: skip
    assert run.exit_code == 0, run.output
    assert f"messages: read {(AS_OF - first).days} of {DAYS} day partitions" in run.output

    inside = AS_OF - dt.timedelta(days=1)
    day_file(root, inside).write_bytes(b"not parquet either")
    run = runner.invoke(app, ["assess", str(root), "--profile", str(profile),
                              "--out", str(tmp_path / "o"), "--as-of", str(AS_OF)])  # fmt: skip
    assert run.exit_code == 2
    lines = run.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"kefu: {day_file(root, inside)}: cannot read as PARQUET"
    )


def test_one_source_for_all_partitions_and_quarantine_points_at_the_file(
    whole: tuple[kefu.Result, DuckDBEngine],
) -> None:
    result, engine = whole
    raw = engine.query(
        "SELECT view_name FROM duckdb_views() WHERE view_name LIKE 'raw_messages_%'"
    ).column(0)
    assert raw.to_pylist() == ["raw_messages_0"]
    quarantine = result.load.quarantine.to_pylist()
    assert (
        len(quarantine)
        == result.load.counts["messages"].quarantined + result.load.counts["messages"].duplicates
    )
    files = {q["file"] for q in quarantine}
    assert len(files) > 1 and "__file_no" not in quarantine[0]["record"]
    for q in quarantine[:: max(1, len(quarantine) // 25)]:
        row = pq.read_table(q["file"], partitioning=None).slice(q["row"] - 1, 1).to_pylist()[0]
        assert f'"msg_id":"{row["msg_id"]}"' in q["record"]


def test_partitions_of_other_schemas_are_read_apart(
    parted: Path, tmp_path: Path, whole: tuple[kefu.Result, DuckDBEngine]
) -> None:
    """A day exported with Chinese headers is its own source; every row still reconciles."""
    root = tmp_path / "ds"
    shutil.copytree(parted, root)
    odd = day_file(root, AS_OF - dt.timedelta(days=5))
    table = pq.read_table(odd, partitioning=None)
    pq.write_table(table.rename_columns(["店铺", "买家", "客服", "发送方", "时间", "内容",
                                         "消息id", "序号"]), odd)  # fmt: skip
    result = kefu.assess(root, as_of=AS_OF)
    count = result.load.counts["messages"]
    assert count.read == sum(pq.read_metadata(f).num_rows for f in count.files)
    assert count.read == count.accepted + count.quarantined + count.duplicates
    assert figures(result) == figures(whole[0])


def test_partition_names() -> None:
    assert partition_day(Path("m/day=2024-03-01/p.parquet")) == dt.date(2024, 3, 1)
    assert partition_day(Path("m/shop=s1/dt=2024-03-02/p.parquet")) == dt.date(2024, 3, 2)
    assert partition_day(Path("m/day=yesterday/p.parquet")) is None
    assert partition_day(Path("m/p.parquet")) is None
    inputs = {
        "messages": [Path("m/day=2024-03-01/a.parquet"), Path("m/day=2024-03-04/a.parquet")],
        "ratings": [Path("r/day=2024-03-05/a.parquet")],
    }
    assert partitioned_as_of(inputs) == dt.date(2024, 3, 6)
    inputs["messages"].append(Path("m/extra.parquet"))  # not every file in a day: no default
    assert partitioned_as_of(inputs) is None


def test_a_broken_page_inside_names_the_partitions_in_one_short_line(
    parted: Path, tmp_path: Path
) -> None:
    """DuckDB reads lazily, so a broken data page is found in the scan of all partitions."""
    root = tmp_path / "ds"
    shutil.copytree(parted, root)
    broken = day_file(root, AS_OF - dt.timedelta(days=2))
    data = bytearray(broken.read_bytes())
    data[200 : len(data) // 2] = b"Z" * (len(data) // 2 - 200)  # the footer stays readable
    broken.write_bytes(bytes(data))
    run = CliRunner(env={"KEFU_DEBUG": None}).invoke(
        app, ["assess", str(root), "--out", str(tmp_path / "o"), "--as-of", str(AS_OF)]
    )
    assert run.exit_code == 2
    [line] = run.output.strip().splitlines()
    first, last = (
        day_file(root, AS_OF - dt.timedelta(days=DAYS)),
        day_file(root, AS_OF - dt.timedelta(days=1)),
    )
    assert line.startswith(f"kefu: messages ({first} … {last}, {DAYS} files): ")
