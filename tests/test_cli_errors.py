"""The CLI never shows a traceback, and each run's outputs are that run's (issue 7 §4).

Every case runs the real CLI (``CliRunner`` on ``kefu.cli.app``, or ``kefu`` in a
subprocess) and checks the exit code and the single ``kefu: …`` line on stderr. Counts
follow the reconciliation rule read = accepted + quarantined + duplicates (docs/schema.md).
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from kefu.cli import app
from kefu.io.errors import engine_message
from kefu.report.export import MANIFEST

HEADER = "shop_id,buyer_id,agent_id,sender,ts,content\n"
#: Two rounds on 2024-01-07 (R1: a buyer's question opens a round), one answered late.
ROWS = (
    "s1,b1,,buyer,2024-01-07 10:00:00,hi\n"
    "s1,b1,a1,agent,2024-01-07 10:01:00,hello\n"
    "s1,b2,,buyer,2024-01-07 11:00:00,hi\n"
    "s1,b2,a2,agent,2024-01-07 11:30:00,hello\n"
)
#: A row with no timestamp: quarantined (T1 needs a time), the others accepted.
BAD_ROW = "s1,b3,,buyer,,no time\n"
AS_OF = ["--as-of", "2024-01-08"]


def folder(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.mkdir()
    (path / "messages.csv").write_text(text, "utf-8")
    return path


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return folder(tmp_path, "shop", HEADER + ROWS)


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner(env={"KEFU_DEBUG": None, **(env or {})}).invoke(app, [str(a) for a in args])


def one_line(run: Result) -> str:
    """The CLI failed with exit code 2 and exactly one ``kefu:`` line on stderr."""
    assert run.exit_code == 2, (run.exit_code, run.output, run.exception)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kefu: "), run.stderr
    assert "Traceback" not in run.output
    return lines[0]


def names(path: Path) -> set[str]:
    return {p.name for p in path.iterdir()}


# --- --out, and file-system errors ------------------------------------------------------


def test_out_pointing_at_a_file_is_one_line(shop, tmp_path):
    target = tmp_path / "figures"
    target.write_text("mine")
    line = one_line(invoke("assess", shop, "--out", target, *AS_OF))
    assert line == f"kefu: --out {target}: {target} is a file, not a folder"
    line = one_line(invoke("report", shop, "--out", target / "sub", *AS_OF))
    assert f"{target} is a file, not a folder" in line
    assert target.read_text() == "mine"


def _without_file_permission_override() -> None:  # pragma: no cover - runs in the child
    """Drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (PR_CAPBSET_DROP) before exec: the
    child runs as root but file permissions apply to it, as to any user."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def run_unprivileged(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``kefu`` in a subprocess that chmod 000 really denies (also when tests run as root)."""
    kefu = [sys.executable, "-c", "from kefu.cli import main; main()"]
    preexec = _without_file_permission_override if os.geteuid() == 0 else None
    env = {k: v for k, v in os.environ.items() if k != "KEFU_DEBUG"}
    return subprocess.run(
        [*kefu, *map(str, args)], capture_output=True, text=True, preexec_fn=preexec, env=env
    )


@pytest.fixture
def locked(tmp_path: Path):
    """A folder whose messages file is unreadable, and an unreadable folder."""
    file_locked = folder(tmp_path, "file-locked", HEADER + ROWS)
    dir_locked = folder(tmp_path, "dir-locked", HEADER + ROWS)
    (file_locked / "messages.csv").chmod(0)
    dir_locked.chmod(0)
    probe = run_unprivileged_probe(file_locked / "messages.csv")
    yield file_locked, dir_locked, probe
    dir_locked.chmod(0o755)


def run_unprivileged_probe(path: Path) -> bool:
    """Whether a chmod 000 file is really unreadable to the subprocess kefu runs in."""
    try:
        code = f"open({str(path)!r}).read()"
        preexec = _without_file_permission_override if os.geteuid() == 0 else None
        return subprocess.run([sys.executable, "-c", code], preexec_fn=preexec).returncode != 0
    except (OSError, subprocess.SubprocessError):
        return False


