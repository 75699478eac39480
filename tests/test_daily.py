"""Daily incremental runs (``kefu assess --state``): the figures equal a full recomputation.

The property: random event streams — ties on the second, rows without ``seq``, bots and
system messages, own accounts, rounds left open across midnight and for days, refusal
runs and late clicks, ratings changed the same day and within 24 hours — assessed day by
day into a state, split at random days, give at every level the figures ``kefu.assess``
gives over the same days (counts exactly, means to 1e-9, medians and p90 exactly by
``quantile_cont``'s definition). The one-off run reads the whole history here
(``history_days`` raised); a state reads each day once, so its history is all its days
(T2, decided; docs/scaling.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parity import assert_same_table

import kefu
from kefu.rules.profile import Profile, load_profile
from kefu.state.daily import assess_daily
from kefu.state.store import StateError

FIRST = dt.datetime(2026, 3, 1)
DAYS = 6
AS_OF = (FIRST + dt.timedelta(days=DAYS)).date()

#: Profiles whose rules carry the most across midnight: Taobao (R6 same day, S3 24-hour
#: chain), 1688 (same-day rating changes), twcs (no same-day rule: rounds stay open for
#: days), and consultations split on an idle gap with bots counted in refusal runs.
PROFILES: dict[str, dict[str, Any]] = {
    "taobao": {},
    "1688": {},
    "twcs": {"window_days": 30},
    "taobao-gap": {"consultation_split": "gap", "consultation_gap_s": 900,
                   "refusal_counts_bot": True},
}  # fmt: skip


def profile(name: str) -> Profile:
    base = name.split("-")[0]
    return load_profile(base).override(history_days=400, **PROFILES[name])


# One event: (stream, sender, agent, day, second of the day, has seq). Seconds come from a
# small set near midnight and noon, so ties and midnight crossings are common.
SECONDS = st.one_of(
    st.integers(86_400 - 400, 86_399),
    st.integers(0, 400),
    st.integers(43_200, 43_200 + 240),
    st.sampled_from([43_200, 43_260, 86_340]),
)
EVENT = st.tuples(
    st.integers(0, 5),
    st.sampled_from(["buyer", "buyer", "agent", "agent", "bot", "system"]),
    st.sampled_from(["a1", "a2", None]),
    st.integers(0, DAYS - 1),
    SECONDS,
    st.booleans(),
)
RATING = st.tuples(
    st.integers(0, 5), st.sampled_from(["a1", "a2"]), st.integers(1, 5),
    st.integers(0, DAYS - 1), SECONDS,
)  # fmt: skip
CLICK = st.tuples(st.integers(0, 5), st.integers(0, DAYS), SECONDS)
# A run of shop messages with no buyer reply (F1's refusal prompt at the fourth), ten
# seconds apart: (stream, sender of the run, agent, day, second, length).
BURST = st.tuples(
    st.integers(0, 5), st.sampled_from(["agent", "agent", "bot"]), st.sampled_from(["a1", "a2"]),
    st.integers(0, DAYS - 1), SECONDS, st.integers(2, 5),
)  # fmt: skip


def with_bursts(events: list, bursts: list) -> list:
    """``events`` and each burst's messages (a burst may run past midnight)."""
    out = list(events)
    for i, sender, agent, day, second, length in bursts:
        out += [(i, sender, agent, day, second + 10 * n, True) for n in range(length)]
    return out


def _stream(i: int) -> tuple[str, str]:
    return ("s1" if i < 4 else "s2"), f"b{i}"


def _ts(day: int, second: int) -> str:
    return (FIRST + dt.timedelta(days=day, seconds=second)).isoformat(sep=" ")


