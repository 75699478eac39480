"""The scorecard: each platform figure of a shop beside its line, with pass / fail.

Rows come straight from the engine's shop-level figures; only formatting happens here.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from kefu.metrics import registry
from kefu.metrics.registry import Figure
from kefu.report.catalog import SCORECARD, label, rules_text, word
from kefu.rules.profile import Profile

STYLE = {"qualified": "green", "not_qualified": "bold red", "not_assessed": "yellow"}


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def secs(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f} s"


#: The word for the rows a ratio counts, by its audit relation.
ROWS_WORD = {"rounds": "rounds", "rating_audit": "ratings", "refusal_audit": "prompts"}


def _value(fig: Figure, row: dict[str, Any], lang: str) -> str:
    value = row[fig.name]
    if fig.kind == "ratio":
        relation = str(fig.relation)
        num = row[registry.count_of(relation, str(fig.of)).name]
        den = row[registry.count_of(relation, str(fig.over)).name]
        return f"{pct(value)} ({num}/{den} {word(ROWS_WORD[relation], lang)})"
    if fig.unit == "seconds":
        return secs(value)
    if fig.unit == "flag":
        return word("eligible" if value else "not_eligible", lang)
    return "—" if value is None else f"{value:.2f}"


def figure_line(fig: Figure, row: dict[str, Any], profile: Profile) -> str:
    """The line beside a figure: its own (R7, P5, S6, F2), or a derived flag's conditions (C3)."""
    if fig.line:
        sign = "≥" if fig.better == "higher" else "≤"
        line = row[f"{fig.name}_line"]
        return f"{sign} {line:.0%}" if fig.unit == "rate" else f"{sign} {line} s"
    if fig.unit == "flag":
        values = [profile[p] for p in fig.params if isinstance(profile[p], int | float)]
        return ", ".join(
            f"≥ {v:.0%}" if isinstance(v, float) and v < 1 else f"≥ {v}" for v in values
        )
    return "—"


def gold_reasons(row: dict[str, Any], profile: Profile, lang: str) -> list[str]:
    """Why a shop is not gold-medal eligible: one line per failed condition of C3."""
    score = row["experience_score"]
    checks = [
        (
            row["gold_score_ok"],
            f"score {score if score is None else round(score, 2)} < {profile['gold_score_min']}",
            f"体验分 {score if score is None else round(score, 2)} < {profile['gold_score_min']}",
        ),
        (
            row["gold_ratings_ok"],
            f"ratings {row['ratings']} < {profile['gold_ratings_min']}",
            f"评价数 {row['ratings']} < {profile['gold_ratings_min']}",
        ),
        (
            row["gold_satisfaction_ok"],
            f"satisfaction {pct(row['satisfaction_rate'])} < "
            f"{profile['gold_satisfaction_min']:.0%} (assumed)",
            f"满意度 {pct(row['satisfaction_rate'])} < "
            f"{profile['gold_satisfaction_min']:.0%}（假设）",
        ),
    ]
    return [zh if lang == "zh" else en for ok, en, zh in checks if not ok]


def _status(fig: Figure, row: dict[str, Any], lang: str) -> tuple[str, str]:
    if fig.line:
        code = row[fig.name + "_status"]
    elif fig.unit == "flag":
        code = "qualified" if row[fig.name] else "not_qualified"
    else:
        code = "not_assessed" if row[fig.name] is None else ""
    return (word(code, lang) if code else "—"), STYLE.get(code, "")


def scorecard_table(row: dict[str, Any], profile: Profile, lang: str = "en") -> Table:
    """A Rich table of one shop's scorecard."""
    title = f"{word('shop', lang)} {row['shop_id']} · {profile.name}"
    table = Table(title=title, title_justify="left", show_lines=False)
    for key in ("figure", "value", "line", "status", "rules"):
        table.add_column(word(key, lang))
    for fig in SCORECARD:
        status, style = _status(fig, row, lang)
        table.add_row(
            label(fig, lang),
            _value(fig, row, lang),
            figure_line(fig, row, profile),
            f"[{style}]{status}[/]" if style else status,
            rules_text(fig, profile),
        )
    return table


def _cell(row: dict[str, Any], name: str, text: str) -> str:
    style = STYLE.get(row.get(f"{name}_status") or "", "")
    return f"[{style}]{text}[/]" if style else text


def shop_summary_table(shops: list[dict[str, Any]], profile: Profile, lang: str = "en") -> Table:
    """One line per shop (for many shops): each figure coloured by its status."""
    figs = [f for f in SCORECARD if f.unit != "flag"]
    flags = [f for f in SCORECARD if f.unit == "flag"]
    count = f"{len(shops)} 个店铺" if lang == "zh" else f"{len(shops)} shops"
    table = Table(title=f"{profile.name} · {count}", title_justify="left")
    table.add_column(word("shop", lang), overflow="fold")
    for fig in figs:
        table.add_column(fig.short[lang == "zh"], justify="right")
    for fig in flags:
        table.add_column(fig.short[lang == "zh"])
    for row in shops:
        cells = [row["shop_id"]]
        for fig in figs:
            value = row[fig.name]
            if fig.unit == "rate":
                text = pct(value)
            elif fig.unit == "seconds":
                text = secs(value)
            else:
                text = "—" if value is None else f"{value:.2f}"
            cells.append(_cell(row, fig.name, text))
        cells += ["✓" if row[fig.name] else "✗" for fig in flags]
        table.add_row(*cells)
    return table


def failures(row: dict[str, Any]) -> int:
    """How many of a shop's figures are not qualified."""
    return sum(row.get(f"{f.name}_status") == "not_qualified" for f in SCORECARD)


def print_scorecards(
    console: Console,
    shops: list[dict[str, Any]],
    profile: Profile,
    lang: str = "en",
    limit: int = 10,
    rows: int = 100,
) -> None:
    """A scorecard per shop; beyond ``limit`` shops, one summary line each (at most ``rows``),
    the shops with the most failing figures first."""
    if len(shops) > limit:
        worst = sorted(shops, key=lambda r: (-failures(r), r["shop_id"]))
        console.print(shop_summary_table(worst[:rows], profile, lang))
        more = len(shops) - rows
        if more > 0:
            console.print(
                f"[dim]{more} more shops in the figures files (worst first above)[/]"
                if lang != "zh"
                else f"[dim]另有 {more} 个店铺见指标文件（上表按不合格项由多到少）[/]"
            )
        console.print(f"[dim]{word('assumed', lang)}[/]")
        return
    for row in shops:
        console.print(scorecard_table(row, profile, lang))
        if not row["gold_medal"]:
            reasons = "; ".join(gold_reasons(row, profile, lang))
            console.print(f"  {label(SCORECARD[-1], lang)}: {reasons}")
    console.print(f"[dim]{word('assumed', lang)}[/]")