def test_unreadable_file_and_folder_are_one_line_naming_the_path(locked, tmp_path):
    file_locked, dir_locked, denied = locked
    if not denied:
        pytest.skip("this machine cannot deny a read (no way to drop the override)")
    for inputs, path in ((file_locked, file_locked / "messages.csv"), (dir_locked, dir_locked)):
        run = run_unprivileged("assess", inputs, "--out", tmp_path / "out", *AS_OF)
        assert run.returncode == 2, run.stderr
        line = run.stderr.strip()
        assert "\n" not in line and line.startswith(f"kefu: {path}: "), run.stderr
        assert line.endswith("Permission denied")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full (a full disk)")
def test_full_disk_is_one_line_naming_the_file(shop):
    line = one_line(invoke("explain", shop, "--shop", "s1", "--csv", "/dev/full", *AS_OF))
    assert line == "kefu: /dev/full: No space left on device"


def test_a_folder_where_kefu_writes_a_file_is_one_line_and_keeps_the_last_run(shop, tmp_path):
    out = tmp_path / "out"
    assert invoke("assess", shop, "--out", out, "-f", "csv", *AS_OF).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "figures.json").mkdir()  # in the way of this run's JSON
    line = one_line(invoke("assess", shop, "--out", out, "-f", "json", *AS_OF))
    assert line == f"kefu: {out / 'figures.json'}: Is a directory"
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after.keys() == before.keys()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".kefu-tmp")]


# --- options are checked before any work --------------------------------------------------

#: An input that does not exist: an option's error must come first, before any file.
MISSING = "no-such-folder"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["assess", MISSING, "--memory-limit", "lots"], "--memory-limit 'lots': not a memory"),
        (["report", MISSING, "--memory-limit", "0GB"], "--memory-limit '0GB': not a memory"),
        (["explain", MISSING, "--shop", "s", "--memory-limit", "2"], "--memory-limit '2'"),
        (["plan", MISSING, "--memory-limit", "lots"], "--memory-limit 'lots'"),
        (["assess", MISSING, "-f", "xml"], "--format 'xml': unknown format (known: json, csv"),
        (["assess", MISSING, "--lang", "fr"], "--lang 'fr': use en or zh"),
        (["report", MISSING, "--lang", "fr"], "--lang 'fr': use en or zh"),
        (["plan", MISSING, "--lang", "fr"], "--lang 'fr': use en or zh"),
        (["explain", MISSING, "--shop", "s", "--lang", "fr"], "--lang 'fr'"),
        (["demo", "--lang", "fr"], "--lang 'fr'"),
        (["assess", MISSING, "--profile", "nope"], "nope: no such profile"),
        (["report", MISSING, "-p", "nope"], "nope: no such profile"),
        (["assess", MISSING, "--as-of", "2024-13-01"], "--as-of '2024-13-01': not a date"),
        (["explain", MISSING, "--shop", "s", "--figure", "speed"], "cannot explain 'speed'"),
        (["explain", MISSING, "--shop", "s", "--day", "May 9"], "--day 'May 9': not a date"),
        (["plan", MISSING, "--days", "0"], "--days 0: plan at least 1 day ahead"),
    ],
)
def test_bad_options_are_refused_before_any_work(args, expected):
    line = one_line(invoke(*args))
    assert expected in line
    assert "memory size" not in expected or "500MB, 2GB, 1.5GiB or 50%" in line


def test_memory_limit_from_the_environment_is_checked_and_named(shop):
    line = one_line(invoke("assess", shop, env={"KEFU_MEMORY_LIMIT": "lots"}))
    assert line.startswith("kefu: KEFU_MEMORY_LIMIT 'lots': not a memory size")
    run = invoke("assess", shop, "--out", shop.parent / "o", "--memory-limit", "1GiB", *AS_OF)
    assert run.exit_code == 0, run.output


