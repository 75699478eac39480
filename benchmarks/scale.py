"""Out of core: a year of day-partitioned messages assessed with a 4 GB engine cap (issue 8 §3).

For each size it writes (once, cached in ``benchmarks/data/``) a year of messages with
``kefu.demo.scale.write_dataset`` (``kefu demo --scale N --days 365``), then runs
``kefu assess`` on it as a child process with ``--memory-limit 4GB`` twice: for one 30-day
window (the default: the window before the day after the last partition) and for the
whole year (a user profile extending taobao with ``window_days = 365``). Each run records
wall time, peak RSS of the child (``os.wait4``), the peak size of DuckDB's spill folder (the
child's ``TMPDIR``, polled), and the day partitions opened (the load report's note, which
``tests/test_partitioned.py`` proves by corrupting a partition outside it). The writer's own
time and peak RSS are recorded too.

    uv run python benchmarks/scale.py --sizes 1000000,10000000,100000000

writes the table into docs/benchmarks.md between ``<!-- scale-results:start -->`` and
``<!-- scale-results:end -->`` (the section is added at the end when missing).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- scale-results:start -->", "<!-- scale-results:end -->"
SECTION = "## Out of core: 100 M messages"
RSS_LIMIT_GIB = 5.0
YEAR_PROFILE = 'name = "taobao-year"\nextends = "taobao"\n\n[params]\nwindow_days = 365\n'


def gib(n_bytes: float) -> float:
    return n_bytes / 2**30


class _Spill:
    """Polls the size of a folder (DuckDB's spill files) while a child runs."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.peak, self._stop = folder, 0, threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _size(self) -> int:
        total = 0
        for path in self.folder.rglob("*"):
            with contextlib.suppress(OSError):  # removed while we looked
                total += path.stat().st_size if path.is_file() else 0
        return total

    def _poll(self) -> None:
        while not self._stop.wait(0.5):
            self.peak = max(self.peak, self._size())

    def __enter__(self) -> _Spill:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_child(args: list[str], tmp: Path) -> dict:
    """Run ``args`` with ``TMPDIR=tmp``; wall time, peak RSS (wait4), peak spill, output."""
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    env = {**os.environ, "TMPDIR": str(tmp), "COLUMNS": "200"}
    out_file = tmp.parent / f"{tmp.name}.out"
    with out_file.open("w") as out, _Spill(tmp) as spill:
        start = time.perf_counter()
        child = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    text = out_file.read_text()
    shutil.rmtree(tmp, ignore_errors=True)
    return {
        "wall_s": round(wall, 1),
        "peak_rss_gib": round(usage.ru_maxrss * 1024 / 2**30, 2),
        "spill_gib": round(gib(spill.peak), 2),
        "exit": child.returncode,
        "output": text,
    }


def dataset(size: int, days: int, seed: int, as_of: str, shops: int | None) -> tuple[Path, dict]:
    """The cached dataset of ``size`` messages (written by a child process when missing)."""
    from kefu.demo.scale import default_shops

    n_shops = shops or default_shops(size)
    folder = DATA / f"scale-n{size}-d{days}-shops{n_shops}-seed{seed}-asof{as_of}"
    done = folder / ".written.json"
    if done.exists():
        return folder, json.loads(done.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    args = [sys.executable, __file__, "--write", str(folder), str(size), str(n_shops),
            str(days), str(seed), as_of]  # fmt: skip
    print(f"writing {size:,} messages over {days} days ({n_shops} shops) to {folder} …")
    run = run_child(args, DATA / "tmp-write")
    if run["exit"] != 0:
        raise SystemExit(f"writing failed:\n{run['output']}")
    counts = json.loads(run["output"].strip().splitlines()[-1])
    info = {"counts": counts, "shops": n_shops, "days": days,
            "write_s": run["wall_s"], "write_rss_gib": run["peak_rss_gib"]}  # fmt: skip
    done.write_text(json.dumps(info))
    return folder, info


def _write(folder: str, size: str, shops: str, days: str, seed: str, as_of: str) -> None:
    import datetime as dt

    from kefu.demo.scale import write_dataset

    counts = write_dataset(Path(folder), int(size), int(shops), dt.date.fromisoformat(as_of),
                           days=int(days), seed=int(seed))  # fmt: skip
    print(json.dumps(counts))


def assess(folder: Path, window: str, memory: str) -> dict:
    """``kefu assess`` of ``folder`` in a child: the 30-day window or the whole year."""
    kefu = Path(sys.executable).parent / "kefu"
    out = DATA / "scale-out"
    # Parquet figures: ``-f json`` builds every level's rows as Python objects, which for a
    # year of 10,000 shops (a few million agent x day rows) takes more memory than the engine.
    args = [str(kefu), "assess", str(folder), "--memory-limit", memory, "--out", str(out),
            "--scorecards", "0", "-f", "parquet"]  # fmt: skip
    if window == "year":
        profile = DATA / "taobao-year.toml"
        profile.write_text(YEAR_PROFILE)
        args += ["--profile", str(profile)]
    print(f"  assess {folder.name} ({window}) …", flush=True)
    run = run_child(args, DATA / "tmp-assess")
    if run["exit"] != 0:
        raise SystemExit(f"kefu assess failed:\n{run['output'][-3000:]}")
    text = run.pop("output")
    read = re.search(r"messages: read (\d+) = accepted (\d+) \+ quarantined (\d+)", text)
    days = re.search(r"messages: read (\d+) of (\d+) day partitions", text)
    window_line = re.search(r"window (\S+) – (\S+)", text)
    assert read and days and window_line, text[-2000:]
    run.update(
        messages_read=int(read[1]),
        accepted=int(read[2]),
        partitions_read=int(days[1]),
        partitions=int(days[2]),
        window=f"{window_line[1]} – {window_line[2]}",
    )
    print(f"    {run}", flush=True)
    return run


def table(results: list[dict], command: str, memory: str) -> str:
    """The Markdown written between the markers."""
    lines = [
        f"Reproduce: `{command}` (cached datasets in `benchmarks/data/`; "
        f"{platform.machine()}, {os.cpu_count()} cores, `kefu assess … --memory-limit {memory} "
        f"-f parquet`, "
        f"peak RSS of the `kefu assess` child from `wait4`, spill = peak size of DuckDB's "
        f"temp folder).",
        "",
        "| messages (year, 365 day partitions) | shops | write s | write peak RSS | run | "
        "partitions opened | messages read | wall s | peak RSS | spill peak | RSS < 5 GiB |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        for name in ("window", "year"):
            a = r[name]
            run = "30-day window" if name == "window" else "whole year"
            lines.append(
                f"| {r['messages']:,} | {r['shops']:,} | {r['write_s']} | "
                f"{r['write_rss_gib']} GiB | {run} ({a['window']}) | "
                f"{a['partitions_read']} of {a['partitions']} | "
                f"{a['messages_read']:,} | {a['wall_s']} | {a['peak_rss_gib']} GiB | "
                f"{a['spill_gib']} GiB | {'yes' if a['peak_rss_gib'] < RSS_LIMIT_GIB else 'NO'} |"
            )
    if len(results) > 1:
        first, last = results[0], results[-1]
        grow = last["messages"] / first["messages"]
        for name in ("window", "year"):
            t = last[name]["wall_s"] / max(first[name]["wall_s"], 0.1)
            lines.append("")
            lines.append(
                f"{'30-day window' if name == 'window' else 'Whole year'}: "
                f"{grow:.0f}× the messages took {t:.1f}× the time "
                f"({first[name]['wall_s']} s → {last[name]['wall_s']} s) and "
                f"{first[name]['peak_rss_gib']} → {last[name]['peak_rss_gib']} GiB peak RSS."
            )
    return "\n".join(lines)


def write_doc(markdown: str) -> None:
    text = DOC.read_text()
    block = f"{START}\n{markdown}\n{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\n{block}\n"
    DOC.write_text(text)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--write":
        _write(*sys.argv[2:8])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000,100000000")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--shops", type=int, default=None, help="default ~1,000 per 10 M")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", default="2026-11-01")
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument("--no-doc", action="store_true", help="do not update the doc")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    DATA.mkdir(parents=True, exist_ok=True)
    results = []
    for size in sizes:
        folder, info = dataset(size, args.days, args.seed, args.as_of, args.shops)
        results.append(
            {
                "messages": info["counts"]["messages"],
                "shops": info["shops"],
                "write_s": info["write_s"],
                "write_rss_gib": info["write_rss_gib"],
                "window": assess(folder, "window", args.memory_limit),
                "year": assess(folder, "year", args.memory_limit),
            }
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(results, indent=2))
    command = f"uv run python benchmarks/scale.py --sizes {args.sizes}"
    markdown = table(results, command, args.memory_limit)
    print(markdown)
    if not args.no_doc:
        write_doc(markdown)


if __name__ == "__main__":
    main()
