"""No traceback, whatever the file: mangled inputs through the real CLI.

Every input format (csv, tsv, json, jsonl, parquet, xlsx) and every ``kefu import``
format gets a corpus of mangled files generated here — truncated, re-encoded, wrong types
in every column, binary junk, empty, header-only, NUL bytes, a huge line — plus random
byte edits drawn by Hypothesis. Each run must end either with exit code 0 and reconciled
counts (``read N = accepted A + quarantined Q``), or with exit code 2 and exactly one
``kefu: …`` line naming the file. Never a traceback, never another exit code.
"""

from __future__ import annotations

import io
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kefu.cli import app
from kefu.importers.commands import FORMATS

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
COLUMNS = ["shop_id", "buyer_id", "agent_id", "sender", "ts", "text", "msg_id", "seq"]
RECORDS = [
    ["s1", "b1", "", "buyer", "2024-01-07 10:00:00", "在吗", "m1", "1"],
    ["s1", "b1", "x1", "agent", "2024-01-07 10:00:30", "在的，亲", "m2", "2"],
    ["s1", "b2", "", "buyer", "2024-01-07 11:00:00", 'say "hi",\nthen', "m3", "3"],
    ["s1", "b2", "x1", "agent", "2024-01-07 11:05:00", "ok", "m4", "4"],
]
#: Values of the wrong type, put in every column in turn.
WRONG = [123, 4.5, True, None, {"a": 1}, [1, 2], "", "\x00", "9" * 40, "2024-13-45 25:61:00"]
#: One import example per format, with the options its README command uses.
IMPORTS = {
    "qianniu-json": ("qianniu-export.json", ["--account", "青禾家居旗舰店"]),
    "qianniu-xlsx": ("qianniu-export.xlsx", ["--account", "青禾家居旗舰店"]),
    "wangwang-txt": ("wangwang-export.txt", ["--account", "青禾家居旗舰店"]),
    "wechat-kf": ("wechat-kf-sync_msg.jsonl", []),
    "pdd": ("pdd-chat.jsonl", []),
    "twcs": ("twcs.csv", []),
}
TWCS = (
    "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
    '1,c1,True,Tue Oct 31 22:10:47 +0000 2017,"@shop help,\nplease",2,\n'
    "2,shop,False,Tue Oct 31 22:11:47 +0000 2017,@c1 sure ^JK,,1\n"
    "3,c2,True,Tue Oct 31 23:10:47 +0000 2017,@shop where is it,4,\n"
    "4,shop,False,Tue Oct 31 23:30:00 +0000 2017,@c2 on its way,,3\n"
)

runner = CliRunner()


# ------------------------------------------------------------------ valid inputs
def csv_bytes(rows: list[list[object]], delim: str = ",") -> bytes:
    import csv

    buf = io.StringIO()
    csv.writer(buf, delimiter=delim, lineterminator="\n").writerows([COLUMNS, *rows])
    return buf.getvalue().encode()


