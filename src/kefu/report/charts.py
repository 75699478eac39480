"""The report's charts (Plotly), drawn from aggregated rows only.

Every chart takes rows that are already aggregated by the engine (a day, a half hour, a
weekday × hour cell, a response-time bin, a score): at most a few hundred points whatever
the shop's size, so the HTML stays small. The charts only place and colour the values;
they compute none. Each is embedded as a ``<div class="chart" data-chart="…">`` whose
script calls the inline Plotly library (no CDN).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from kefu.report.catalog import word
from kefu.report.model import ShopReport

GREEN, RED, AMBER, BLUE, GREY = "#2e7d32", "#c62828", "#ef8f00", "#1565c0", "#9e9e9e"
FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif'
CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}
MARK_RULES = {"mark_first": "P5", "mark_average": "P5", "mark_limit": "R6", "mark_cap": "P2"}
SCORE_COLOURS = {1: RED, 2: "#e65100", 3: GREY, 4: "#7cb342", 5: GREEN}


def _layout(fig: go.Figure, height: int, title: str) -> go.Figure:
    fig.update_layout(
        template="none",
        title={"text": title, "x": 0, "font": {"size": 15}},
        height=height,
        margin={"l": 60, "r": 60, "t": 50, "b": 40},
        font={"family": FONT, "size": 12, "color": "#222"},
        paper_bgcolor="white",
        plot_bgcolor="white",
        hoverlabel={"font": {"family": FONT}},
        legend={"orientation": "h", "y": -0.18, "x": 0},
    )
    fig.update_xaxes(showgrid=False, linecolor="#bbb", ticks="outside")
    fig.update_yaxes(gridcolor="#eee", zeroline=False)
    return fig


def embed(fig: go.Figure, name: str) -> str:
    """The chart as an HTML fragment using the page's inline Plotly (no CDN)."""
    div = pio.to_html(
        fig,
        include_plotlyjs=False,
        full_html=False,
        config=CONFIG,
        div_id=f"chart-{name}",
        default_height=f"{fig.layout.height}px",
    )
    return f'<div class="chart" data-chart="{name}">{div}</div>'


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def daily(report: ShopReport) -> go.Figure:
    """The daily 3-minute rate (engine's day level) against the line, rounds behind (R7)."""
    lang, line = report.lang, report.shop["response_rate_line"]
    days = [d for d in report.days if d["rounds"]]
    x = [d["day"].isoformat() for d in days]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    # Rounds on the primary axis (drawn first, behind); the rate on the overlaying axis.
    fig.add_trace(
        go.Bar(
            x=x,
            y=[d["rounds"] for d in days],
            name=word("rounds_col", lang),
            marker_color="#dfe6ea",
            hovertemplate="%{x}: %{y:,}<extra></extra>",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[d["response_rate"] for d in days],
            name=word("rate_col", lang),
            mode="lines+markers",
            line={"color": BLUE, "width": 2},
            marker={
                "size": 8,
                "color": [
                    RED if d["response_rate_status"] == "not_qualified" else GREEN for d in days
                ],
            },
            customdata=[[d["rounds_responded"], d["rounds"]] for d in days],
            hovertemplate="%{x}: %{y:.1%} (%{customdata[0]:,}/%{customdata[1]:,})<extra></extra>",
        ),
        secondary_y=True,
    )
    low = min([line, *(d["response_rate"] for d in days)])
    fig.add_shape(
        type="line", xref="paper", x0=0, x1=1, yref="y2", y0=line, y1=line,
        line={"color": RED, "dash": "dash", "width": 1.5},
    )  # fmt: skip
    fig.add_annotation(
        xref="paper", x=0.01, yref="y2", y=line, xanchor="left", yanchor="bottom",
        text=f"{word('line_word', lang)} {line:.0%} (R7)", showarrow=False,
        font={"color": RED, "size": 11},
    )  # fmt: skip
    fig.update_yaxes(
        tickformat=".0%",
        range=[max(0.0, low - 0.05), 1.01],
        dtick=0.05,
        side="left",
        secondary_y=True,
    )
    fig.update_yaxes(
        showgrid=False, title_text=word("rounds_col", lang), side="right", secondary_y=False
    )
    fig.update_xaxes(type="date", dtick=86_400_000 * 2, tickformat="%m-%d", tickangle=-45)
    return _layout(fig, 360, word("chart_daily", lang))


