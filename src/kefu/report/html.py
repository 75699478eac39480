"""The HTML report: one self-contained file per shop that opens offline.

Built with the standard library only (``html.escape`` and string assembly); the Plotly
library is embedded once, inline, from the installed ``plotly`` package (no CDN, nothing
copied into the repository). Every number shown is an engine figure or aggregate, formatted
the way ``kefu assess`` prints it (``kefu.report.scorecard``); headline cards carry the raw
value in ``data-value`` so a test can compare it with the engine's.

Sections: headline cards (R7, P3–P5, S5–S6, F2, C1–C3), what to do (advice), the target
planner, when the misses happen (daily rate, half-hour slots, weekday × hour), response
times, agents and groups, satisfaction with the dissatisfied conversations, and notes with
every assumed parameter that shapes a figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import Any

from kefu.report.catalog import FIGURES, SCORECARD, Figure, label, outcome_text, word
from kefu.report.charts import FONT, all_charts
from kefu.report.model import ShopReport
from kefu.report.notes import SHAPES, all_assumed, assumed_params, rule_list
from kefu.report.scorecard import figure_line, gold_reasons, pct, secs
from kefu.rules.profile import Profile

#: Figures where a higher value is better (the change arrow is green when it rises).
HIGHER_IS_BETTER = {"response_rate", "satisfaction_rate", "experience_score"}

CSS = """
:root{--ok:#2e7d32;--bad:#c62828;--na:#ef8f00;--ink:#222;--mute:#666;--line:#e3e3e3}
*{box-sizing:border-box}
body{font-family:FONT;color:var(--ink);margin:0;background:#f6f7f9;line-height:1.5}
main{max-width:1180px;margin:0 auto;padding:24px}
header{background:#1f2a44;color:#fff;padding:20px 24px}
header h1{margin:0 0 4px;font-size:24px}
header p{margin:2px 0;color:#cfd6e6;font-size:13px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:18px 20px;
 margin:0 0 18px}
h2{font-size:18px;margin:0 0 12px}
h3{font-size:15px;margin:16px 0 8px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(205px,1fr));gap:12px}
.card{border:1px solid var(--line);border-top:4px solid var(--mute);border-radius:6px;
 padding:10px 12px;background:#fff}
.card.qualified{border-top-color:var(--ok)}.card.not_qualified{border-top-color:var(--bad)}
.card.not_assessed{border-top-color:var(--na)}
.card .name{font-size:13px;color:var(--mute)}
.card .value{font-size:26px;font-weight:600;margin:2px 0}
.card .detail,.card .line,.card .change,.card .rules{font-size:12px;color:var(--mute)}
.badge{display:inline-block;font-size:12px;font-weight:600;border-radius:10px;padding:0 8px;
 color:#fff;background:var(--mute)}
.badge.qualified{background:var(--ok)}.badge.not_qualified{background:var(--bad)}
.badge.not_assessed{background:var(--na)}
.up{color:var(--ok)}.down{color:var(--bad)}
ol.advice{margin:0;padding-left:22px}ol.advice li{margin:6px 0}
ol.advice li.info{color:#345}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{cursor:pointer}table.sortable th[data-dir=asc]::after{content:" ▲"}
table.sortable th[data-dir=desc]::after{content:" ▼"}
td.not_qualified{color:var(--bad);font-weight:600}td.not_assessed{color:var(--na)}
.chart{margin:8px 0 14px}
.note{font-size:12px;color:var(--mute);margin:6px 0}
details{border:1px solid var(--line);border-radius:6px;margin:6px 0;padding:4px 10px}
summary{cursor:pointer;font-size:13px}
ol.transcript{list-style:none;padding:0;margin:8px 0;font-size:13px}
ol.transcript li{padding:3px 6px;margin:2px 0;border-radius:4px}
.m-buyer{background:#f3f6fb}.m-agent{background:#eef8ef}.m-bot,.m-system{background:#f6f6f6;
 color:var(--mute)}
.m-time{color:var(--mute);margin-right:6px;font-variant-numeric:tabular-nums}
.m-who{font-weight:600;margin-right:6px}.m-wait{font-size:12px;margin-left:6px}
.m-wait.late{color:var(--bad);font-weight:600}
sup.fn a{text-decoration:none;color:#1565c0}
ol.footnotes{font-size:12px;color:#444}
"""

SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function (t) {
  t.querySelectorAll('th').forEach(function (th, i) {
    th.addEventListener('click', function () {
      var body = t.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var asc = th.getAttribute('data-dir') !== 'asc';
      t.querySelectorAll('th').forEach(function (o) { o.removeAttribute('data-dir'); });
      th.setAttribute('data-dir', asc ? 'asc' : 'desc');
      rows.sort(function (a, b) {
        var x = a.cells[i].getAttribute('data-sort'), y = b.cells[i].getAttribute('data-sort');
        var nx = parseFloat(x), ny = parseFloat(y), c;
        if (isNaN(nx) || isNaN(ny)) {
          if (isNaN(nx) !== isNaN(ny)) { return isNaN(nx) ? 1 : -1; }
          c = String(x).localeCompare(String(y));
        } else { c = nx - ny; }
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""


class _Footnotes:
    """Numbers every assumed parameter in effect; ``marks`` links the ones shaping a part."""

    def __init__(self, report: ShopReport) -> None:
        self.profile = report.result.profile
        self.params = all_assumed(self.profile)
        self.number = {p.name: i for i, p in enumerate(self.params, start=1)}

    def marks(self, names: Iterable[str]) -> str:
        found = sorted(assumed_params(self.profile, names), key=lambda p: self.number[p.name])
        if not found:
            return ""
        links = ",".join(
            f'<a href="#fn-{p.name}" title="{escape(p.name)}">{self.number[p.name]}</a>'
            for p in found
        )
        return f'<sup class="fn">{links}</sup>'


def _num(value: Any) -> str:
    return "" if value is None else repr(value)


def _count(n: int | None) -> str:
    return "—" if n is None else f"{n:,}"


def _figure_value(
    fig: Figure, row: dict[str, Any], lang: str, profile: Profile
) -> tuple[str, str, Any]:
    """(main text, detail text, raw value) of a headline figure, as ``kefu assess`` shows it."""
    pairs = {
        "response_rate": ("rounds_responded", "rounds", "rounds"),
        "satisfaction_rate": ("ratings_satisfied", "ratings", "ratings"),
        "refusal_rate": ("refusals", "refusal_prompts", "prompts"),
    }
    name = fig.name
    if name in pairs:
        good, total, unit = pairs[name]
        return pct(row[name]), f"{row[good]}/{row[total]} {word(unit, lang)}", row[name]
    if name in ("first_response_s", "response_s"):
        return secs(row[name]), "", row[name]
    if name == "experience_score":
        score = row["experience_score"]
        return ("—" if score is None else f"{score:.2f}"), "", score
    eligible = bool(row["gold_medal"])
    detail = "" if eligible else "; ".join(gold_reasons(row, profile, lang))
    return word("eligible" if eligible else "not_eligible", lang), detail, eligible


def _status_code(fig: Figure, row: dict[str, Any]) -> str:
    if fig.name == "gold_medal":
        return "qualified" if row["gold_medal"] else "not_qualified"
    if fig.name == "experience_score":
        return "not_assessed" if row["experience_score"] is None else ""
    return str(row[f"{fig.name}_status"])


def _change(fig: Figure, report: ShopReport) -> str:
    lang, prev = report.lang, report.previous
    if prev is None:
        return word("no_previous", lang)
    name = fig.name
    if name == "gold_medal":
        was = word("eligible" if prev["gold_medal"] else "not_eligible", lang)
        return f"{word('previous', lang)}: {was}"
    main, _, before = _figure_value(fig, prev, lang, report.result.profile)
    now = report.shop[name]
    text = f"{word('previous', lang)}: {main}"
    if now is None or before is None:
        return text
    delta = now - before
    if fig.unit == "rate":
        shown = f"{abs(delta) * 100:.1f} pt"
    elif fig.unit == "seconds":
        shown = f"{abs(delta):.1f} s"
    else:
        shown = f"{abs(delta):.2f}"
    if delta == 0:
        return f"{text} · ±0"
    better = (delta > 0) == (name in HIGHER_IS_BETTER)
    arrow = "▲" if delta > 0 else "▼"
    return f'{text} · <span class="{"up" if better else "down"}">{arrow} {shown}</span>'


def _cards(report: ShopReport, notes: _Footnotes) -> str:
    profile, lang, row = report.result.profile, report.lang, report.shop
    out = []
    for fig in SCORECARD:
        main, detail, raw = _figure_value(fig, row, lang, profile)
        code = _status_code(fig, row)
        status = word(code, lang) if code else "—"
        shapes = fig.params
        extra = [p.rule for p in assumed_params(profile, shapes) if p.rule not in fig.rules]
        rules = rule_list((*fig.rules, *dict.fromkeys(extra)), profile)
        badge = f'<span class="badge {code}">{escape(status)}</span>' if code else ""
        parts = [
            f'<div class="card {code}" data-figure="{fig.name}" data-value="{_num(raw)}" '
            f'data-status="{code}">',
            f'<div class="name">{escape(label(fig, lang))}</div>',
            f'<div class="value">{escape(main)}</div>',
            f'<div class="detail">{escape(detail)}</div>',
            f'<div class="line">{word("line", lang)}: {escape(figure_line(fig, row, profile))} '
            f"{badge}</div>",
            f'<div class="change">{_change(fig, report)}</div>',
            f'<div class="rules">{word("rules", lang)}: {escape(rules)}{notes.marks(shapes)}</div>',
            "</div>",
        ]
        out.append("".join(parts))
    return f'<div class="cards">{"".join(out)}</div>'


def _advice(report: ShopReport) -> str:
    if not report.advice:
        return f"<p>{escape(word('no_advice', report.lang))}</p>"
    items = "".join(
        f'<li class="{"fail" if a.failing else "info"}" data-key="{a.key}">{escape(a.text)}</li>'
        for a in report.advice
    )
    return f'<ol class="advice">{items}</ol>'


#: Colour class of a plan's verdict (the status colours of the cards).
VERDICT_CLASS = {"on_track": "", "needs_more": "not_assessed", "out_of_reach": "not_qualified"}


def _plan_table(report: ShopReport) -> str:
    lang = report.lang
    heads = ["figure", "plan_days", "plan_end", "plan_expected", "plan_needed", "plan_pace",
             "plan_more", "plan_per_day", "plan_verdict"]  # fmt: skip
    rows = []
    for p in report.plans:
        verdict = "on_track" if p.on_track else ("needs_more" if p.reachable else "out_of_reach")
        numbers = (p.days, p.expected, p.needed_good, p.pace_good, p.more_good, p.per_day)
        cells = [
            f"<td>{escape(label(FIGURES[p.figure], lang))}</td>",
            *(f'<td class="num">{n:,}</td>' for n in numbers[:1]),
            f"<td>{p.window_last_day.isoformat()}</td>",
            *(f'<td class="num">{n:,}</td>' for n in numbers[1:]),
            f'<td class="{VERDICT_CLASS[verdict]}">{escape(word(verdict, lang))}</td>',
        ]
        rows.append(f'<tr data-figure="{p.figure}" data-days="{p.days}">{"".join(cells)}</tr>')
    head = "".join(f"<th>{escape(word(h, lang))}</th>" for h in heads)
    return (
        f'<table class="plan"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        f'<p class="note">{escape(word("plan_assumption", lang))}</p>'
    )


def _status_cell(value: str, status: str | None, sort: Any) -> str:
    klass = f"num {status or ''}".strip()
    return f'<td class="{klass}" data-sort="{_num(sort)}">{escape(value)}</td>'


def _count_cell(n: int | None) -> str:
    return f'<td class="num" data-sort="{_num(n)}">{_count(n)}</td>'


def _agent_rows(report: ShopReport) -> tuple[str, int]:
    lang = report.lang
    agents = sorted(
        report.agents,
        key=lambda a: (a["agent_id"] is None, -(a["rounds"] or 0), a["agent_id"] or ""),
    )
    shown = agents[: report.caps["agents"]]
    rows = []
    for a in shown:
        info = report.agent_info.get(a["agent_id"] or "", {})
        name = a["agent_id"] or ("（未分配客服）" if lang == "zh" else "(no agent)")
        group = info.get("agent_group") or ""
        per_day = info.get("consultations_per_day")
        sat_status = a["satisfaction_rate_status"]
        rows.append(
            f'<tr data-agent="{escape(a["agent_id"] or "")}">'
            f'<td data-sort="{escape(name)}">{escape(name)}</td>'
            f'<td data-sort="{escape(group)}">{escape(group)}</td>'
            + f'<td class="num" data-sort="{a["rounds"]}">{_count(a["rounds"])}</td>'
            + _status_cell(pct(a["response_rate"]), a["response_rate_status"], a["response_rate"])
            + _status_cell(
                secs(a["first_response_s"]), a["first_response_s_status"], a["first_response_s"]
            )
            + _status_cell(secs(a["response_s"]), a["response_s_status"], a["response_s"])
            + _status_cell(pct(a["satisfaction_rate"]), sat_status, a["satisfaction_rate"])
            + _count_cell(a["ratings"])
            + _count_cell(a["ratings_dissatisfied"])
            + f'<td class="num" data-sort="{_num(per_day)}">'
            + ("—" if per_day is None else f"{per_day:.1f}")
            + "</td>"
            + "</tr>"
        )
    return "".join(rows), len(agents) - len(shown)


def _agents(report: ShopReport, notes: _Footnotes) -> str:
    lang = report.lang
    heads = ["agent", "group", "rounds_col", "rate_col", "first_col", "avg_col",
             "satisfaction_col", "ratings_col", "dissatisfied_col", "per_day_col"]  # fmt: skip
    head = "".join(
        f'<th class="{"" if i < 2 else "num"}">{escape(word(h, lang))}</th>'
        for i, h in enumerate(heads)
    )
    body, more = _agent_rows(report)
    note = f'<p class="note">{escape(word("more_rows", lang).format(n=more))}</p>' if more else ""
    return (
        f'<p class="note">{escape(word("sort_hint", lang))}{notes.marks(SHAPES["agents"])}</p>'
        f'<table class="sortable agents"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
        f'{note}<p class="note">{escape(word("agent_level_note", lang))}</p>' + _groups(report)
    )


def _groups(report: ShopReport) -> str:
    lang = report.lang
    rows = [g for g in report.groups if g["agent_group"] is not None or g["rounds"]]
    if not rows:
        return ""
    heads = ["group", "rounds_col", "rate_col", "first_col", "avg_col", "satisfaction_col",
             "ratings_col", "dissatisfied_col"]  # fmt: skip
    head = "".join(f"<th>{escape(word(h, lang))}</th>" for h in heads)
    body = "".join(
        f"<tr><td>{escape(g['agent_group'] or '—')}</td>"
        f'<td class="num">{_count(g["rounds"])}</td>'
        + _status_cell(pct(g["response_rate"]), g["response_rate_status"], g["response_rate"])
        + _status_cell(
            secs(g["first_response_s"]), g["first_response_s_status"], g["first_response_s"]
        )
        + _status_cell(secs(g["response_s"]), g["response_s_status"], g["response_s"])
        + _status_cell(
            pct(g["satisfaction_rate"]), g["satisfaction_rate_status"], g["satisfaction_rate"]
        )
        + f'<td class="num">{_count(g["ratings"])}</td>'
        + f'<td class="num">{_count(g["ratings_dissatisfied"])}</td></tr>'
        for g in rows
    )
    return (
        f"<h3>{escape(word('sec_groups', lang))}</h3>"
        f'<table class="groups"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def _ts(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return "—" if value is None else value.strftime(fmt)


def _missed(report: ShopReport) -> str:
    lang, profile, drill = report.lang, report.result.profile, report.missed
    if not drill.total:
        return ""
    heads = ["start", "buyer", "agent", "answer", "wait", "reason"]
    head = "".join(f"<th>{escape(word(h, lang))}</th>" for h in heads)
    body = "".join(
        f"<tr><td>{_ts(r['start_ts'])}</td><td>{escape(r['buyer_id'])}</td>"
        f"<td>{escape(r['agent_id'] or '—')}</td><td>{_ts(r['answer_ts'])}</td>"
        f'<td class="num">{secs(r["wait_s"])}</td>'
        f"<td>{escape(outcome_text(r['outcome'], lang, profile))}</td></tr>"
        for r in drill.rows
    )
    more = (
        f'<p class="note">{escape(word("more_rows", lang).format(n=f"{drill.more:,}"))}</p>'
        if drill.more
        else ""
    )
    return (
        f'<details class="drill missed" data-total="{drill.total}" data-shown="{len(drill.rows)}">'
        f"<summary>{escape(word('missed_list', lang))} ({drill.total:,})</summary>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}</details>"
    )


def _transcript(report: ShopReport, rating: dict[str, Any]) -> str:
    lang, limit = report.lang, float(report.result.profile["response_limit_s"])
    if not rating["messages"]:
        return f'<p class="note">{escape(word("no_transcript", lang))}</p>'
    items = []
    for m in rating["messages"]:
        who = word(f"sender_{m['sender']}", lang)
        if m["sender"] == "agent" and m["agent_id"]:
            who = f"{who} {m['agent_id']}"
        wait = ""
        if m["wait_s"] is not None:
            late = " late" if m["wait_s"] > limit else ""
            wait = f'<span class="m-wait{late}">({word("wait", lang)} {secs(m["wait_s"])})</span>'
        items.append(
            f'<li class="m-{m["sender"]}">'
            f'<span class="m-time">{_ts(m["ts"], "%m-%d %H:%M:%S")}</span>'
            f'<span class="m-who">{escape(who)}</span>{escape(m["text"] or "")}{wait}</li>'
        )
    more = rating["messages_total"] - len(rating["messages"])
    note = (
        f'<p class="note">{escape(word("more_messages", lang).format(n=more))}</p>'
        if more > 0
        else ""
    )
    return f'<ol class="transcript">{"".join(items)}</ol>{note}'


def _dissatisfied(report: ShopReport) -> str:
    lang, drill = report.lang, report.dissatisfied
    if not drill.total:
        return ""
    blocks = []
    for n, r in enumerate(drill.rows):
        score = word(f"score_{r['score']}", lang)
        summary = (
            f"{_ts(r['ts'], '%Y-%m-%d %H:%M')} · {score} · "
            f"{word('agent', lang)} {r['agent_id'] or '—'} · {word('buyer', lang)} {r['buyer_id']}"
            f" · {r['source'] or '—'}"
        )
        blocks.append(
            f'<details class="conversation"{" open" if n == 0 else ""}>'
            f"<summary>{escape(summary)}</summary>"
            f"{_transcript(report, r)}</details>"
        )
    more = (
        f'<p class="note">{escape(word("more_rows", lang).format(n=f"{drill.more:,}"))}</p>'
        if drill.more
        else ""
    )
    return (
        f"<h3>{escape(word('dissatisfied_list', lang))} ({drill.total:,})</h3>"
        f'<div class="drill dissatisfied" data-total="{drill.total}" '
        f'data-shown="{len(drill.rows)}">'
        f"{''.join(blocks)}{more}</div>"
    )


def _notes(report: ShopReport, notes: _Footnotes) -> str:
    lang = report.lang
    items = "".join(
        f'<li id="fn-{p.name}">{escape(p.name)} = {escape(str(p.value))} — {p.rule}, '
        f"{escape(word('assumed_footnote', lang))}{': ' + escape(p.note) if p.note else ''}</li>"
        for p in notes.params
    )
    load = "".join(f"<li>{escape(line)}</li>" for line in report.result.load.lines())
    method = [word(k, lang) for k in ("method_note", "change_note", "plan_assumption")]
    return (
        f'<ol class="footnotes">{items}</ol>'
        + "".join(f'<p class="note">{escape(m)}</p>' for m in method)
        + f'<ul class="note">{load}</ul>'
    )


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{title}</h2>{body}</section>'


def render(report: ShopReport, plotly_js: str | None = None) -> str:
    """The report as one HTML document (Plotly's JavaScript inline, once)."""
    from plotly.offline import get_plotlyjs

    lang, profile = report.lang, report.result.profile
    notes = _Footnotes(report)
    charts = all_charts(report)
    first, last = report.window
    t = lambda key: escape(word(key, lang))  # noqa: E731
    header = (
        f"<header><h1>{t('report_title')} · {escape(report.shop_id)}</h1>"
        f"<p>{t('profile')} {escape(profile.name)} · {t('window')} {first} – {last} "
        f"(T2){notes.marks(SHAPES['window'])} · {t('as_of')} {report.result.as_of}</p>"
        f"<p>{t('generated')}</p></header>"
    )
    times_marks = notes.marks((*SHAPES["first_response_s"], *SHAPES["response_s"]))
    sections = [
        _section("headline", t("sec_headline"), _cards(report, notes)),
        _section("advice", t("sec_advice"), _advice(report)),
        _section("plan", t("sec_plan"), _plan_table(report)),
        _section(
            "response",
            t("sec_response") + notes.marks(SHAPES["days_hours"]),
            charts["daily"] + charts["slots"] + charts["heatmap"] + _missed(report),
        ),
        _section("times", t("sec_times") + times_marks, charts["waits"]),
        _section("agents", t("sec_agents"), _agents(report, notes)),
        _section(
            "satisfaction",
            t("sec_satisfaction") + notes.marks(SHAPES["satisfaction_rate"]),
            charts["scores"] + charts.get("dissatisfied_agents", "") + _dissatisfied(report),
        ),
        _section("notes", t("sec_notes"), _notes(report, notes)),
    ]
    js = get_plotlyjs() if plotly_js is None else plotly_js
    return (
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        f'<meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{t('report_title')} · {escape(report.shop_id)}</title>"
        f"<style>{CSS.replace('FONT', FONT)}</style>"
        f'<script type="text/javascript">{js}</script></head><body>'
        f"{header}<main>{''.join(sections)}</main><script>{SORT_JS}</script></body></html>"
    )


def write_html(report: ShopReport, path: Path) -> Path:
    """Write the report to ``path`` (UTF-8) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), "utf-8")
    return path
