"""kefu's command line: a thin layer over the Python API (``kefu.api``).

Every option is checked before any work (the checks live in the library, the commands
only call them). Whatever goes wrong with the user's files, options or machine ends in
one line ``kefu: …`` and exit code 2, never a stack trace; ``KEFU_DEBUG=1`` re-raises
instead, to show the trace when kefu itself is at fault.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import duckdb
import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from kefu.api import (
    Result,
    as_date,
    assess,
    check_lang,
    nothing_accepted,
    resolve_memory_limit,
)
from kefu.cli_options import (
    AsOf,
    EngineOpt,
    Lang,
    MapOpt,
    MemoryOpt,
    PathsArg,
    ProfileOpt,
    SenderMapOpt,
    SparkMasterOpt,
    parse_header_map,
    parse_sender_map,
    parse_table_map,
)
from kefu.engine import EngineUnavailable, check_engine, open_engine
from kefu.importers.commands import import_cmd
from kefu.io.discover import discover_inputs
from kefu.io.errors import engine_message
from kefu.io.readers import InputError
from kefu.metrics.assessment import FIGURE_LEVELS
from kefu.metrics.params import Params
from kefu.metrics.warehouse import (
    DIALECTS,
    TARGETS,
    assessment_sql,
    check_dialect,
    check_targets,
    checked_orders,
    checked_tables,
)
from kefu.rules.profile import ProfileError, load_profile
from kefu.state.daily import DailyResult, assess_daily

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="kefu (客服): assess a shop's customer service by Taobao, Tmall and 1688 rules.",
)
profiles_app = typer.Typer(no_args_is_help=True, help="Show the shipped rule profiles.")
app.add_typer(profiles_app, name="profiles")

console = Console()
err = Console(stderr=True)

#: Set to 1 to see the stack trace of an error kefu would print as one line.
DEBUG_ENV = "KEFU_DEBUG"
T = TypeVar("T")


def error_line(exc: Exception) -> str | None:
    """The one line for the user that ``exc`` calls for, or None for a programming error."""
    # A reader may wrap DuckDB's out-of-memory in its InputError: the advice is the same.
    chain = (exc, exc.__cause__, exc.__context__)
    oom = next((e for e in chain if isinstance(e, duckdb.OutOfMemoryException)), None)
    if oom is not None:
        return (
            f"the engine ran out of memory ({engine_message(oom)}); give it more with "
            "--memory-limit (e.g. --memory-limit 4GB) or KEFU_MEMORY_LIMIT"
        )
    if isinstance(exc, InputError | ProfileError | ValueError | EngineUnavailable):
        return str(exc)
    if isinstance(exc, duckdb.Error):
        return engine_message(exc)
    if isinstance(exc, OSError):
        if exc.filename is None:
            return str(exc)
        other = f" → {exc.filename2}" if exc.filename2 else ""
        return f"{exc.filename}{other}: {exc.strerror or exc}"
    return None


@contextmanager
def user_errors() -> Iterator[None]:
    """Bad input, a file-system failure or a DuckDB error ends in one line, exit code 2.

    Programming errors (any other exception) keep their stack trace; with ``KEFU_DEBUG=1``
    every error does.
    """
    try:
        yield
    except Exception as exc:
        line = error_line(exc)
        if line is None or os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            raise
        err.print(f"[bold red]kefu:[/] {line}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def check_options(
    *, lang: str = "en", profile: str | None = None, as_of: str | None = None,
    memory_limit: str | None = None, engine: str = "duckdb",
) -> None:  # fmt: skip
    """The options every assessing command shares, checked before any file is read."""
    check_lang(lang, "--lang")
    check_engine(engine, "--engine")
    if profile is not None:
        load_profile(profile)
    as_date(as_of, "--as-of")
    resolve_memory_limit(memory_limit, "--memory-limit")  # the option, else KEFU_MEMORY_LIMIT


def run_assessment(
    paths: list[Path],
    profile: str,
    as_of: str | None,
    header_map: dict[str, str],
    memory_limit: str | None = None,
    sender_map: dict[str, str] | None = None,
    windows: int = 1,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> Result:
    """Assess with a progress display of each file read and each definition built.

    ``windows=2``: the window before this one is computed too (``api.assess``).
    ``engine`` runs the definitions (``duckdb`` or ``spark``, on ``spark_master``).
    """
    prof = load_profile(profile)
    day = as_date(as_of, "--as-of")
    limit = resolve_memory_limit(memory_limit, "--memory-limit")
    inputs = discover_inputs(paths)
    runner = open_engine(engine, memory_limit=limit, spark_master=spark_master)
    return _progressing(
        inputs,
        lambda on_file, on_step: assess(
            inputs, prof, day, header_map=header_map, sender_map=sender_map,
            memory_limit=limit, engine=runner, on_file=on_file, on_step=on_step,
            windows=windows,
        ),
    )  # fmt: skip


def run_daily(
    paths: list[Path],
    state: Path,
    profile: str,
    as_of: str | None,
    header_map: dict[str, str],
    memory_limit: str | None = None,
    sender_map: dict[str, str] | None = None,
) -> DailyResult:
    """Add the new days to ``state`` and read the window from it, with progress shown."""
    prof = load_profile(profile)
    day = as_date(as_of, "--as-of")
    limit = resolve_memory_limit(memory_limit, "--memory-limit")
    inputs = discover_inputs(paths)
    return _progressing(
        inputs,
        lambda on_file, on_step: assess_daily(
            inputs, state, prof, day, header_map=header_map, sender_map=sender_map,
            memory_limit=limit, on_file=on_file, on_step=on_step,
        ),
    )  # fmt: skip


def _progressing(
    inputs: dict[str, list[Path]],
    run: Callable[[Callable[[str, str], None], Callable[[str], None]], T],
) -> T:
    """``run(on_file, on_step)`` under a progress display of each file read and each
    definition built; a DuckDB error while a table is read names that table's files."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    # No spinner when stderr is no terminal: it would leave a blank line before an error.
    quiet = not err.is_terminal
    loading: list[str] = []  # the table being read; emptied when the computing starts
    with Progress(*columns, console=err, transient=True, disable=quiet) as progress:
        task = progress.add_task("loading", total=None)

        def on_file(table: str, path: str) -> None:
            loading[:] = [table]
            progress.update(task, description=f"reading {table} {path}")

        def on_step(name: str) -> None:
            loading.clear()
            progress.update(task, description=f"computing {name}")

        try:
            return run(on_file, on_step)
        except duckdb.Error as exc:
            if not loading or isinstance(exc, duckdb.OutOfMemoryException):
                raise
            # DuckDB reads the files lazily: name the table's files, the error is in one.
            given = [str(f) for f in inputs[loading[0]]]
            if len(given) > 3:  # a year of day partitions: the first and last stand for them
                given = [f"{given[0]} … {given[-1]}, {len(given)} files"]
            files = ", ".join(given)
            raise InputError(f"{loading[0]} ({files}): {engine_message(exc)}") from exc


