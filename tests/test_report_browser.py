"""The demo's HTML report opened in a real browser: it draws, offline, without errors.

Headless Chromium from Debian's ``chromium`` package, driven by the ``playwright`` package
with ``executable_path`` (no browser is downloaded). CI installs the package (``.ci/run``);
elsewhere the test skips, saying why. ``KEFU_CHROMIUM`` names another executable.

Checked: no console or page errors; every chart drew (an SVG of non-zero size, traces with
drawn marks); the headline figures shown equal the engine's (R7, P3–P5, S5, F2); the agent
table sorts. A full-page screenshot is saved in the test's temporary folder.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

import kefu
from kefu.demo.generator import generate_demo, write_demo
from kefu.report.html import write_html
from kefu.report.model import gather
from kefu.report.scorecard import pct, secs

AS_OF = "2026-11-01"
CHROMIUM = os.environ.get("KEFU_CHROMIUM") or shutil.which("chromium")
#: Flags for a machine without network: no background fetches, no updates, no sign-in.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

HAVE_CHROMIUM = bool(CHROMIUM) and Path(str(CHROMIUM)).exists()
#: CI sets KEFU_REQUIRE_BROWSER=1: there a missing browser fails the test instead of skipping.
if not HAVE_CHROMIUM and os.environ.get("KEFU_REQUIRE_BROWSER") == "1":
    raise RuntimeError("KEFU_REQUIRE_BROWSER=1 but no Chromium executable was found")

pytestmark = pytest.mark.skipif(
    not HAVE_CHROMIUM,
    reason="no Chromium executable: install Debian's `chromium` package (CI does) "
    "or set KEFU_CHROMIUM to one",
)

CHART_STATE = """
() => Array.from(document.querySelectorAll('.chart')).map(c => {
  const gd = c.querySelector('.js-plotly-plot');
  const svg = c.querySelector('.main-svg');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  return {
    name: c.dataset.chart,
    traces: gd && gd._fullData ? gd._fullData.length : 0,
    width: box.width,
    height: box.height,
    marks: c.querySelectorAll('.point, path.js-line, .hm image').length,
  };
})
"""

CARDS = """
() => Array.from(document.querySelectorAll('.card')).map(c => ({
  figure: c.dataset.figure, value: c.dataset.value,
  text: c.querySelector('.value').innerText, visible: c.getBoundingClientRect().height > 0,
}))
"""


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, kefu.Result]:
    folder = tmp_path_factory.mktemp("demo")
    write_demo(generate_demo(dt.date.fromisoformat(AS_OF)), folder / "input")
    return folder, kefu.assess(folder / "input", "taobao", AS_OF)


def _open(browser, path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_function(
        "document.querySelectorAll('.chart').length > 0 && "
        "document.querySelectorAll('.chart .main-svg').length >= "
        "document.querySelectorAll('.chart').length"
    )
    return page, errors


@pytest.mark.parametrize(("shop_id", "lang"), [("shop_digital", "en"), ("shop_fashion", "zh")])
def test_report_draws_in_chromium(browser, demo, shop_id, lang):
    folder, result = demo
    report = gather(result, shop_id, lang)
    path = write_html(report, folder / f"report-{shop_id}-{lang}.html")
    page, errors = _open(browser, path)
    try:
        charts = page.evaluate(CHART_STATE)
        assert {c["name"] for c in charts} >= {"daily", "slots", "heatmap", "waits", "scores"}
        for chart in charts:
            assert chart["traces"] > 0, chart
            assert chart["width"] > 300 and chart["height"] > 150, chart
            assert chart["marks"] > 0, chart

        shop = report.shop
        shown = {c["figure"]: c for c in page.evaluate(CARDS)}
        for name in ("response_rate", "satisfaction_rate", "refusal_rate"):
            assert shown[name]["text"] == pct(shop[name])
            assert float(shown[name]["value"]) == shop[name]
        for name in ("first_response_s", "response_s"):
            assert shown[name]["text"] == secs(shop[name])
            assert float(shown[name]["value"]) == shop[name]
        assert all(c["visible"] for c in shown.values())

        first_rows = "() => Array.from(document.querySelectorAll('table.agents tbody tr'))" \
            ".map(r => r.dataset.agent)"  # fmt: skip
        before = page.evaluate(first_rows)
        page.click("table.agents th:nth-child(4)")  # 3-minute rate, ascending
        after = page.evaluate(first_rows)
        assert sorted(before) == sorted(after) and before != after

        shot = folder / f"report-{shop_id}-{lang}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 100_000
        assert errors == []
    finally:
        page.close()
