"""``kefu report`` and ``kefu plan``: the report commands, registered at the end of cli.py.

``kefu report`` writes one self-contained HTML report per shop (and, with ``--xlsx``, one
workbook per shop). A manager names their shop with ``--shop``; without it, every shop in
the data is reported, up to ``--max-shops`` (a marketplace with more names the ones it
wants). ``kefu plan`` prints the target planner (R7, S5, S6) for the next N days.

The command layer only selects shops and writes files; ``kefu.cli`` is imported inside
the functions (cli.py imports this module at its end). Options are checked before any
file is read; an input without one accepted message or rating row is an error, not an
empty report. ``--out`` holds this run's reports only (``kefu.report.export.run_outputs``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from kefu.api import Result
from kefu.cli_options import (
    AsOf,
    Lang,
    MapOpt,
    MemoryOpt,
    ProfileOpt,
    SenderMapOpt,
    parse_header_map,
    parse_sender_map,
)
from kefu.cli_options import PathsArg as Paths

ShopOpt = Annotated[
    list[str] | None,
    typer.Option("--shop", help="Shop ID (repeatable); default: every shop in the data."),
]

#: Shops reported when no ``--shop`` is given, at most (each report is a file of ~5 MB).
MAX_SHOPS = 20


def select_shops(result: Result, wanted: list[str] | None, max_shops: int = MAX_SHOPS) -> list[str]:
    """The shops to report: the ones named, or every shop when there are few enough."""
    from kefu.report.aggregates import shop_ids

    known = shop_ids(result)
    if wanted:
        missing = [s for s in wanted if s not in known]
        if missing:
            sample = ", ".join(known[:10]) + (" …" if len(known) > 10 else "")
            raise ValueError(f"shop {missing[0]!r} is not in the data (shops: {sample})")
        return list(dict.fromkeys(wanted))
    if len(known) > max_shops:
        sample = ", ".join(known[:5])
        raise ValueError(
            f"{len(known)} shops in the data: name the ones to report with --shop "
            f"(e.g. --shop {known[0]}; shops: {sample} …) or raise --max-shops"
        )
    return known


def safe_name(shop_id: str) -> str:
    """A file-name-safe form of a shop ID (letters, digits and CJK are kept)."""
    return re.sub(r"[^\w.-]+", "_", shop_id).strip("._") or "shop"


def report_cmd(
    paths: Paths,
    shop: ShopOpt = None,
    profile: ProfileOpt = "taobao",
    as_of: AsOf = None,
    out: Annotated[Path, typer.Option(help="Folder for the reports.")] = Path("kefu-report"),
    lang: Lang = "en",
    xlsx: Annotated[bool, typer.Option("--xlsx", help="Also write an Excel workbook.")] = False,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare/--no-compare", help="Compare with the previous window when data has it."
        ),
    ] = True,
    max_shops: Annotated[
        int, typer.Option("--max-shops", help="Shops reported without --shop, at most.")
    ] = MAX_SHOPS,
    header_map: MapOpt = None,
    sender_values: SenderMapOpt = None,
    memory_limit: MemoryOpt = None,
) -> None:
    """Write each shop's HTML report (charts, advice, drill-down), and with --xlsx a workbook."""
    from kefu.cli import (
        assessed,
        check_options,
        console,
        err,
        run_assessment,
        user_errors,
    )
    from kefu.report.export import check_out_folder, run_outputs
    from kefu.report.html import write_html
    from kefu.report.model import gather, previous_window
    from kefu.report.workbook import write_workbook

    with user_errors():
        check_options(lang=lang, profile=profile, as_of=as_of, memory_limit=memory_limit)
        check_out_folder(out, "--out")
        mapping, senders = parse_header_map(header_map), parse_sender_map(sender_values)
        result = run_assessment(
            paths, profile, as_of, mapping, memory_limit, senders, windows=2 if compare else 1
        )
        result = assessed(result, lang)
        shops = select_shops(result, shop, max_shops)
        previous = None
        if compare:
            with err.status("assessing the previous window…"):
                previous = previous_window(result)
        lines: list[str] = []
        with run_outputs(out) as staging:
            for sid in shops:
                report = gather(result, sid, lang, previous)
                path = write_html(report, staging / f"report-{safe_name(sid)}.html")
                lines.append(f"{sid}: {out / path.name} ({path.stat().st_size / 1e6:.1f} MB)")
                lines += [f"  • {line.text}" for line in report.advice[:3]]
                if xlsx:
                    name = f"report-{safe_name(sid)}.xlsx"
                    book = write_workbook(result, sid, staging / name, lang)
                    lines.append(f"{sid}: {out / book.name}")
        for line in lines:
            console.print(line, highlight=False)


def plan_cmd(
    paths: Paths,
    shop: ShopOpt = None,
    days: Annotated[
        list[int] | None, typer.Option("--days", help="Days ahead (repeatable); default 7.")
    ] = None,
    profile: ProfileOpt = "taobao",
    as_of: AsOf = None,
    lang: Lang = "en",
    max_shops: Annotated[
        int, typer.Option("--max-shops", help="Shops planned without --shop, at most.")
    ] = MAX_SHOPS,
    header_map: MapOpt = None,
    sender_values: SenderMapOpt = None,
    memory_limit: MemoryOpt = None,
) -> None:
    """How many more on-time rounds and satisfied ratings the next N days need (R7, S5, S6)."""
    from rich.table import Table

    from kefu.cli import assessed, check_options, console, run_assessment, user_errors
    from kefu.report.aggregates import shop_rows
    from kefu.report.catalog import FIGURES, label, word
    from kefu.report.planner import make_plan, plan_text

    with user_errors():
        check_options(lang=lang, profile=profile, as_of=as_of, memory_limit=memory_limit)
        if any(n < 1 for n in days or []):
            raise ValueError(f"--days {min(days or [])}: plan at least 1 day ahead")
        mapping, senders = parse_header_map(header_map), parse_sender_map(sender_values)
        result = run_assessment(paths, profile, as_of, mapping, memory_limit, senders)
        result = assessed(result, lang)
        heads = ["figure", "plan_days", "plan_end", "plan_expected", "plan_needed",
                 "plan_pace", "plan_more", "plan_per_day", "plan_verdict"]  # fmt: skip
        for sid in select_shops(result, shop, max_shops):
            row = shop_rows(result.figures["shop"], sid)[0]
            table = Table(title=f"{word('shop', lang)} {sid}", title_justify="left")
            for h in heads:
                table.add_column(word(h, lang), justify="left" if h == "figure" else "right")
            sentences = []
            for figure in ("response_rate", "satisfaction_rate"):
                for n in days or [7]:
                    p = make_plan(result, row, figure, n)
                    verdict = "on_track" if p.on_track else (
                        "needs_more" if p.reachable else "out_of_reach"
                    )  # fmt: skip
                    table.add_row(
                        label(FIGURES[figure], lang), str(n), str(p.window_last_day),
                        f"{p.expected:,}", f"{p.needed_good:,}", f"{p.pace_good:,}",
                        f"{p.more_good:,}", f"{p.per_day:,}", word(verdict, lang),
                    )  # fmt: skip
                    sentences.append(plan_text(p, lang))
            console.print(table)
            for s in sentences:
                console.print(f"  • {s}", highlight=False)
        console.print(f"[dim]{word('plan_assumption', lang)}[/]")