def slots(report: ShopReport) -> go.Figure:
    """Missed rounds and the rate per half hour of the day (R5–R7): where the misses are."""
    lang, line = report.lang, report.shop["response_rate_line"]
    rows = report.slots
    x = [_clock(s["start_min"]) for s in rows]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=x,
            y=[s["missed"] for s in rows],
            name=word("missed", lang),
            marker_color=[RED if s["response_rate"] < line else "#ef9a9a" for s in rows],
            customdata=[[s["rounds"], s["response_rate"]] for s in rows],
            hovertemplate="%{x}: %{y:,} / %{customdata[0]:,} (%{customdata[1]:.1%})<extra></extra>",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[s["response_rate"] for s in rows],
            name=word("rate_col", lang),
            mode="lines",
            line={"color": BLUE, "width": 2},
            hovertemplate="%{x}: %{y:.1%}<extra></extra>",
        ),
        secondary_y=True,
    )
    fig.update_yaxes(title_text=word("missed", lang), secondary_y=False)
    fig.update_yaxes(
        tickformat=".0%", range=[0, 1.01], dtick=0.25, showgrid=False, secondary_y=True
    )
    fig.update_xaxes(type="category", tickangle=-45)
    return _layout(fig, 340, word("chart_slots", lang))


def heatmap(report: ShopReport) -> go.Figure:
    """Counted and missed rounds by weekday × hour of day (R5–R7, T1)."""
    lang = report.lang
    weekdays = [word(f"weekday_{d}", lang) for d in range(1, 8)]
    present = sorted({c["hour"] for c in report.weekday_hour})  # hours with counted rounds
    column = {h: i for i, h in enumerate(present)}
    hours = [f"{h:02d}:00" for h in present]
    counted: list[list[int | None]] = [[None] * len(present) for _ in range(7)]
    missed: list[list[int | None]] = [[None] * len(present) for _ in range(7)]
    for c in report.weekday_hour:
        counted[c["weekday"] - 1][column[c["hour"]]] = c["rounds"]
        missed[c["weekday"] - 1][column[c["hour"]]] = c["missed"]
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=(word("counted", lang), word("missed", lang)),
    )
    for row, z, scale in ((1, counted, "Blues"), (2, missed, "Reds")):
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=hours,
                y=weekdays,
                colorscale=scale,
                showscale=False,
                texttemplate="%{z}",
                textfont={"size": 9},
                xgap=1,
                ygap=1,
                hovertemplate="%{y} %{x} — %{z:,}<extra></extra>",
            ),
            row=row,
            col=1,
        )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", showticklabels=True)
    fig.update_xaxes(title_text=word("hour", lang), row=2, col=1)
    return _layout(fig, 520, word("chart_heatmap", lang))


def _secs_label(s: float) -> str:
    """``15 s``, ``180 s``; from 5 minutes on, ``30 min``."""
    return f"{s:g} s" if s < 300 or s % 60 else f"{s / 60:g} min"


def _bin_label(lo: float, hi: float) -> str:
    """``15–20 s`` up to two minutes, ``2–3 min`` beyond (both ends in one unit)."""
    if hi <= 120:
        return f"{lo:g}–{hi:g} s"
    return f"{lo / 60:g}–{hi / 60:g} min"