def _print_reconciliation(result: Result | DailyResult, lang: str = "en") -> None:
    for line in result.load.lines(lang):
        console.print(f"[dim]{line}[/]")
    p = result.params
    console.print(
        f"[dim]profile {result.profile.name} · window {p.window_start:%Y-%m-%d} – "
        f"{p.window_end - dt.timedelta(days=1):%Y-%m-%d}[/]"
    )


def assessed(result: Result, lang: str) -> Result:
    """``result`` if any message or rating row was accepted; else its reconciliation, then
    the one-line ``NothingAccepted`` (the commands that would print empty figures)."""
    if nothing := nothing_accepted(result.load):
        _print_reconciliation(result, lang)
        raise nothing
    return result


@app.command("assess")
def assess_cmd(
    paths: PathsArg,
    profile: ProfileOpt = "taobao",
    as_of: AsOf = None,
    out: Annotated[Path, typer.Option(help="Folder for figures and quarantine.")] = Path(
        "kefu-out"
    ),
    fmt: Annotated[
        list[str] | None, typer.Option("--format", "-f", help="json, csv, parquet (repeatable).")
    ] = None,
    lang: Lang = "en",
    header_map: MapOpt = None,
    sender_values: SenderMapOpt = None,
    memory_limit: MemoryOpt = None,
    engine: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = None,
    scorecards: Annotated[
        int, typer.Option(help="Full scorecards up to this many shops; beyond, one line each.")
    ] = 10,
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            help="Daily runs: add the days this folder does not hold yet, read the window "
            "from it (docs/scaling.md).",
        ),
    ] = None,
) -> None:
    """Compute every platform figure and print each shop's scorecard.

    ``--out`` holds this run's files only: figures, and ``quarantine.csv`` when a row was
    quarantined; the files an earlier run wrote there are replaced or removed. With
    ``--state DIR`` only the days the state does not hold are assessed, and the figures
    are read from its per-day sums (equal to a full recomputation over its days).
    """
    from kefu.report.export import (
        check_formats,
        check_out_folder,
        run_outputs,
        write_figures,
        write_quarantine,
    )
    from kefu.report.scorecard import print_scorecards

    with user_errors():
        check_options(
            lang=lang, profile=profile, as_of=as_of, memory_limit=memory_limit, engine=engine
        )
        formats = check_formats(fmt or ["json"], "--format")
        check_out_folder(out, "--out")
        mapping, senders = parse_header_map(header_map), parse_sender_map(sender_values)
        result: Result | DailyResult
        if state is not None:
            if engine != "duckdb":
                raise ValueError(f"--state: daily runs use the embedded engine, not {engine}")
            result = run_daily(paths, state, profile, as_of, mapping, memory_limit, senders)
        else:
            result = run_assessment(
                paths, profile, as_of, mapping, memory_limit, senders,
                engine=engine, spark_master=spark_master,
            )  # fmt: skip
        _print_reconciliation(result, lang)
        if isinstance(result, DailyResult):
            for line in result.lines():
                console.print(f"[dim]{line}[/]")
        nothing = nothing_accepted(result.load)
        if isinstance(result, DailyResult) and result.first_day is not None:
            nothing = None  # a day without chats: the state still holds the window's days
        if nothing is None:
            shops = result.figures["shop"].to_pylist()
            print_scorecards(console, shops, result.profile, lang, limit=scorecards)
        with run_outputs(out) as staging:
            quarantine = write_quarantine(result, staging)
            written = (
                [] if nothing else [p for f in formats for p in write_figures(result, staging, f)]
            )
        if written:
            console.print(f"[dim]wrote {', '.join(str(out / p.name) for p in written)}[/]")
        if quarantine:
            console.print(f"[yellow]quarantined rows: {out / quarantine.name}[/]")
        if nothing:
            raise nothing