def test_engine_out_of_memory_suggests_a_larger_limit(shop, tmp_path):
    run = invoke("assess", shop, "--out", tmp_path / "out", "--memory-limit", "1KB", *AS_OF)
    line = one_line(run)
    assert "ran out of memory" in line and "--memory-limit (e.g. --memory-limit 4GB)" in line


# --- nothing accepted, unknown shop, agent or day -----------------------------------------


def test_report_of_empty_input_says_no_row_was_accepted(tmp_path):
    empty = folder(tmp_path, "empty", HEADER)
    run = invoke("report", empty, "--out", tmp_path / "reports")
    line = one_line(run)
    assert line.startswith("kefu: no message or rating row was accepted")
    assert "messages: read 0 = accepted 0 + quarantined 0" in line
    assert not (tmp_path / "reports").exists()


def test_assess_accepting_no_row_prints_the_reconciliation_and_the_quarantine(tmp_path):
    bad = folder(tmp_path, "bad", HEADER + BAD_ROW + BAD_ROW.replace("b3", "b4"))
    out = tmp_path / "out"
    line = one_line(invoke("assess", bad, "--out", out, *AS_OF))
    assert "no message or rating row was accepted" in line
    assert "read 2 = accepted 0 + quarantined 2" in line
    run = invoke("assess", bad, "--out", out, *AS_OF)
    assert "messages: read 2 = accepted 0 + quarantined 2 + duplicates 0" in run.stdout
    assert f"quarantined rows: {out / 'quarantine.csv'}" in " ".join(run.stdout.split())
    assert names(out) == {"quarantine.csv", MANIFEST}  # no figures of nothing
    assert (out / "quarantine.csv").read_text("utf-8").count("\n") == 3  # header + 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--shop", "nope"], "kefu: shop 'nope' is not in the data (shops: s1)"),
        (
            ["--shop", "s1", "--agent", "zz"],
            "kefu: agent 'zz' is not in shop 's1' (agents: a1, a2)",
        ),
        (
            ["--shop", "s1", "--day", "2023-01-01"],
            "kefu: day 2023-01-01 is outside the window 2023-12-09 – 2024-01-07",
        ),
    ],
)
def test_explain_of_what_is_not_there_names_what_is(shop, args, expected):
    assert one_line(invoke("explain", shop, *args, *AS_OF)) == expected


def test_explain_of_a_known_agent_and_day_still_lists_its_rounds(shop):
    run = invoke("explain", shop, "--shop", "s1", "--agent", "a2", "--day", "2024-01-07", *AS_OF)
    assert run.exit_code == 0, run.output
    assert "rounds = 1, rounds_responded = 0" in run.stdout  # 30 min > 3 min (R1)


# --- each run's outputs are that run's ------------------------------------------------------


def test_two_runs_into_one_folder_leave_only_the_second_runs_files(shop, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("the user's own file")
    assert invoke("assess", shop, "--out", out, "-f", "csv", *AS_OF).exit_code == 0
    assert "figures-shop.csv" in names(out)
    assert invoke("assess", shop, "--out", out, "-f", "json", *AS_OF).exit_code == 0
    assert names(out) == {"figures.json", MANIFEST, "notes.txt"}
    assert json.loads((out / MANIFEST).read_text("utf-8"))["files"] == ["figures.json"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".kefu-tmp")]


def test_a_clean_run_leaves_no_quarantine_of_an_earlier_run(tmp_path):
    """Decided: a run that quarantines nothing writes no quarantine.csv, and removes the
    one an earlier run wrote (an empty file would read as "checked, nothing wrong")."""
    messy = folder(tmp_path, "messy", HEADER + ROWS + BAD_ROW)
    clean = folder(tmp_path, "clean", HEADER + ROWS)
    out = tmp_path / "out"
    run = invoke("assess", messy, "--out", out, *AS_OF)
    assert run.exit_code == 0, run.output
    assert "quarantine.csv" in names(out)
    assert invoke("assess", clean, "--out", out, *AS_OF).exit_code == 0
    assert names(out) == {"figures.json", MANIFEST}