def jsonl_bytes(rows: list[list[object]]) -> bytes:
    lines = [json.dumps(dict(zip(COLUMNS, r, strict=True)), ensure_ascii=False) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def json_bytes(rows: list[list[object]]) -> bytes:
    return json.dumps([dict(zip(COLUMNS, r, strict=True)) for r in rows]).encode()


def parquet_bytes(rows: list[list[object]]) -> bytes:
    cols = {
        c: [None if r[i] in ("", None) else str(r[i]) for r in rows] for i, c in enumerate(COLUMNS)
    }
    buf = io.BytesIO()
    pq.write_table(pa.table({c: pa.array(v, pa.string()) for c, v in cols.items()}), buf)
    return buf.getvalue()


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = book.add_worksheet()
    for r, row in enumerate([COLUMNS, *rows]):
        for c, v in enumerate(row):
            ws.write(r, c, v if isinstance(v, str | int | float | bool) else json.dumps(v))
    book.close()
    return buf.getvalue()


WRITERS: dict[str, Callable[[list[list[object]]], bytes]] = {
    "csv": csv_bytes,
    "tsv": lambda rows: csv_bytes(rows, "\t"),
    "json": json_bytes,
    "jsonl": jsonl_bytes,
    "parquet": parquet_bytes,
    "xlsx": xlsx_bytes,
}


# ------------------------------------------------------------------ mangling
def mangled(valid: bytes, typed: Callable[[list[list[object]]], bytes]) -> dict[str, bytes]:
    """Named corpus of broken versions of one valid file."""
    rnd = random.Random(7)
    junk = bytes(rnd.randrange(256) for _ in range(3000))
    nul = bytearray(valid)
    for i in range(3, len(nul), max(1, len(nul) // 7)):
        nul[i] = 0
    flipped = bytearray(valid)
    for _ in range(12):
        flipped[rnd.randrange(len(flipped))] ^= 1 << rnd.randrange(8)
    text = valid.decode("utf-8", "replace")
    corpus = {
        "empty": b"",
        "blank": b"\n\n  \n",
        "header-only": typed([])[: len(typed([]))],
        "cut-third": valid[: len(valid) // 3],
        "cut-half": valid[: len(valid) // 2],
        "cut-mid-char": valid[: valid.find("在".encode()) + 1]
        if "在".encode() in valid
        else valid[:-3],
        "gbk": text.encode("gb18030", "replace"),
        "utf16": text.encode("utf-16"),
        "latin1": bytes(b if b < 128 else 0xE9 for b in valid),
        "junk": junk,
        "junk-after-valid": valid + junk,
        "nul": bytes(nul),
        "bit-flips": bytes(flipped),
        "huge-line": typed([[*RECORDS[0][:5], "x" * 300_000, "m9", "9"]]),
    }
    for i, col in enumerate(COLUMNS):
        corpus[f"wrong-types-{col}"] = typed(
            [[*r[:i], WRONG[(k + i) % len(WRONG)], *r[i + 1 :]] for k, r in enumerate(RECORDS * 3)]
        )
    return corpus


RECONCILE = re.compile(r"read (\d+) = accepted (\d+) \+ quarantined (\d+)(?: \+ duplicates (\d+))?")


def check_outcome(result, path: Path) -> None:
    """Exit 0 with reconciled counts, or exit 2 with one ``kefu:`` line naming the file."""
    output = result.output
    assert "Traceback" not in output, output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{path.name}: {type(result.exception).__name__}: {result.exception}")
    assert result.exit_code in (0, 2), (result.exit_code, output)
    counts = RECONCILE.findall(output)
    for read, accepted, quarantined, dups in counts:
        assert int(read) == int(accepted) + int(quarantined) + int(dups or 0), output
    if result.exit_code == 0:
        assert counts, output
        return
    lines = [line for line in output.splitlines() if line.startswith("kefu:")]
    assert len(lines) == 1, output
    if counts and "accepted" in lines[0]:
        return  # every row read and reconciled, none usable: said so, exit 2
    assert path.name in lines[0] or str(path.parent) in lines[0], output


def assess(path: Path, out: Path):
    return runner.invoke(app, ["assess", str(path), "--as-of", "2024-01-08", "--out", str(out)])


# ------------------------------------------------------------------ the tests
CASES = [
    (fmt, name, data)
    for fmt, writer in WRITERS.items()
    for name, data in mangled(writer(RECORDS), writer).items()
]


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_every_mangled_input_ends_in_figures_or_one_line(tmp_path: Path, fmt: str):
    failures: list[str] = []
    for i, (_, name, data) in enumerate(c for c in CASES if c[0] == fmt):
        folder = tmp_path / f"{i}-{name}"
        folder.mkdir()
        path = folder / f"messages.{fmt}"
        path.write_bytes(data)
        try:
            check_outcome(assess(path, folder / "out"), path)
        except AssertionError as exc:
            failures.append(f"{name}: {str(exc)[-600:]}")
    assert not failures, "\n\n".join(failures)


def _import_example(fmt: str, folder: Path) -> tuple[Path, list[str]]:
    name, options = IMPORTS[fmt]
    path = folder / name
    path.write_bytes(TWCS.encode() if fmt == "twcs" else (EXAMPLES / name).read_bytes())
    return path, options


def test_every_import_format_is_covered():
    assert set(FORMATS) == set(IMPORTS)


@pytest.mark.parametrize("fmt", sorted(IMPORTS))
def test_every_mangled_import_ends_in_a_report_or_one_line(tmp_path: Path, fmt: str):
    valid, options = _import_example(fmt, tmp_path)
    data = valid.read_bytes()
    rnd = random.Random(fmt)
    corpus = {
        "valid": data,
        "empty": b"",
        "cut-third": data[: len(data) // 3],
        "cut-half": data[: len(data) // 2],
        "junk": bytes(rnd.randrange(256) for _ in range(2000)),
        "nul": data.replace(b",", b",\x00", 5),
        "gbk": data.decode("utf-8", "replace").encode("gb18030", "replace")
        if valid.suffix != ".xlsx"
        else data[::-1],
        "huge-line": data[: len(data) // 2] + b"y" * 300_000 + data[len(data) // 2 :],
    }
    for name, content in corpus.items():
        folder = tmp_path / name
        folder.mkdir()
        path = folder / valid.name
        path.write_bytes(content)
        result = runner.invoke(
            app, ["import", fmt, str(path), *options, "--out", str(folder / "o")]
        )
        assert "Traceback" not in result.output, result.output
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(
                f"{fmt} {name}: {type(result.exception).__name__}: {result.exception}"
            )
        assert result.exit_code in (0, 2), (name, result.exit_code, result.output)
        assert result.exit_code == 0 or name != "valid", result.output
        if result.exit_code == 2:
            lines = [line for line in result.output.splitlines() if line.startswith("kefu:")]
            assert len(lines) == 1, (name, result.output)
            # The file, or (nothing accepted) the quarantine that says why of each record.
            assert str(path) in lines[0] or "quarantine.csv" in lines[0], result.output
            assert "Binder Error" not in lines[0], result.output  # an engine slip, not a reason


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fmt=st.sampled_from(["csv", "jsonl", "json"]),
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.binary(min_size=0, max_size=4)), max_size=6
    ),
)
def test_random_byte_edits_never_end_in_a_traceback(tmp_path_factory, fmt: str, edits):
    data = bytearray(WRITERS[fmt](RECORDS))
    for pos, chunk in edits:
        at = pos % (len(data) + 1)
        data[at : at + len(chunk)] = chunk
    folder = tmp_path_factory.mktemp("edit")
    path = folder / f"messages.{fmt}"
    path.write_bytes(bytes(data))
    check_outcome(assess(path, folder / "out"), path)


OTHER_TABLES = {
    "ratings": ["shop_id", "buyer_id", "agent_id", "score", "ts", "source"],
    "refusals": ["shop_id", "buyer_id", "ts"],
    "accounts": ["shop_id", "account"],
    "agents": ["agent_id", "shop_id", "name", "group"],
    "shops": ["shop_id", "industry", "tier"],
}


@pytest.mark.parametrize("table", list(OTHER_TABLES))
def test_wrong_types_in_every_other_table(tmp_path: Path, table: str):
    # Beside valid messages: each column of the table holds every wrong type in turn.
    cols = OTHER_TABLES[table]
    rows = [{c: WRONG[(k + i) % len(WRONG)] for i, c in enumerate(cols)} for k in range(12)]
    (tmp_path / "messages.csv").write_bytes(csv_bytes(RECORDS))
    path = tmp_path / f"{table}.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", "utf-8")
    check_outcome(assess(tmp_path, tmp_path / "out"), path)
