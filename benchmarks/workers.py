"""The measured programs: each runs in its own child process (``run.py _worker KIND``) and
prints one JSON object as its last line.

- ``pandas``, ``polars``: the implementations in ``impl_pandas`` / ``impl_polars``; they
  write ``shop.parquet`` and ``agent.parquet`` into ``--out`` for the agreement check.
- ``duckdb-read``, ``duckdb-sort``: DuckDB's floors over the same message files.
- ``api``: ``kefu.assess`` in-process with every engine call timed, then the CLI's output
  steps (where kefu's time goes).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def peak_rss_self() -> int:
    """Peak RSS of this process so far, in bytes."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def worker_pandas(args: argparse.Namespace) -> dict[str, Any]:
    import pandas as pd

    from benchmarks import impl_pandas
    from benchmarks.rules import RoundRules

    rules = RoundRules.from_json(args.rules)
    t0 = time.perf_counter()
    levels = impl_pandas.assess(Path(args.path), rules)
    compute_s = time.perf_counter() - t0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for level, frame in levels.items():
        frame.to_parquet(out / f"{level}.parquet", index=False)
    return {"compute_s": compute_s, "shops": len(levels["shop"]), "version": pd.__version__}


def worker_polars(args: argparse.Namespace) -> dict[str, Any]:
    import polars as pl

    from benchmarks import impl_polars
    from benchmarks.rules import RoundRules

    rules = RoundRules.from_json(args.rules)
    t0 = time.perf_counter()
    levels = impl_polars.assess(Path(args.path), rules)
    compute_s = time.perf_counter() - t0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for level, frame in levels.items():
        frame.write_parquet(out / f"{level}.parquet")
    return {"compute_s": compute_s, "shops": levels["shop"].height, "version": pl.__version__}


#: The floors' sort: every stream in time order, as rounds need it (T3 without file order).
FLOOR_ORDER = " ORDER BY shop_id, buyer_id, ts, seq"


def worker_duckdb(args: argparse.Namespace) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    order = FLOOR_ORDER if args.kind == "duckdb-sort" else ""
    # A parameter cannot stand in a table function inside CREATE TABLE AS: inline the path.
    source = "read_parquet('" + str(args.path).replace("'", "''") + "')"
    t0 = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM {source}{order}")
    query_s = time.perf_counter() - t0
    rows = con.execute("SELECT count(*) FROM t").fetchone()
    con.close()
    return {"query_s": query_s, "rows": rows[0] if rows else None}


#: Engine methods the profiler times (those the engine has); calls nested in another are
#: part of the outer one.
TIMED_METHODS = (
    "materialize", "view", "drop", "register", "execute", "query", "scalar", "columns",
    "namespace", "drop_namespace",
)  # fmt: skip

#: A file number in a table name (``raw_messages_0``): steps are summed over files.
NUMBERED = re.compile(r"_\d+\b")
#: An assessment's namespace before a relation's name (``kefu_a1.rounds``).
NAMESPACE = re.compile(r"\bkefu_a\d+\.")
#: The first table a query reads, which names it in the profile.
FIRST_TABLE = re.compile(r"\bFROM\s+([A-Za-z_][\w.]*)", re.IGNORECASE)


def _name(value: object) -> str:
    return NUMBERED.sub("", NAMESPACE.sub("", str(value)))


def _query_label(sql: object) -> str:
    found = FIRST_TABLE.search(str(sql))
    return f"query over {_name(found.group(1))}" if found else "query"


def timed_engine_class(base: type, events: list[dict[str, Any]]) -> type:
    """A subclass of ``base`` recording (phase, step, seconds, peak RSS) for every call.

    ``phase`` is set by ``on_step`` to the audit relation being built; once that relation is
    created, the phase becomes ``figures`` (the level queries that follow).
    """

    def label(method: str, args: tuple[Any, ...]) -> str:
        if method in ("materialize", "view", "drop", "register"):
            return method + " " + _name(args[0])
        if method == "execute":
            return _name(" ".join(str(args[0]).split()[:3]))
        if method == "scalar":
            return "counts (scalar queries)"
        if method == "columns":
            return "describe columns"
        if method == "query" and args:
            return _query_label(args[0])
        return method

    def wrap(method: str) -> Callable[..., Any]:
        inner = getattr(base, method)

        def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
            if self.depth:
                return inner(self, *args, **kwargs)
            step = label(method, args)
            phase = self.phase
            self.depth += 1
            start = time.perf_counter()
            try:
                return inner(self, *args, **kwargs)
            finally:
                seconds = time.perf_counter() - start
                self.depth -= 1
                events.append(
                    {"phase": phase, "label": step, "s": seconds, "peak_rss": peak_rss_self()}
                )
                built = args and _name(args[0]).rsplit(".", 1)[-1] == self.phase
                if method in ("materialize", "view") and built:
                    self.phase = "figures"

        return timed

    attrs: dict[str, Any] = {"phase": "load", "depth": 0}
    attrs |= {m: wrap(m) for m in TIMED_METHODS if hasattr(base, m)}
    return type("TimedEngine", (base,), attrs)


