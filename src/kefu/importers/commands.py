"""``kefu import <format> <files…> --out <dir>``: real exports → canonical Parquet.

Registered on kefu's CLI in ``kefu.cli``; ``run_import`` is the same import for Python
callers. Bad input ends in one line naming the file and the problem (``InputError``
through the CLI's ``user_errors``), never a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from kefu.importers.common import ImportReport

FORMATS = ("qianniu-json", "qianniu-xlsx", "twcs", "wangwang-txt", "wechat-kf", "pdd")
#: The profile to assess each format's import with (WeChat and Pinduoduo have no profile of
#: their own: taobao's rules are used, an assumption docs/importers.md states).
PROFILE_HINT = {"twcs": "twcs", "qianniu-json": "taobao", "qianniu-xlsx": "taobao"}
PROFILE_HINT |= {"wangwang-txt": "taobao", "wechat-kf": "taobao", "pdd": "taobao"}
#: Formats whose sender is told by the record itself, not by the shop's account names.
TOLD_BY_RECORD = ("wechat-kf", "pdd")


def run_import(
    fmt: str,
    files: list[Path],
    out: Path,
    accounts: list[str] | None = None,
    prefixes: list[str] | None = None,
    bot_markers: list[str] | None = None,
    shop: str | None = None,
    on_step: Callable[[str], None] | None = None,
    date: str | None = None,
    year: int | None = None,
) -> ImportReport:
    """Import ``files`` of format ``fmt`` into ``out``; the API behind ``kefu import``.

    ``date`` (YYYY-MM-DD) or ``year`` give the day of qianniu-xlsx times without a date.
    """
    from kefu.importers.qianniu import DEFAULT_BOT_MARKERS, DEFAULT_PREFIXES, ShopAccounts
    from kefu.importers.twcs import import_twcs
    from kefu.io.readers import InputError

    if fmt not in FORMATS:
        raise InputError(f"unknown import format {fmt!r} (known: {', '.join(FORMATS)})")
    if (date or year is not None) and fmt != "qianniu-xlsx":
        raise InputError(f"{fmt}: --date and --year are for qianniu-xlsx exports")
    if fmt == "twcs":
        if accounts or shop or bot_markers or prefixes:
            raise InputError(
                "twcs: --account, --prefix, --bot-marker and --shop are for Qianniu exports"
            )
        return import_twcs(files, out, on_step)
    from kefu.importers.pdd import import_pdd
    from kefu.importers.qianniu import import_qianniu
    from kefu.importers.wangwang import import_wangwang
    from kefu.importers.wechat_kf import import_wechat_kf

    if fmt in TOLD_BY_RECORD and (accounts or prefixes is not None):
        raise InputError(f"{fmt}: --account and --prefix are for Qianniu and Wangwang exports")
    if fmt == "wechat-kf" and shop:
        raise InputError("wechat-kf: --shop is not used: each message's open_kfid is its shop")
    options = ShopAccounts(
        main=tuple(accounts or ()),
        prefixes=tuple(prefixes) if prefixes is not None else DEFAULT_PREFIXES,
        bot_markers=(*DEFAULT_BOT_MARKERS, *(bot_markers or ())),
        shop=shop,
    )
    if fmt == "wangwang-txt":
        return import_wangwang(files, out, options, on_step)
    if fmt == "wechat-kf":
        return import_wechat_kf(files, out, options, on_step)
    if fmt == "pdd":
        return import_pdd(files, out, options, on_step)
    from kefu.importers.qianniu_sources import file_day

    return import_qianniu(fmt, files, out, options, on_step, file_day(date, year))


def _print_report(report: ImportReport, out: Path, lang: str) -> None:
    from kefu.cli import console

    zh = lang == "zh"
    console.print(report.line(lang))
    for reason, n in report.reasons.items():
        console.print(f"[dim]  {'隔离' if zh else 'quarantined'} {n}: {reason}[/]")
    for warning in report.warnings:
        console.print(f"[yellow]{warning}[/]")
    files = ", ".join(str(p) for p in report.written)
    console.print(f"[dim]{'已写入' if zh else 'wrote'} {files}[/]")
    profile = PROFILE_HINT[report.fmt]
    hint = f"kefu assess {out}" + (f" --profile {profile}" if profile != "taobao" else "")
    console.print(f"{'下一步' if zh else 'next'}: {hint}")


def import_cmd(
    fmt: Annotated[
        str,
        typer.Argument(help="qianniu-json, qianniu-xlsx, twcs, wangwang-txt, wechat-kf or pdd."),
    ],
    files: Annotated[list[Path], typer.Argument(help="Export files.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the canonical Parquet and quarantine.")
    ] = Path("kefu-import"),
    account: Annotated[
        list[str] | None,
        typer.Option(
            "--account",
            "-a",
            help="The shop's main account (repeatable); NAME:sub are its sub-accounts. "
            "Without it, main accounts are read from senders written shop:name.",
        ),
    ] = None,
    prefix: Annotated[
        list[str] | None,
        typer.Option("--prefix", help="Site prefix removed from account ids (default cntaobao)."),
    ] = None,
    bot_marker: Annotated[
        list[str] | None,
        typer.Option(
            "--bot-marker",
            help="Text that marks a bot message, e.g. your welcome message (added to "
            "自动回复, [自动回复], 【自动回复】).",
        ),
    ] = None,
    shop: Annotated[
        str | None,
        typer.Option(
            "--shop",
            help="Shop id (Qianniu, Wangwang: default the main account; pdd: for records "
            "without a mall_id).",
        ),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Output language: en or zh.")] = "en",
    date: Annotated[
        str | None,
        typer.Option("--date", help="qianniu-xlsx: the day (YYYY-MM-DD) of times without one."),
    ] = None,
    year: Annotated[
        int | None,
        typer.Option(
            "--year", help="qianniu-xlsx: the year of a file name such as 千牛聊天记录_5月9日."
        ),
    ] = None,
) -> None:
    """Import real exports (Qianniu, Wangwang, WeChat KF, Pinduoduo, twcs) for kefu assess."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from kefu.cli import err, user_errors
    from kefu.io.readers import InputError

    with user_errors():
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=err, transient=True) as progress:
            task = progress.add_task("importing", total=None)
            report = run_import(
                fmt,
                files,
                out,
                account,
                prefix,
                bot_marker,
                shop,
                on_step=lambda text: progress.update(task, description=text),
                date=date,
                year=year,
            )
        if report.accepted == 0:  # the quarantine is written: it tells why
            raise InputError(
                f"{fmt}: no {report.unit} accepted (read {report.read}, quarantined "
                f"{report.quarantined}); see {out / 'quarantine.csv'} for why"
            )
        _print_report(report, out, lang)
