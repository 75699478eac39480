"""kefu's command line: a thin layer over the Python API (``kefu.api``)."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from kefu.api import Result, assess
from kefu.importers.commands import import_cmd
from kefu.io.discover import discover_inputs
from kefu.io.readers import InputError
from kefu.rules.profile import ProfileError, load_profile

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="kefu (客服): assess a shop's customer service by Taobao, Tmall and 1688 rules.",
)
profiles_app = typer.Typer(no_args_is_help=True, help="Show the shipped rule profiles.")
app.add_typer(profiles_app, name="profiles")

console = Console()
err = Console(stderr=True)

Lang = Annotated[str, typer.Option("--lang", help="Output language: en or zh.")]
ProfileOpt = Annotated[
    str, typer.Option("--profile", "-p", help="taobao, tmall, 1688, or a profile .toml file.")
]
AsOf = Annotated[
    str | None,
    typer.Option("--as-of", help="Assessment date; the window is the 30 days before it."),
]
MapOpt = Annotated[
    list[str] | None,
    typer.Option("--map", help="Map an input header to a canonical column: 发言人=sender."),
]


@contextmanager
def user_errors() -> Iterator[None]:
    """Bad user input ends in one line naming the problem, never a stack trace."""
    try:
        yield
    except (InputError, ProfileError, ValueError) as exc:
        err.print(f"[bold red]kefu:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _header_map(pairs: list[str] | None) -> dict[str, str]:
    mapping = {}
    for pair in pairs or []:
        source, sep, canonical = pair.partition("=")
        if not sep:
            raise ValueError(f"--map {pair!r}: write it as HEADER=column")
        mapping[source.strip()] = canonical.strip()
    return mapping


def run_assessment(
    paths: list[Path], profile: str, as_of: str | None, header_map: dict[str, str]
) -> Result:
    """Assess with a progress display of each file read and each definition built."""
    inputs = discover_inputs(paths)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("loading", total=None)

        def step(name: str, detail: str = "") -> None:
            progress.update(task, description=f"{name} {detail}".strip())

        return assess(
            inputs,
            profile,
            as_of,
            header_map=header_map,
            on_file=lambda table, path: step(f"reading {table}", path),
            on_step=lambda name: step("computing", name),
        )


def _print_reconciliation(result: Result, lang: str = "en") -> None:
    for line in result.load.lines(lang):
        console.print(f"[dim]{line}[/]")
    p = result.params
    console.print(
        f"[dim]profile {result.profile.name} · window {p.window_start:%Y-%m-%d} – "
        f"{p.window_end - dt.timedelta(days=1):%Y-%m-%d}[/]"
    )


@app.command("assess")
def assess_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Input files or folders.")],
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
    memory_limit: Annotated[
        str | None,
        typer.Option(help="Cap the engine's memory, e.g. 2GB; beyond it work spills to disk."),
    ] = None,
    scorecards: Annotated[
        int, typer.Option(help="Full scorecards up to this many shops; beyond, one line each.")
    ] = 10,
) -> None:
    """Compute every platform figure and print each shop's scorecard."""
    if memory_limit:
        os.environ["KEFU_MEMORY_LIMIT"] = memory_limit
    from kefu.report.export import write_figures, write_quarantine
    from kefu.report.scorecard import print_scorecards

    with user_errors():
        result = run_assessment(paths, profile, as_of, _header_map(header_map))
        _print_reconciliation(result, lang)
        shops = result.figures["shop"].to_pylist()
        print_scorecards(console, shops, result.profile, lang, limit=scorecards)
        written = [p for f in fmt or ["json"] for p in write_figures(result, out, f)]
        quarantine = write_quarantine(result, out)
        console.print(f"[dim]wrote {', '.join(str(p) for p in written)}[/]")
        if quarantine:
            console.print(f"[yellow]quarantined rows: {quarantine}[/]")


@app.command("explain")
def explain_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Input files or folders.")],
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
) -> None:
    """List the rounds, ratings or refusal prompts behind a figure, with reasons."""
    import pyarrow.csv as pacsv

    from kefu.explain.explain import explain

    with user_errors():
        result = run_assessment(paths, profile, as_of, _header_map(header_map))
        exp = explain(result, figure, shop, agent, day, lang)
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
            pacsv.write_csv(exp.rows, csv)
            console.print(f"[dim]wrote {csv}[/]")


@app.command("demo")
def demo_cmd(
    out: Annotated[Path, typer.Option(help="Folder for the generated month.")] = Path("kefu-demo"),
    as_of: Annotated[str, typer.Option("--as-of", help="Assessment date.")] = "2026-11-01",
    seed: Annotated[int, typer.Option(help="Random seed of the generated month.")] = 7,
    lang: Lang = "en",
) -> None:
    """Generate a realistic month for three shops, assess it, show where each stands."""
    from kefu.demo.generator import generate_demo, write_demo
    from kefu.report.export import write_figures, write_quarantine
    from kefu.report.scorecard import print_scorecards
    from kefu.report.standing import standing_lines

    with user_errors():
        day = dt.date.fromisoformat(as_of)
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
        write_figures(result, out / "figures", "json")
        write_quarantine(result, out / "figures")
        console.print(
            f"[dim]figures: {out / 'figures'}\n"
            f"next: kefu explain {out / 'input'} --shop {shops[0]['shop_id']} "
            f"--figure response_rate\n"
            f"      kefu report {out / 'input'} --out {out / 'reports'}[/]",
            soft_wrap=True,
        )


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