def waits(report: ShopReport) -> go.Figure:
    """Counted rounds per response-time bin, with the P5 lines, R6 limit and P2 cap marked."""
    lang, edges = report.lang, report.wait_edges
    limit = float(report.result.profile["response_limit_s"])
    labels = [f"≤ {_secs_label(edges[0])}"]
    labels += [_bin_label(lo, hi) for lo, hi in pairwise(edges)]
    labels += [f"> {_secs_label(edges[-1])}", word("no_answer", lang)]
    values = [b["rounds"] for b in report.wait_bins] + [report.no_answer]
    colours = [
        GREEN if i < len(edges) and edges[i] <= limit else RED for i in range(len(edges) + 1)
    ]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=values,
            marker_color=[*colours, GREY],
            hovertemplate="%{x}: %{y:,}<extra></extra>",
        )
    )
    marks: dict[float, list[str]] = {}
    for key, value in report.wait_marks().items():
        marks.setdefault(value, []).append(f"{word(key, lang)} ({MARK_RULES[key]})")
    for n, (value, names) in enumerate(sorted(marks.items())):
        x = edges.index(value) + 0.5
        fig.add_vline(x=x, line={"color": "#555", "dash": "dot", "width": 1.2})
        fig.add_annotation(
            x=x,
            y=1.0 - 0.09 * n,
            yref="paper",
            text=f"{_secs_label(value)} {' / '.join(names)}",
            showarrow=False,
            xanchor="left",
            font={"size": 11, "color": "#333"},
            bgcolor="rgba(255,255,255,0.8)",
        )
    fig.update_xaxes(type="category", tickangle=-35, automargin=True)
    fig.update_yaxes(title_text=word("rounds_col", lang))
    return _layout(fig, 400, word("chart_waits", lang))


def scores(report: ShopReport) -> go.Figure:
    """Counted ratings per score 1–5 (S1): 4–5 satisfied, 1–2 dissatisfied."""
    lang = report.lang
    fig = go.Figure(
        go.Bar(
            x=[word(f"score_{s}", lang) for s in range(1, 6)],
            y=[report.scores.get(s, 0) for s in range(1, 6)],
            marker_color=[SCORE_COLOURS[s] for s in range(1, 6)],
            text=[report.scores.get(s, 0) for s in range(1, 6)],
            textposition="outside",
            hovertemplate="%{x}: %{y:,}<extra></extra>",
        )
    )
    fig.update_xaxes(type="category")
    return _layout(fig, 320, word("chart_scores", lang))


def dissatisfied_agents(report: ShopReport, top: int = 15) -> go.Figure:
    """Agents by dissatisfied ratings (engine's agent level; O3), the most at the top."""
    lang = report.lang
    rows = [a for a in report.agents if a["agent_id"] is not None and a["ratings_dissatisfied"]]
    rows = sorted(rows, key=lambda a: (-a["ratings_dissatisfied"], a["agent_id"]))[:top][::-1]
    fig = go.Figure(
        go.Bar(
            x=[a["ratings_dissatisfied"] for a in rows],
            y=[a["agent_id"] for a in rows],
            orientation="h",
            marker_color=RED,
            text=[a["ratings_dissatisfied"] for a in rows],
            textposition="outside",
            customdata=[[a["ratings"]] for a in rows],
            hovertemplate="%{y}: %{x} / %{customdata[0]}<extra></extra>",
        )
    )
    fig.update_yaxes(type="category", automargin=True)
    return _layout(fig, max(220, 60 + 28 * len(rows)), word("chart_dissatisfied", lang))


def all_charts(report: ShopReport) -> dict[str, str]:
    """Every chart of the report as an embeddable fragment, by name."""
    figures: dict[str, Any] = {
        "daily": daily(report),
        "slots": slots(report),
        "heatmap": heatmap(report),
        "waits": waits(report),
        "scores": scores(report),
    }
    if any(a["ratings_dissatisfied"] for a in report.agents if a["agent_id"] is not None):
        figures["dissatisfied_agents"] = dissatisfied_agents(report)
    return {name: embed(fig, name) for name, fig in figures.items()}