def test_a_failed_run_leaves_the_last_runs_outputs(shop, tmp_path):
    out = tmp_path / "out"
    assert invoke("assess", shop, "--out", out, "-f", "csv", *AS_OF).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    broken = tmp_path / "broken"
    broken.mkdir()
    corrupt_parquet(broken / "messages.parquet")
    one_line(invoke("assess", broken, "--out", out, *AS_OF))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_reports_of_an_earlier_run_are_removed(tmp_path):
    two_shops = folder(tmp_path, "two", HEADER + ROWS + ROWS.replace("s1,", "s2,"))
    out = tmp_path / "reports"
    base = ["report", two_shops, "--out", out, "--no-compare", *AS_OF]
    assert invoke(*base, "--shop", "s1").exit_code == 0
    assert invoke(*base, "--shop", "s2").exit_code == 0
    assert names(out) == {"report-s2.html", MANIFEST}


def test_demo_figures_folder_holds_that_runs_files_only(tmp_path):
    figures = tmp_path / "demo" / "figures"
    figures.mkdir(parents=True)
    (figures / "figures-shop.csv").write_text("an earlier run's CSV")
    (figures / MANIFEST).write_text(json.dumps({"files": ["figures-shop.csv"]}))
    (figures / "mine.txt").write_text("not kefu's")
    run = invoke("demo", "--out", tmp_path / "demo")
    assert run.exit_code == 0, run.output
    assert names(figures) == {"figures.json", "quarantine.csv", MANIFEST, "mine.txt"}


# --- the last line of defence: DuckDB errors ------------------------------------------------


def corrupt_parquet(path: Path) -> None:
    """A Parquet file whose data pages are overwritten: DuckDB fails while reading it."""
    rows = 1000
    table = pa.table(
        {
            "shop_id": ["s1"] * rows,
            "buyer_id": [f"b{i}" for i in range(rows)],
            "sender": ["buyer"] * rows,
            "ts": ["2024-01-07 10:00:00"] * rows,
        }
    )
    pq.write_table(table, path, compression="none")
    data = bytearray(path.read_bytes())
    data[200:3000] = b"\xab" * 2800
    path.write_bytes(bytes(data))


def test_a_duckdb_error_is_one_line_naming_the_table_and_file(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    corrupt_parquet(broken / "messages.parquet")
    line = one_line(invoke("assess", broken, "--out", tmp_path / "out", *AS_OF))
    assert line.startswith(f"kefu: messages ({broken / 'messages.parquet'}): ")
    assert len(line) < 400


def test_kefu_debug_shows_the_traceback(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    corrupt_parquet(broken / "messages.parquet")
    run = invoke("assess", broken, "--out", tmp_path / "out", env={"KEFU_DEBUG": "1"})
    assert run.exit_code == 1 and run.exception is not None
    assert isinstance(run.exception.__cause__ or run.exception, duckdb.Error)
    run = invoke("assess", MISSING, "-f", "xml", env={"KEFU_DEBUG": "1"})
    assert isinstance(run.exception, ValueError)


def test_engine_message_keeps_the_cause_of_a_csv_error():
    text = (
        "Invalid Input Error: CSV Error on Line: 6\nOriginal Line: 1,xxxx\n"
        "Maximum line size of 2000000 bytes exceeded. Actual Size:3000003 bytes.\n\n"
        "Possible Solution: Change the maximum length size\n\n  file = x.csv\n"
    )
    assert engine_message(duckdb.InvalidInputException(text)) == (
        "Invalid Input Error: CSV Error on Line: 6: "
        "Maximum line size of 2000000 bytes exceeded. Actual Size:3000003 bytes"
    )
    binder = 'Binder Error: column "x" not found\n\nLINE 1: SELECT x\n        ^'
    assert engine_message(duckdb.BinderException(binder)) == 'Binder Error: column "x" not found'


def test_no_staging_folder_is_left_after_any_run(shop, tmp_path):
    out = tmp_path / "out"
    invoke("assess", shop, "--out", out, "-f", "xml", *AS_OF)
    invoke("assess", shop, "--out", out, *AS_OF)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "shop"]
