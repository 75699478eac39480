"""Explain reproduces every figure; the CLI commands and profiles work end to end."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import kefu
from kefu.cli import app
from kefu.demo.generator import generate_demo, write_demo
from kefu.explain.explain import explain
from kefu.rules.profile import ProfileError, load_profile

AS_OF = "2026-11-01"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, kefu.Result]:
    folder = tmp_path_factory.mktemp("demo")
    write_demo(generate_demo(dt.date.fromisoformat(AS_OF), seed=3), folder)
    return folder, kefu.assess(folder, "taobao", AS_OF)


def test_explain_rows_sum_to_every_shop_figure(demo):
    _, result = demo
    for shop in result.figures["shop"].to_pylist():
        for figure in ("response_rate", "satisfaction_rate", "refusal_rate"):
            totals = explain(result, figure, shop["shop_id"]).totals()
            for name, value in totals.items():
                assert value == pytest.approx(shop[name]), (shop["shop_id"], name)


def test_explain_rows_sum_to_agent_figures(demo):
    _, result = demo
    for agent in result.figures["agent"].to_pylist()[:6]:
        if agent["agent_id"] is None:
            continue
        totals = explain(result, "rounds", agent["shop_id"], agent["agent_id"]).totals()
        assert totals["rounds"] == agent["rounds"]
        assert totals["response_s"] == pytest.approx(agent["response_s"])


def test_explain_gives_every_round_a_reason(demo):
    _, result = demo
    shop = result.figures["shop"].to_pylist()[0]["shop_id"]
    rows = explain(result, "rounds", shop, lang="zh").rows.to_pylist()
    assert rows and all(r["reason"] for r in rows)
    assert {r["outcome"] for r in rows} >= {"responded", "over_limit", "outside_hours"}


def test_demo_has_reconciled_counts_and_planted_duplicates(demo):
    _, result = demo
    m = result.load.counts["messages"]
    assert m.reconciles and m.duplicates > 0


def test_assess_cli_writes_figures_with_conformance_names(demo, tmp_path):
    folder, result = demo
    out = tmp_path / "out"
    run = CliRunner().invoke(
        app,
        [
            "assess",
            str(folder),
            "--as-of",
            AS_OF,
            "--out",
            str(out),
            "-f",
            "json",
            "-f",
            "csv",
            "--lang",
            "zh",
        ],
    )
    assert run.exit_code == 0, run.output
    assert "3分钟人工响应率" in run.output
    doc = json.loads((out / "figures.json").read_text("utf-8"))
    shops = {r["shop_id"]: r for r in doc["levels"]["shop"]}
    for row in result.figures["shop"].to_pylist():
        assert shops[row["shop_id"]]["rounds"] == row["rounds"]
        assert shops[row["shop_id"]]["response_rate"] == pytest.approx(row["response_rate"])
    assert (
        doc["reconciliation"]["messages"]["duplicates"] == result.load.counts["messages"].duplicates
    )
    assert (out / "figures-agent.csv").exists() and (out / "quarantine.csv").exists()


def test_explain_cli_prints_the_sums(demo):
    folder, result = demo
    shop = result.figures["shop"].to_pylist()[0]
    run = CliRunner().invoke(
        app, ["explain", str(folder), "--as-of", AS_OF, "--shop", shop["shop_id"]]
    )
    assert run.exit_code == 0, run.output
    assert f"rounds = {shop['rounds']}" in run.output


def test_profiles_show_marks_assumed_values():
    run = CliRunner().invoke(app, ["profiles", "show", "1688"])
    assert run.exit_code == 0
    assert "max_rating_changes" in run.output and "assumed" in run.output
    assert "same_day_change" in run.output


def test_shipped_profiles_share_rules_but_not_dedupe():
    taobao, tmall, b2b = (load_profile(n) for n in ("taobao", "tmall", "1688"))
    assert tmall.params == taobao.params
    assert b2b["rating_dedupe"] == "same_day_change" and b2b["min_ratings"] == 6
    assert all(p.rule for p in taobao.params.values())


def test_user_profile_extends_and_overrides(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        'name = "mine"\nextends = "taobao"\n[params]\nresponse_window_start = "09:00"\n'
        'min_ratings = { value = 20, note = "agreed" }\n',
        "utf-8",
    )
    prof = load_profile(path)
    assert prof["response_window_start"] == "09:00" and prof.params["min_ratings"].rule == "S6"
    assert prof["window_days"] == 30 and prof.chain == ("taobao", "mine")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('extends = "taobao"\n[params]\nno_such = 1\n', "unknown parameter"),
        ('extends = "taobao"\n[params\n', "not valid TOML"),
        ('extends = "nowhere"\n', "no such profile"),
    ],
)
def test_bad_profiles_fail_with_one_line(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(ProfileError, match=message):
        load_profile(path)


def test_many_shops_get_one_summary_line_each_worst_first(run):
    """R7: a marketplace with many shops sees the worst shops first, one line each."""
    from rich.console import Console

    from kefu.report.scorecard import print_scorecards

    from conftest import msg

    rows = []
    for i in range(12):
        wait = "10:05:00" if i == 7 else "10:00:30"  # shop s07 misses its only round
        rows += [
            msg("a", "buyer", "10:00:00", shop=f"s{i:02d}"),
            msg("a", "agent", wait, "x", shop=f"s{i:02d}"),
        ]
    result = run(rows)
    console = Console(record=True, width=200)
    print_scorecards(console, result.figures["shop"].to_pylist(), result.profile, limit=5, rows=5)
    text = console.export_text()
    lines = [line for line in text.splitlines() if "│ s" in line]
    assert len(lines) == 5 and lines[0].lstrip("│ ").startswith("s07")
    assert "7 more shops" in text