@app.command("explain")
def explain_cmd(
    paths: PathsArg,
    shop: Annotated[str, typer.Option("--shop", help="Shop ID.")],
    figure: Annotated[
        str, typer.Option("--figure", help="response_rate, response_s, satisfaction_rate, …")
    ] = "response_rate",
    agent: Annotated[str | None, typer.Option("--agent", help="Only this agent.")] = None,
    day: Annotated[str | None, typer.Option("--day", help="Only this day (YYYY-MM-DD).")] = None,
    profile: ProfileOpt = "taobao",
    as_of: AsOf = None,
    limit: Annotated[int, typer.Option(help="Rows to print (all go to --csv).")] = 40,
    csv: Annotated[Path | None, typer.Option("--csv", help="Write every row here.")] = None,
    lang: Lang = "en",
    header_map: MapOpt = None,
    sender_values: SenderMapOpt = None,
    memory_limit: MemoryOpt = None,
) -> None:
    """List the rounds, ratings or refusal prompts behind a figure, with reasons."""
    import pyarrow.csv as pacsv

    from kefu.explain.explain import check_figure, explain
    from kefu.report.export import check_out_folder, writing

    with user_errors():
        check_options(lang=lang, profile=profile, as_of=as_of, memory_limit=memory_limit)
        check_figure(figure)
        when = as_date(day, "--day")
        if csv is not None:
            check_out_folder(csv.parent, "--csv")
            if csv.is_dir():
                raise ValueError(f"--csv {csv}: a folder; name the CSV file to write")
        mapping, senders = parse_header_map(header_map), parse_sender_map(sender_values)
        result = run_assessment(paths, profile, as_of, mapping, memory_limit, senders)
        result = assessed(result, lang)
        exp = explain(result, figure, shop, agent, when, lang)
        table = Table(title=f"{figure} · {shop}" + (f" · {agent}" if agent else ""))
        shown = [c for c in exp.rows.column_names if c not in ("outcome", "status", "time_note")]
        for col in shown:
            table.add_column(col, overflow="fold")
        for row in exp.rows.slice(0, limit).to_pylist():
            table.add_row(*("" if row[c] is None else str(row[c]) for c in shown))
        console.print(table)
        if exp.rows.num_rows > limit:
            console.print(f"[dim]… {exp.rows.num_rows - limit} more rows (use --csv)[/]")
        totals = ", ".join(
            f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
            for k, v in exp.totals().items()
        )
        console.print(f"Σ rows: {totals}")
        if csv:
            with writing(csv):
                pacsv.write_csv(exp.rows, csv)
            console.print(f"[dim]wrote {csv}[/]")


