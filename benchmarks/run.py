"""Benchmark kefu against pandas, Polars and DuckDB's own floor on a generated dataset.

    uv run python benchmarks/run.py                      # 1 M and 10 M messages, median of 3
    uv run python benchmarks/run.py --sizes 1000000 --repeat 1 --no-doc

For every size the script

1. generates a day-partitioned dataset once (``dataset``: cached, git-ignored, with invalid
   rows, duplicates, own accounts, bots, ratings and refusals, in time order within a day);
2. runs ``kefu assess <folder> --format parquet`` in a child process (wall time and peak RSS
   of that child), and ``kefu.assess(...)`` in another with a timing engine that records
   every SQL step (load vs. compute, and where the time goes);
3. runs the pandas (``impl_pandas``) and Polars lazy (``impl_polars``) implementations of
   the same rules in child processes and checks (``agreement``) that their shop and agent
   ``rounds``, ``rounds_responded``, ``response_rate``, ``response_s`` and
   ``first_response_s`` agree with kefu's;
4. measures DuckDB's floor over the same message files: materialise them (read), and
   materialise them sorted by (shop_id, buyer_id, ts, seq) (read + sort);
5. reports medians over ``--repeat`` runs (``doc``), writes JSON under
   ``benchmarks/results/`` (git-ignored) and the generated part of ``docs/benchmarks.md``.

Every measurement runs in its own child process (``workers``, ``measure``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: the package beside it is importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import agreement, doc, measure
from benchmarks.dataset import Dataset, dataset
from benchmarks.rules import RoundRules

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
DEFAULT_SIZES = (1_000_000, 10_000_000)
DEFAULT_AS_OF = "2026-11-01"

#: The contenders measured per repeat, in the order they run.
KINDS = ("kefu_cli", "pandas", "polars", "duckdb_read", "duckdb_sort", "kefu_api")


def run_worker(kind: str, path: Path | str, as_of: str, out: str = "", **extra: str) -> dict:
    """One worker (``workers.WORKERS``) in a child process, its JSON report merged in."""
    measure.wait_for_quiet()  # before --launched: the worker measures its start-up
    cmd = [sys.executable, str(Path(__file__).resolve()), "_worker", kind]
    cmd += ["--path", str(path), "--as-of", as_of, "--out", out, "--launched", repr(time.time())]
    for key, value in extra.items():
        cmd += [f"--{key.replace('_', '-')}", value]
    child = measure.run_child(cmd)
    if child["returncode"] != 0:
        return {**child, "error": child["stderr_tail"] or f"exit {child['returncode']}"}
    lines = child["stdout"].strip().splitlines()
    return {**child, **json.loads(lines[-1]), "stdout": ""}


def kefu_command() -> list[str]:
    """The ``kefu`` entry point of this environment (what ``uv run kefu`` executes)."""
    beside = Path(sys.executable).parent / ("kefu.exe" if os.name == "nt" else "kefu")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("kefu")
    if found:
        return [found]
    return [sys.executable, "-c", "from kefu.cli import main; main()"]


def run_cli(folder: Path, as_of: str, out: Path) -> dict[str, Any]:
    measure.wait_for_quiet()
    cmd = [*kefu_command(), "assess", str(folder), "--as-of", as_of]
    cmd += ["--out", str(out), "--format", "parquet"]
    child = measure.run_child(cmd)
    child["stdout"] = ""
    if child["returncode"] != 0:
        child["error"] = child["stderr_tail"] or f"exit {child['returncode']}"
    return child


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarise_api(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median time per (phase, step) over the API runs, in first-seen order."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {}
    steps: dict[tuple[str, str], list[float]] = {}
    peaks: dict[tuple[str, str], int] = {}
    for run in ok:
        per_run: dict[tuple[str, str], float] = {}
        for event in run["events"]:
            key = (event["phase"], event["label"])
            per_run[key] = per_run.get(key, 0.0) + event["s"]
            peaks[key] = max(peaks.get(key, 0), event["peak_rss"])
        for key, seconds in per_run.items():
            steps.setdefault(key, []).append(seconds)
    fields = ("assess_s", "load_s", "compute_s", "startup_s", "import_s", "wall_s")
    return {
        **{f: median([r[f] for r in ok]) for f in fields},
        "peak_rss": max(r["peak_rss"] for r in ok),
        "reconciliation": {k: ok[0].get(k) for k in ("read", "rows", "quarantined", "duplicates")},
        "steps": [
            {"phase": phase, "label": label, "s": median(values), "peak_rss": peaks[(phase, label)]}
            for (phase, label), values in steps.items()
        ],
    }


def measure_repeats(
    data: Dataset, args: argparse.Namespace, tmp: Path, status: Callable[[str], None]
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Every contender ``--repeat`` times: the raw runs, and the agreement of the first."""
    raw: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    agree: dict[str, Any] = {}
    size = f"{data.counts.get('messages', 0):,}"
    for rep in range(args.repeat):
        tag = f"{size} · run {rep + 1}/{args.repeat}"
        status(f"{tag} · kefu assess (CLI)")
        cli_out = tmp / f"cli-{rep}"
        raw["kefu_cli"].append(run_cli(data.root, args.as_of, cli_out))
        for name in ("pandas", "polars"):
            status(f"{tag} · {name}")
            out = tmp / f"{name}-{rep}"
            rules = RoundRules.of(dt.date.fromisoformat(args.as_of)).to_json()
            raw[name].append(run_worker(name, data.root, args.as_of, str(out), rules=rules))
            if name not in agree and not any("error" in raw[k][-1] for k in ("kefu_cli", name)):
                agree[name] = agreement.compare(cli_out, out, name)
        status(f"{tag} · DuckDB read floor")
        raw["duckdb_read"].append(run_worker("duckdb-read", data.message_glob, args.as_of))
        status(f"{tag} · DuckDB read+sort floor")
        raw["duckdb_sort"].append(run_worker("duckdb-sort", data.message_glob, args.as_of))
        if not args.no_profile:
            status(f"{tag} · kefu.assess in-process (profiled)")
            api_out = str(tmp / f"api-{rep}")
            raw["kefu_api"].append(run_worker("api", data.root, args.as_of, api_out))
    return raw, agree


