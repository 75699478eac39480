"""Daily incremental runs: the cost of adding one day to a state against a full recomputation.

For each size it takes (once, cached in ``benchmarks/data/``) 60 days of day-partitioned
messages (``kefu.demo.scale.write_dataset``, as ``benchmarks/scale.py`` writes them), then
runs as child processes, in one run of this script:

1. ``kefu assess DATA --state S --as-of <last day>``: the state built from the first 59 days;
2. ``kefu assess DATA --state S --as-of <day after>``: the last day added, its window read;
3. the same again: no new day, only the window read from the state;
4. ``kefu assess DATA --as-of <day after>``: the one-off run of the same window;

and compares the figures of 2 and 4 (every level's Parquet file, floats to 1e-9), under a
profile whose ``history_days`` reaches the first day, as a state's history does (T2); a
one-off run with the default ``history_days`` is compared too, to count what T2's bounded
history changes. Wall time and peak RSS of each child come from ``wait4``.

    uv run python benchmarks/daily.py --sizes 1000000,10000000

writes the table into docs/scaling.md between ``<!-- daily-results:start -->`` and
``<!-- daily-results:end -->``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import shutil
import sys
from pathlib import Path

import pyarrow.parquet as pq
from scale import DATA, ROOT, dataset, run_child  # this folder, beside the script

DOC = ROOT / "docs" / "scaling.md"
START, END = "<!-- daily-results:start -->", "<!-- daily-results:end -->"
AS_OF = dt.date(2026, 11, 1)
DAYS = 60
#: The one-off run that reads the history a state has (T2: ``history_days`` bounds a
#: one-off run only); the default one-off run is measured beside it.
HISTORY_PROFILE = 'name = "taobao-history"\nextends = "taobao"\n\n[params]\nhistory_days = 60\n'


def kefu(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "kefu"), "assess", *args]


def run(name: str, args: list[str]) -> dict:
    print(f"  {name} …", flush=True)
    result = run_child(args, DATA / "tmp-daily")
    if result["exit"] != 0:
        raise SystemExit(f"{name} failed:\n{result['output'][-3000:]}")
    result.pop("output")
    print(f"    {result}", flush=True)
    return result


def compare(a: Path, b: Path) -> tuple[int, int]:
    """(values that differ, values compared) between every level's figures in ``a`` and ``b``;
    a level whose rows differ in number counts all its values as differing."""
    differ = compared = 0
    for path in sorted(b.glob("figures-*.parquet")):
        x, y = pq.read_table(a / path.name).to_pylist(), pq.read_table(path).to_pylist()
        if len(x) != len(y):
            n = max(len(x), len(y)) * len((x or y)[0])
            differ, compared = differ + n, compared + n
            continue
        for r, s in zip(x, y, strict=True):
            for key, u in r.items():
                v = s[key]
                close = isinstance(u, float) and isinstance(v, float)
                same = math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9) if close else u == v
                differ, compared = differ + (not same), compared + 1
    return differ, compared


def measure(size: int) -> dict:
    """The four runs of one size under a profile whose one-off history reaches the first
    day (the state's), and the default one-off run beside them."""
    folder, info = dataset(size, DAYS, 7, AS_OF.isoformat(), None)
    state, out = DATA / "daily-state", DATA / "daily-out"
    shutil.rmtree(state, ignore_errors=True)
    profile = DATA / "taobao-history.toml"
    profile.write_text(HISTORY_PROFILE)
    common = ["--memory-limit", "4GB", "-f", "parquet", "--scorecards", "0"]
    long = [*common, "--profile", str(profile)]
    day, last = AS_OF.isoformat(), (AS_OF - dt.timedelta(days=1)).isoformat()
    build = run("build 59 days", kefu(str(folder), "--state", str(state), "--as-of", last,
                                      "--out", str(out / "build"), *long))  # fmt: skip
    add = run("add 1 day", kefu(str(folder), "--state", str(state), "--as-of", day,
                                "--out", str(out / "add"), *long))  # fmt: skip
    again = run("no new day", kefu(str(folder), "--state", str(state), "--as-of", day,
                                   "--out", str(out / "again"), *long))  # fmt: skip
    full = run("one-off run", kefu(str(folder), "--as-of", day, "--out", str(out / "full"),
                                   *long))  # fmt: skip
    run("one-off run, default history", kefu(str(folder), "--as-of", day,
                                             "--out", str(out / "default"), *common))  # fmt: skip
    differ, compared = compare(out / "add", out / "full")
    default_differ, _ = compare(out / "add", out / "default")
    state_mib = sum(p.stat().st_size for p in state.rglob("*") if p.is_file()) / 2**20
    shutil.rmtree(state, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    return {"messages": size, "shops": info["shops"], "build": build, "add": add,
            "again": again, "full": full, "differ": differ, "compared": compared,
            "default_differ": default_differ, "state_mib": round(state_mib, 1)}  # fmt: skip


def table(results: list[dict], command: str) -> str:
    lines = [
        f"Reproduce: `{command}` ({platform.machine()}, {os.cpu_count()} cores, "
        "`--memory-limit 4GB -f parquet`; wall time and peak RSS of each `kefu assess` "
        f"child from `wait4`; {DAYS} day partitions, window = the last 30).",
        "",
        "| messages (60 days) | shops | build 59 days | add 1 day | no new day | one-off run "
        "| one-off ÷ add | same figures | vs default history | state on disk |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    for r in results:
        cell = [f"{r[k]['wall_s']} s, {r[k]['peak_rss_gib']} GiB"
                for k in ("build", "add", "again", "full")]  # fmt: skip
        ratio = r["full"]["wall_s"] / max(r["add"]["wall_s"], 0.1)
        same = f"yes ({r['compared']:,} values)" if not r["differ"] else f"NO: {r['differ']:,}"
        lines.append(
            f"| {r['messages']:,} | {r['shops']:,} | {' | '.join(cell)} | {ratio:.1f}× | "
            f"{same} | {r['default_differ']:,} values differ | {r['state_mib']} MiB |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000")
    args = parser.parse_args()
    results = [measure(int(s)) for s in args.sizes.split(",")]
    command = f"uv run python benchmarks/daily.py --sizes {args.sizes}"
    text = table(results, command)
    print(text)
    doc = DOC.read_text("utf-8")
    block = f"{START}\n{text}\n{END}"
    if START in doc:
        doc = doc[: doc.index(START)] + block + doc[doc.index(END) + len(END) :]
    else:
        doc += f"\n{block}\n"
    DOC.write_text(doc, "utf-8")


if __name__ == "__main__":
    main()