@app.command("demo")
def demo_cmd(
    out: Annotated[Path, typer.Option(help="Folder for the generated month.")] = Path("kefu-demo"),
    as_of: Annotated[str, typer.Option("--as-of", help="Assessment date.")] = "2026-11-01",
    seed: Annotated[int, typer.Option(help="Random seed of the generated month.")] = 7,
    lang: Lang = "en",
    scale: Annotated[
        str | None,
        typer.Option(help="Write a day-partitioned dataset of this many messages (10M, 1M…)."),
    ] = None,
    n_shops: Annotated[
        int | None,
        typer.Option("--shops", help="Shops of a --scale dataset (default ~1,000 per 10 M)."),
    ] = None,
    days: Annotated[int, typer.Option(help="Days of a --scale dataset (a year: 365).")] = 30,
) -> None:
    """Generate a realistic month for three shops, assess it, show where each stands.

    With ``--scale``: write a day-partitioned dataset of many shops into ``--out`` instead
    (``messages/day=YYYY-MM-DD/part-0.parquet``, …), for ``kefu assess`` at scale.
    """
    from kefu.demo.generator import generate_demo, write_demo
    from kefu.report.export import check_out_folder, run_outputs, write_figures, write_quarantine
    from kefu.report.scorecard import print_scorecards
    from kefu.report.standing import standing_lines

    with user_errors():
        check_options(lang=lang, memory_limit=None)
        day = as_date(as_of, "--as-of")
        assert day is not None  # --as-of has a default
        if scale is not None:
            _write_scale_dataset(out, scale, n_shops, day, days, seed)
            return
        if n_shops is not None or days != 30:
            raise ValueError("--shops and --days describe a --scale dataset; give --scale too")
        check_out_folder(out / "figures", "--out")
        with err.status("generating a month of chats…"):
            data = generate_demo(day, seed=seed)
            write_demo(data, out / "input")
        console.print(f"[dim]demo data: {out / 'input'}[/]")
        result = run_assessment([out / "input"], "taobao", as_of, {})
        _print_reconciliation(result, lang)
        shops = result.figures["shop"].to_pylist()
        print_scorecards(console, shops, result.profile, lang)
        console.rule("where each shop stands" if lang != "zh" else "各店铺现状")
        for shop in shops:
            console.print(f"[bold]{shop['shop_id']}[/]")
            for line in standing_lines(result.figures, shop, lang):
                console.print(f"  • {line}")
        with run_outputs(out / "figures") as staging:
            write_figures(result, staging, "json")
            write_quarantine(result, staging)
        console.print(
            f"[dim]figures: {out / 'figures'}\n"
            f"next: kefu explain {out / 'input'} --shop {shops[0]['shop_id']} "
            f"--figure response_rate\n"
            f"      kefu report {out / 'input'} --out {out / 'reports'}[/]",
            soft_wrap=True,
        )