def bench_size(
    size: int, args: argparse.Namespace, console: Any, status: Callable[[str], None]
) -> dict[str, Any]:
    data = dataset(size, args.shops, args.seed, args.as_of, console)
    src_before = measure.src_fingerprint()
    with tempfile.TemporaryDirectory(prefix="kefu-bench-") as tmp_name:
        tmp = Path(tmp_name)
        raw, agree = measure_repeats(data, args, tmp, status)
        limited: dict[str, Any] | None = None
        if args.memory_limit:
            status(f"{size:,} · kefu.assess with DuckDB memory_limit={args.memory_limit}")
            run = run_worker(
                "api",
                data.root,
                args.as_of,
                str(tmp / "api-limited"),
                memory_limit=args.memory_limit,
            )
            limited = {
                "memory_limit": args.memory_limit,
                "error": run.get("error"),
                "wall_s": run["wall_s"],
                "assess_s": run.get("assess_s"),
                "peak_rss": run["peak_rss"],
            }
    src_after = measure.src_fingerprint()

    def ok(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in runs if "error" not in r]

    def med(key: str, field: str) -> float | None:
        return median([r[field] for r in ok(raw[key])])

    def peak(key: str) -> int | None:
        runs = ok(raw[key])
        return max(r["peak_rss"] for r in runs) if runs else None

    errors = {k: [r["error"] for r in v if "error" in r] for k, v in raw.items()}
    others = [r["other_cores"] for v in raw.values() for r in v if r.get("other_cores") is not None]
    row_counts = [r.get("rows") for r in ok(raw["duckdb_read"])]
    summary: dict[str, Any] = {
        "size": size,
        "rows": row_counts[0] if row_counts else None,
        "data": {**data.counts, "mib": data.size_mib()},
        "kefu_cli_s": med("kefu_cli", "wall_s"),
        "kefu_cli_peak_rss": peak("kefu_cli"),
        "api": summarise_api(raw["kefu_api"]),
        "memory_limited": limited,
        "agreement": agree,
        "errors": {k: v for k, v in errors.items() if v},
        "other_cores_max": max(others) if others else None,
        "other_cores_mean": statistics.mean(others) if others else None,
        "src_changed": sorted(
            f for f in src_before.keys() | src_after.keys() if src_before.get(f) != src_after.get(f)
        ),
    }
    for name in ("pandas", "polars"):
        summary[f"{name}_s"] = med(name, "wall_s")
        summary[f"{name}_compute_s"] = med(name, "compute_s")
        summary[f"{name}_peak_rss"] = peak(name)
    for name in ("duckdb_read", "duckdb_sort"):
        summary[f"{name}_s"] = med(name, "query_s")
        summary[f"{name}_peak_rss"] = peak(name)
    for run in (r for runs in raw.values() for r in runs):
        run.pop("stdout", None)
        run.pop("events", None)
    summary["raw"] = raw
    return summary


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--shops", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--as-of", default=DEFAULT_AS_OF)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--memory-limit",
        default="2GB",
        help="also run kefu.assess once per size with this DuckDB memory_limit ('' to skip)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help="seconds to wait, before each measurement, for other processes to go idle",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the profiled API runs")
    parser.add_argument(
        "--doc-from", type=Path, help="only rewrite docs/benchmarks.md from this results JSON"
    )
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    measure.QUIET_WAIT["s"] = args.quiet_wait
    if args.doc_from:
        doc.write_doc(json.loads(args.doc_from.read_text("utf-8")))
        print(f"updated {doc.DOC.relative_to(ROOT)} from {args.doc_from}")
        return

    from rich.console import Console

    console = Console(width=None if sys.stdout.isatty() else 160)
    started = time.perf_counter()

    def status(text: str) -> None:
        console.print(f"[dim]{time.perf_counter() - started:7.1f} s[/]  {text}")

    command = "uv run python benchmarks/run.py" + (
        " " + shlex.join(sys.argv[1:]) if argv is None and sys.argv[1:] else ""
    )
    report: dict[str, Any] = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "command": command,
        "repeat": args.repeat,
        "shops": args.shops,
        "as_of": args.as_of,
        "seed": args.seed,
        "machine": measure.machine(),
        "sizes": [],
    }
    for size in sorted(args.sizes):
        report["sizes"].append(bench_size(size, args, console, status))
    report["total_s"] = time.perf_counter() - started

    doc.print_results(console, report)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    result_path = RESULTS_DIR / f"benchmark-{stamp}.json"
    result_path.write_text(json.dumps(report, indent=1, ensure_ascii=False), "utf-8")
    shutil.copyfile(result_path, RESULTS_DIR / "latest.json")
    console.print(f"[dim]results: {result_path.relative_to(ROOT)}[/]")
    if not args.no_doc:
        doc.write_doc(report)
        console.print(f"[dim]updated {doc.DOC.relative_to(ROOT)}[/]")
    console.print(f"[dim]total {report['total_s']:.0f} s[/]")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        from benchmarks.workers import worker_main

        worker_main(sys.argv[2:])
    else:
        main()