def write_data(folder: Path, events: list, ratings: list, clicks: list, by_day: bool) -> None:
    """The events as canonical CSV files; messages in day partitions when ``by_day``."""
    by_file: dict[str, list[dict[str, Any]]] = {}
    for n, (i, sender, agent, day, second, has_seq) in enumerate(events):
        shop, buyer = _stream(i)
        local_day = (FIRST + dt.timedelta(days=day, seconds=second)).date()
        name = f"messages/day={local_day}" if by_day else "messages"
        by_file.setdefault(name, []).append({
            "shop_id": shop, "buyer_id": buyer, "sender": sender,
            "agent_id": agent if sender == "agent" else "",
            "ts": _ts(day, second), "msg_id": f"m{n}", "seq": n if has_seq else "",
        })  # fmt: skip
    by_file["ratings"] = [
        {"shop_id": _stream(i)[0], "buyer_id": _stream(i)[1], "agent_id": agent,
         "score": score, "ts": _ts(day, second)}
        for i, agent, score, day, second in ratings
    ]  # fmt: skip
    by_file["refusals"] = [
        {"shop_id": _stream(i)[0], "buyer_id": _stream(i)[1], "ts": _ts(day, second)}
        for i, day, second in clicks
    ]
    by_file["accounts"] = [{"shop_id": "s1", "account": "b3"}]
    by_file["agents"] = [
        {"shop_id": s, "agent_id": a, "agent_group": g}
        for s in ("s1", "s2")
        for a, g in (("a1", "pre"), ("a2", "post"))
    ]
    for name, rows in by_file.items():
        if not rows:
            continue  # no file: the table is empty
        path = folder / f"{name}.csv" if "/" not in name else folder / name / "part.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        columns = list(rows[0])
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, columns)
            writer.writeheader()
            writer.writerows(rows)


def assert_same_figures(expected: dict, got: dict) -> None:
    for level in expected:
        assert_same_table(expected[level], got[level], level)