def _write_scale_dataset(
    out: Path, scale: str, shops: int | None, as_of: dt.date, days: int, seed: int
) -> None:
    """``kefu demo --scale``: the options checked, then the dataset written with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn

    from kefu.demo.scale import default_shops, parse_scale, write_dataset

    messages = parse_scale(scale)
    n_shops = default_shops(messages) if shops is None else shops
    if n_shops < 1 or days < 1:
        raise ValueError("--shops and --days must be at least 1")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"--out {out}: not an empty folder; a dataset is written into a new one")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(f"writing {days} days of messages", total=messages)
        counts = write_dataset(
            out, messages, n_shops, as_of, days=days, seed=seed,
            progress=lambda rows: bar.update(task, completed=rows),
        )  # fmt: skip
    tables = ", ".join(f"{t} {counts[t]:,}" for t in ("messages", "ratings", "refusals"))
    console.print(
        f"wrote {out}: {tables}, {counts['shops']:,} shops, {days} day partitions; "
        f"{counts['invalid']:,} invalid and {counts['duplicates']:,} duplicate message rows",
        soft_wrap=True,
    )
    console.print(f"[dim]next: kefu assess {out}[/]", soft_wrap=True)


@app.command("sql")
def sql_cmd(
    as_of: Annotated[
        str, typer.Option("--as-of", help="Assessment date; the window is the 30 days before it.")
    ],
    profile: ProfileOpt = "taobao",
    dialect: Annotated[
        str, typer.Option("--dialect", help=f"SQL dialect: {', '.join(DIALECTS)}.")
    ] = "duckdb",
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help=f"Only this level or audit relation (repeatable): {', '.join(TARGETS)}.",
        ),
    ] = None,
    tables: Annotated[
        list[str] | None,
        typer.Option("--table", help="Where an input lives: messages=db.chat_messages."),
    ] = None,
    input_order: Annotated[
        list[str] | None,
        typer.Option(
            "--input-order",
            help="The column ordering an input's ties without seq (T3): messages=line_no. "
            "Default: msg_id.",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the SQL to this file, not stdout.")
    ] = None,
) -> None:
    """Print the assessment as SQL a warehouse runs, one statement per level (docs/warehouse.md).

    The statements read tables of checked canonical rows (docs/schema.md) and create
    nothing; they compute what ``kefu assess`` does, from the same definitions.
    """
    with user_errors():
        day = as_date(as_of, "--as-of")
        assert day is not None
        check_dialect(dialect, "--dialect")
        check_targets(only or [], "--only")
        sources = checked_tables(parse_table_map(tables, "--table"), "--table")
        orders = checked_orders(parse_table_map(input_order, "--input-order"), "--input-order")
        params = Params(load_profile(profile), day)
        text = assessment_sql(params, dialect, only or FIGURE_LEVELS, sources, orders)
        if out is None:
            sys.stdout.write(text)
        else:
            out.write_text(text, encoding="utf-8")
            err.print(f"[dim]wrote {out}[/]", highlight=False)


@profiles_app.command("show")
def profiles_show(
    name: Annotated[str, typer.Argument(help="taobao, tmall, 1688, or a .toml file.")],
) -> None:
    """Print every parameter of a profile with its rule ID; assumed values are marked."""
    with user_errors():
        prof = load_profile(name)
    table = Table(title=f"{prof.name} — {prof.description}", title_justify="left")
    for col in ("parameter", "value", "rule", "assumed", "note"):
        table.add_column(col, overflow="fold")
    for p in sorted(prof.params.values(), key=lambda p: (p.rule, p.name)):
        table.add_row(p.name, str(p.value), p.rule, "assumed" if p.assumed else "", p.note)
    console.print(table)
    console.print(f"[dim]extends: {' → '.join(prof.chain)}[/]")


@profiles_app.command("list")
def profiles_list() -> None:
    """List the shipped profiles."""
    from kefu.rules.profile import SHIPPED

    for name in SHIPPED:
        console.print(f"{name}: {load_profile(name).description}")


def main() -> None:  # pragma: no cover - entry point
    sys.exit(app())


app.command("import")(import_cmd)

from kefu.report.commands import plan_cmd, report_cmd  # noqa: E402 - registered last

app.command("report")(report_cmd)
app.command("plan")(plan_cmd)

from kefu.web.commands import serve_cmd, token_app  # noqa: E402 - registered last

app.command("serve")(serve_cmd)
app.add_typer(token_app, name="token")
