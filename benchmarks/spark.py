"""DuckDB and Spark side by side: ``kefu assess --engine duckdb|spark`` on the same month.

For each size it writes (once, cached in ``benchmarks/data/``) 30 days of day-partitioned
messages (``kefu demo --scale N``) and runs ``kefu assess`` on it as a child process, once
per engine, in the same run: DuckDB embedded, and Spark on ``local[2]`` (this machine's two
cores). Each run records wall time, rows/s (messages read / wall) and the peak RSS of the
child's whole process tree (polled: Spark's JVM is a grandchild, which ``wait4`` does not
see), and the figures of both engines are compared level by level (counts equal, the rest
to 1e-9).

    uv run python benchmarks/spark.py --sizes 1000000,10000000

writes the table into docs/scaling.md between ``<!-- spark-results:start -->`` and
``<!-- spark-results:end -->``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
from scale import DATA, ROOT, dataset, gib  # this folder, beside the script

DOC = ROOT / "docs" / "scaling.md"
RESULTS = ROOT / "benchmarks" / "results"
START, END = "<!-- spark-results:start -->", "<!-- spark-results:end -->"
LEVELS = ("shop", "agent", "group", "day", "hour", "agent_day")


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and every process below it."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:  # gone while we looked
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        rss[int(entry.name)] = int(found[1]) * 1024 if found else 0
    tree, grew = {root}, True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in tree} - tree
        grew = bool(below)
        tree |= below
    return sum(rss.get(pid, 0) for pid in tree)


def run_tree(args: list[str], log: Path) -> dict:
    """Run ``args``; wall time and the peak RSS of its process tree (polled every 0.2 s)."""
    peak, done = [0], threading.Event()
    with log.open("w") as out:
        start = time.perf_counter()
        child = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                 env={**os.environ, "COLUMNS": "200"})  # fmt: skip

        def poll() -> None:
            while not done.wait(0.2):
                peak[0] = max(peak[0], _tree_rss(child.pid))

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        code = child.wait()
        wall = time.perf_counter() - start
        done.set()
        poller.join()
    return {"wall_s": round(wall, 1), "peak_rss_gib": round(gib(peak[0]), 2), "exit": code,
            "output": log.read_text()}  # fmt: skip


def assess(folder: Path, engine: str) -> dict:
    kefu = Path(sys.executable).parent / "kefu"
    out = DATA / f"spark-out-{engine}"
    args = [str(kefu), "assess", str(folder), "--engine", engine, "--out", str(out),
            "--scorecards", "0", "-f", "parquet"]  # fmt: skip
    if engine == "spark":
        args += ["--spark-master", "local[2]"]
    print(f"  assess {folder.name} on {engine} …", flush=True)
    run = run_tree(args, DATA / f"spark-{engine}.out")
    if run["exit"] != 0:
        raise SystemExit(f"kefu assess --engine {engine} failed:\n{run['output'][-3000:]}")
    text = run.pop("output")
    read = re.search(r"messages: read (\d+) = accepted (\d+)", text)
    assert read, text[-2000:]
    run["messages_read"] = int(read[1])
    run["rows_per_s"] = round(int(read[1]) / run["wall_s"])
    run["out"] = str(out)
    print(f"    {run}", flush=True)
    return run


def same_figures(a: Path, b: Path) -> str:
    """``yes`` if every level's figures agree (counts equal, the rest to 1e-9), else why not."""
    for level in LEVELS:
        x = pq.read_table(a / f"figures-{level}.parquet")
        y = pq.read_table(b / f"figures-{level}.parquet")
        if x.schema != y.schema or x.num_rows != y.num_rows:
            return f"no: {level} differs in schema or rows"
        for column in x.column_names:
            for u, v in zip(x[column].to_pylist(), y[column].to_pylist(), strict=True):
                if isinstance(u, float) and isinstance(v, float):
                    if not (math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9) or (u != u and v != v)):
                        return f"no: {level}.{column} {u} vs {v}"
                elif u != v:
                    return f"no: {level}.{column} {u!r} vs {v!r}"
    return "yes"


def table(results: list[dict], command: str) -> str:
    lines = [
        f"Reproduce: `{command}` ({platform.machine()}, {os.cpu_count()} cores; 30 days of "
        "day-partitioned messages from `kefu demo --scale N`; `kefu assess … -f parquet` in a "
        "child process per engine, one after the other in the same run; peak RSS of the "
        "child's whole process tree, the JVM included).",
        "",
        "| messages | shops | engine | wall s | messages/s | peak RSS | vs DuckDB | same figures |",
        "|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        duck = r["duckdb"]
        for engine in ("duckdb", "spark"):
            a = r[engine]
            ratio = "1.0×" if engine == "duckdb" else f"{a['wall_s'] / duck['wall_s']:.1f}×"
            same = "—" if engine == "duckdb" else r["same"]
            label = "DuckDB (embedded)" if engine == "duckdb" else "Spark local[2]"
            lines.append(
                f"| {a['messages_read']:,} | {r['shops']:,} | {label} | {a['wall_s']} | "
                f"{a['rows_per_s']:,} | {a['peak_rss_gib']} GiB | {ratio} | {same} |"
            )
    return "\n".join(lines)


def write_doc(markdown: str) -> None:
    text = DOC.read_text()
    head, rest = text.split(START, 1)
    DOC.write_text(head + f"{START}\n{markdown}\n{END}" + rest.split(END, 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", default="2026-11-01")
    parser.add_argument("--no-doc", action="store_true", help="do not update the doc")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        folder, info = dataset(size, 30, args.seed, args.as_of, None)
        runs = {engine: assess(folder, engine) for engine in ("duckdb", "spark")}
        same = same_figures(Path(runs["duckdb"]["out"]), Path(runs["spark"]["out"]))
        results.append({"messages": size, "shops": info["shops"], **runs, "same": same})
        for engine in ("duckdb", "spark"):
            shutil.rmtree(runs[engine]["out"], ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "spark.json").write_text(json.dumps(results, indent=2))
    markdown = table(results, f"uv run python benchmarks/spark.py --sizes {args.sizes}")
    print(markdown)
    if not args.no_doc:
        write_doc(markdown)


if __name__ == "__main__":
    main()