def name_levels(events: list[dict[str, Any]], level_names: list[str]) -> None:
    """Label the figure queries by level when there is one query per level, in order."""
    queries = [e for e in events if e["phase"] == "figures" and e["label"].startswith("query")]
    if len(queries) == len(level_names):
        for event, level in zip(queries, level_names, strict=True):
            event["label"] = f"level {level}"


def _output_event(label: str, start: float) -> dict[str, Any]:
    return {
        "phase": "output",
        "label": label,
        "s": time.perf_counter() - start,
        "peak_rss": peak_rss_self(),
    }


def worker_api(args: argparse.Namespace) -> dict[str, Any]:
    """``kefu.assess`` in-process with every engine call timed, then the CLI's output steps."""
    startup_s = time.time() - args.launched
    t0 = time.perf_counter()
    import kefu
    from kefu.engine.duckdb import DuckDBEngine
    from kefu.report.export import write_figures, write_quarantine
    from kefu.report.scorecard import print_scorecards

    try:
        from kefu.metrics.figures import LEVELS

        level_names = [*LEVELS, "agent_day"]
    except ImportError:  # pragma: no cover - only labels depend on it
        level_names = []
    import_s = time.perf_counter() - t0

    events: list[dict[str, Any]] = []
    engine_class = timed_engine_class(DuckDBEngine, events)
    kwargs: dict[str, Any] = {}
    if args.memory_limit:
        kwargs["memory_limit"] = args.memory_limit
    engine = engine_class(**kwargs)

    def on_step(name: str) -> None:
        engine.phase = name

    t_assess = time.perf_counter()
    result = kefu.assess(Path(args.path), "taobao", args.as_of, engine=engine, on_step=on_step)
    # Figures are read when first asked for (the CLI streams them into its files): read
    # each level here, so its query is timed as one step of its own.
    engine.phase = "figures"
    for level in result.figures:
        result.figures[level]
    assess_s = time.perf_counter() - t_assess
    name_levels(events, level_names)

    # What the CLI does after assessing: scorecards to the console, then the exports.
    engine.phase = "output"
    out = Path(args.out)
    from rich.console import Console

    start = time.perf_counter()
    sink = Console(file=io.StringIO(), width=100)
    print_scorecards(sink, result.figures["shop"].to_pylist(), result.profile, "en")
    events.append(_output_event("print shops (print_scorecards)", start))
    start = time.perf_counter()
    write_figures(result, out, "parquet")
    write_quarantine(result, out)
    events.append(_output_event("write parquet figures", start))
    load_s = sum(e["s"] for e in events if e["phase"] == "load")
    counts = result.load.counts["messages"]
    return {
        "startup_s": startup_s,
        "import_s": import_s,
        "assess_s": assess_s,
        "load_s": load_s,
        "compute_s": assess_s - load_s,
        "events": events,
        "rows": counts.accepted,
        "read": counts.read,
        "quarantined": counts.quarantined,
        "duplicates": counts.duplicates,
        "memory_limit": args.memory_limit,
    }


WORKERS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "pandas": worker_pandas,
    "polars": worker_polars,
    "duckdb-read": worker_duckdb,
    "duckdb-sort": worker_duckdb,
    "api": worker_api,
}


def worker_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="run.py _worker")
    parser.add_argument("kind", choices=sorted(WORKERS))
    parser.add_argument("--path", required=True)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--out", default="")
    parser.add_argument("--memory-limit", default="")
    parser.add_argument("--rules", default="", help="RoundRules as JSON (pandas, polars)")
    parser.add_argument("--launched", type=float, default=time.time())
    args = parser.parse_args(argv)
    report = WORKERS[args.kind](args)
    print(json.dumps(report))