@settings(
    # KEFU_DAILY_EXAMPLES=500 for a longer hunt; 30 keep the default run quick.
    max_examples=int(os.environ.get("KEFU_DAILY_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    events=st.lists(EVENT, min_size=1, max_size=70),
    ratings=st.lists(RATING, max_size=10),
    bursts=st.lists(BURST, max_size=4),
    clicks=st.lists(CLICK, max_size=8),
    cuts=st.lists(st.integers(1, DAYS - 1), max_size=3, unique=True),
    name=st.sampled_from(sorted(PROFILES)),
    by_day=st.booleans(),
)
def test_daily_runs_equal_a_full_recomputation(
    events: list,
    bursts: list,
    ratings: list,
    clicks: list,
    cuts: list[int],
    name: str,
    by_day: bool,
) -> None:
    root = Path(tempfile.mkdtemp(prefix="kefu-daily-"))
    try:
        data, state = root / "data", root / "state"
        write_data(data, with_bursts(events, bursts), ratings, clicks, by_day)
        prof = profile(name)
        full = kefu.assess(data, prof, AS_OF)
        expected = {level: full.figures[level] for level in full.figures}
        full.assessment.close()
        for cut in sorted(cuts):
            assess_daily(data, state, prof, (FIRST + dt.timedelta(days=cut)).date())
        daily = assess_daily(data, state, prof, AS_OF)
        assert_same_figures(expected, dict(daily.figures))
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from parity import write_hard_data

    folder = tmp_path_factory.mktemp("daily-demo")
    write_hard_data(folder, dt.date(2026, 11, 1), [7])
    return folder


@pytest.mark.parametrize("name", ["taobao", "1688"])
def test_a_demo_month_day_by_day(demo: Path, tmp_path: Path, name: str) -> None:
    """The demo month (harder: ties, rows without seq, same-day re-ratings) added in three
    runs gives a one-off run's figures, under the profile's own history (T2)."""
    prof = load_profile(name)
    for cut in ("2026-10-12", "2026-10-20"):
        assess_daily(demo, tmp_path / "state", prof, dt.date.fromisoformat(cut))
    daily = assess_daily(demo, tmp_path / "state", prof, dt.date(2026, 11, 1))
    full = kefu.assess(demo, prof, dt.date(2026, 11, 1))
    assert_same_figures({lv: full.figures[lv] for lv in full.figures}, dict(daily.figures))
    assert daily.first_day == dt.date(2026, 10, 2) and daily.last_day == dt.date(2026, 10, 31)
    assert daily.notes[0].startswith("state: skipped ")


def test_a_state_follows_one_profile_and_moves_forward(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_data(data, [(0, "buyer", None, 0, 100, True), (0, "agent", "a1", 0, 130, True)],
               [], [], by_day=False)  # fmt: skip
    state = tmp_path / "state"
    assess_daily(data, state, "taobao", AS_OF)
    with pytest.raises(StateError, match="built with profile 'taobao'"):
        assess_daily(data, state, "1688", AS_OF)
    with pytest.raises(StateError, match="holds days through 2026-03-06"):
        assess_daily(data, state, "taobao", AS_OF - dt.timedelta(days=2))
    manifest = json.loads((state / "state.json").read_text())
    assert manifest["runs"] == ["000001"] and manifest["last_day"] == "2026-03-06"


def test_changed_accounts_ask_for_a_rebuild(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_data(data, [(0, "buyer", None, 0, 100, True)], [], [], by_day=False)
    assess_daily(data, tmp_path / "state", "taobao", AS_OF - dt.timedelta(days=1))
    (data / "accounts.csv").write_text("shop_id,account\ns1,b0\n", encoding="utf-8")
    with pytest.raises(StateError, match="accounts differ"):
        assess_daily(data, tmp_path / "state", "taobao", AS_OF)


def test_the_command_line_adds_days_and_writes_the_one_off_figures(tmp_path: Path) -> None:
    """``kefu assess --state``: a first run, a run that adds a day, a run with nothing new —
    each writes the figures a one-off run writes for its window, and says what it added."""
    from typer.testing import CliRunner

    from kefu.cli import app

    data, state = tmp_path / "data", tmp_path / "state"
    events = [(0, "buyer", None, d, 43_200, True) for d in range(DAYS)]
    events += [(0, "agent", "a1", d, 43_260, True) for d in range(DAYS)]
    write_data(data, events, [(0, "a1", 5, 2, 43_300)], [], by_day=True)
    runner = CliRunner()
    steps = [("2026-03-04", "3 new days"), ("2026-03-05", "1 new day"), ("2026-03-05", "0 new")]
    for as_of, added in steps:
        out = tmp_path / f"out-{added}"
        run = runner.invoke(app, ["assess", str(data), "--state", str(state), "--as-of", as_of,
                                  "--out", str(out)])  # fmt: skip
        assert run.exit_code == 0, run.output
        assert f"state: {added}" in run.output
    one_off = runner.invoke(
        app, ["assess", str(data), "--as-of", "2026-03-05", "--out", str(tmp_path / "full")]
    )
    assert one_off.exit_code == 0, one_off.output
    got = json.loads((tmp_path / "out-0 new" / "figures.json").read_text())
    want = json.loads((tmp_path / "full" / "figures.json").read_text())
    assert got["levels"] == want["levels"] and got["levels"]["shop"][0]["rounds"] == 4
    quiet = tmp_path / "quiet-day"  # a day without a chat: the window comes from the state
    quiet.mkdir()
    (quiet / "messages.csv").write_text("shop_id,buyer_id,sender,ts\n", encoding="utf-8")
    run = runner.invoke(app, ["assess", str(quiet), "--state", str(state), "--as-of",
                              "2026-03-06", "--out", str(tmp_path / "quiet")])  # fmt: skip
    assert run.exit_code == 0 and "state: 1 new day added" in run.output, run.output
    bad = runner.invoke(app, ["assess", str(data), "--state", str(state), "--engine", "spark"])
    assert bad.exit_code == 2 and "--state: daily runs use the embedded engine" in bad.output
    (tmp_path / "file").write_text("x")
    bad = runner.invoke(app, ["assess", str(data), "--state", str(tmp_path / "file")])
    assert bad.exit_code == 2 and "a file, not a folder" in bad.output


def _at(day: int, clock: str) -> int:
    """Seconds from the first day's midnight to ``clock`` (HH:MM:SS) on ``day``."""
    h, m, s = (int(x) for x in clock.split(":"))
    return day * 86_400 + h * 3600 + m * 60 + s


def _events(*story: tuple[str, str | None, int, str]) -> list:
    """(sender, agent, day, clock) of stream 0 as generator events, in order (with seq)."""
    events = []
    for sender, agent, day, clock in story:
        second = _at(day, clock)
        events.append((0, sender, agent, second // 86_400, second % 86_400, True))
    return events


AGENT5 = [("agent", "a1", 0, f"10:0{i}:00") for i in range(1, 6)]  # F1: the 5th prompts

#: Stories whose state crosses midnight, each in the run that must carry it: (name,
#: profile, events, ratings, clicks, the days runs start on — default: every day).
STORIES = [
    # F2, T2: a prompt, then a round answered; a click the next day still refuses it.
    ("prompt clicked a day later", "taobao",
     _events(("buyer", None, 0, "10:00:00"), *AGENT5, ("buyer", None, 0, "10:10:00"),
             ("agent", "a1", 0, "10:11:00")),
     [], [(0, 1, 9 * 3600)]),
    # F1: after the prompted run and a buyer message, a new run goes on across midnight.
    ("second run across midnight", "taobao",
     _events(("buyer", None, 0, "10:00:00"), *AGENT5, ("buyer", None, 0, "10:10:00"),
             ("agent", "a1", 0, "23:59:00"), ("agent", "a1", 0, "23:59:30"),
             ("agent", "a1", 1, "08:00:00"), ("agent", "a1", 1, "08:01:00")),
     [], [(0, 1, 8 * 3600 + 90)]),
    # R4: the buyer message that ended the prompt's run is carried with its answer, so it
    # does not join a later round (P3 would read the wrong consultation before the next).
    ("prompt's run, then rounds over days", "twcs",
     _events(("buyer", None, 0, "10:00:00"), *AGENT5, ("buyer", None, 0, "10:10:00"),
             ("agent", "a1", 0, "10:11:00"), ("buyer", None, 1, "09:00:00"),
             ("agent", "a1", 1, "09:01:00"), ("buyer", None, 1, "23:59:00"),
             ("agent", "a2", 2, "00:00:30")), [], [(0, 2, 60)], [2]),
    # F2: two prompts in one second; only the second is still open at midnight.
    ("two prompts in one second", "taobao-gap",
     _events(("buyer", None, 0, "23:55:00"), *[("bot", None, 0, "23:55:00")] * 5,
             ("buyer", None, 0, "23:55:00"), *[("bot", None, 0, "23:55:00")] * 5,
             ("agent", "a1", 1, "00:10:00")), [], [(0, 1, 3600)]),
    # R6 off (twcs): a question at 23:59 answered at 00:01 is responded.
    ("answer after midnight", "twcs",
     _events(("buyer", None, 0, "23:59:00"), ("agent", "a2", 1, "00:01:00")), [], []),
    # P3: the open round's first-of-consultation flag reads the round before it.
    ("second round of a consultation", "twcs",
     _events(("buyer", None, 0, "23:40:00"), ("agent", "a1", 0, "23:41:00"),
             ("buyer", None, 0, "23:50:00"), ("agent", "a2", 1, "00:05:00")), [], []),
    # P3 on an idle gap, E1: a consultation goes on past midnight.
    ("consultation past midnight", "taobao-gap",
     _events(("buyer", None, 0, "23:55:00"), ("agent", "a1", 0, "23:56:00"),
             ("buyer", None, 1, "00:05:00"), ("agent", "a2", 1, "00:06:00")), [], []),
    # R4 without R6: a round open for days takes the buyer's later messages.
    ("round open for days", "twcs",
     _events(("buyer", None, 0, "09:00:00"), ("buyer", None, 2, "09:00:00"),
             ("agent", "a1", 3, "09:00:00"), ("buyer", None, 3, "10:00:00")), [], []),
    # S3: a rating 14 hours after a counted one, across midnight, is a duplicate.
    ("24-hour period across midnight", "taobao",
     _events(("buyer", None, 0, "19:00:00"), ("agent", "a1", 0, "19:01:00")),
     [(0, "a1", 1, 0, 20 * 3600), (0, "a1", 5, 1, 10 * 3600), (0, "a1", 4, 2, 21 * 3600)], []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("story", "name", "events", "ratings", "clicks", "cuts"),
    [(*s, None)[:6] for s in STORIES],
    ids=[s[0] for s in STORIES],
)
def test_stories_across_midnight(
    tmp_path: Path, story: str, name: str, events: list, ratings: list, clicks: list,
    cuts: list[int] | None,
) -> None:  # fmt: skip
    data = tmp_path / "data"
    write_data(data, events, ratings, clicks, by_day=False)
    prof = profile(name)
    full = kefu.assess(data, prof, AS_OF)
    expected = {level: full.figures[level] for level in full.figures}
    for cut in cuts or range(1, DAYS):
        assess_daily(data, tmp_path / "state", prof, (FIRST + dt.timedelta(days=cut)).date())
    daily = assess_daily(data, tmp_path / "state", prof, AS_OF)
    assert_same_figures(expected, dict(daily.figures))
