"""Invariants checked on generated inputs (Hypothesis): order, bots, bounds, reconciliation."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kefu

from conftest import write_jsonl

BASE = dt.datetime(2024, 1, 7, 7, 50)
ROUND_FIGURES = ("rounds", "rounds_responded", "response_rate", "response_s", "first_response_s")
SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# A stream event: (buyer, sender, seconds after 07:50 on 2024-01-07). Few distinct seconds,
# so equal timestamps are common (T3).
events = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from(["buyer", "buyer", "agent"]),
        st.integers(0, 60 * 60 * 17).map(lambda s: s - s % 20),
    ),
    min_size=1,
    max_size=40,
)


def as_rows(evts) -> list[dict]:
    """Rows in time order with ``seq`` = position, the way a chat log is written."""
    ordered = sorted(enumerate(evts), key=lambda p: (p[1][2], p[0]))
    return [
        {
            "shop_id": "s1",
            "buyer_id": b,
            "sender": snd,
            "agent_id": "x1" if snd == "agent" else None,
            "ts": (BASE + dt.timedelta(seconds=sec)).isoformat(),
            "seq": i,
        }
        for i, (_, (b, snd, sec)) in enumerate(ordered)
    ]


def figures(folder: Path, rows: list[dict]) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "messages.jsonl", rows)
    shop = kefu.assess(folder, "taobao", "2024-01-08").figures["shop"].to_pylist()[0]
    return {k: shop[k] for k in ROUND_FIGURES}


@SETTINGS
@given(evts=events, data=st.data())
def test_figures_do_not_depend_on_row_order_given_seq(tmp_path_factory, evts, data):
    """T3: with ``seq``, shuffling the file changes no figure."""
    rows = as_rows(evts)
    shuffled = data.draw(st.permutations(rows))
    base = tmp_path_factory.mktemp("order")
    assert figures(base / "a", rows) == figures(base / "b", list(shuffled))


@SETTINGS
@given(evts=events, data=st.data())
def test_bot_and_system_messages_change_no_round_figure(tmp_path_factory, evts, data):
    """R2: auto-replies and platform notices inserted anywhere leave rounds unchanged."""
    rows = as_rows(evts)
    inserts = data.draw(
        st.lists(
            st.tuples(st.integers(0, len(rows)), st.sampled_from(["bot", "system"])), max_size=10
        )
    )
    noisy = [dict(r) for r in rows]
    for pos, sender in sorted(inserts, reverse=True):
        ts = noisy[min(pos, len(noisy) - 1)]["ts"]
        noisy.insert(
            pos,
            {
                "shop_id": "s1",
                "buyer_id": rows[min(pos, len(rows) - 1)]["buyer_id"],
                "sender": sender,
                "agent_id": None,
                "ts": ts,
            },
        )
    for i, r in enumerate(noisy):
        r["seq"] = i
    base = tmp_path_factory.mktemp("bots")
    assert figures(base / "a", rows) == figures(base / "b", noisy)


@SETTINGS
@given(evts=events, scores=st.lists(st.integers(1, 5), max_size=40))
def test_rates_stay_within_bounds(tmp_path_factory, evts, scores):
    folder = tmp_path_factory.mktemp("bounds")
    write_jsonl(folder / "messages.jsonl", as_rows(evts))
    write_jsonl(
        folder / "ratings.jsonl",
        [
            {
                "shop_id": "s1",
                "buyer_id": f"b{i % 7}",
                "score": s,
                "ts": f"2024-01-0{1 + i % 7}T1{i % 10}:00:00",
            }
            for i, s in enumerate(scores)
        ],
    )
    for r in kefu.assess(folder, "taobao", "2024-01-08").figures["shop"].to_pylist():
        for rate in ("response_rate", "satisfaction_rate", "refusal_rate"):
            assert r[rate] is None or 0.0 <= r[rate] <= 1.0
        assert r["rounds_responded"] <= r["rounds"] and r["ratings_satisfied"] <= r["ratings"]


CORRUPTIONS = {
    "shop_id": "",
    "buyer_id": "  ",
    "sender": "martian",
    "ts": "not-a-time",
    "seq": "x1",
}


@SETTINGS
@given(
    n=st.integers(1, 30),
    damage=st.lists(
        st.tuples(st.integers(0, 29), st.sampled_from(sorted(CORRUPTIONS))), max_size=15
    ),
)
def test_quarantine_reconciles_on_corrupted_files(tmp_path_factory, n, damage):
    """read = accepted + quarantined, and exactly the damaged rows are quarantined."""
    folder = tmp_path_factory.mktemp("corrupt")
    cols = ["shop_id", "buyer_id", "agent_id", "sender", "ts", "seq"]
    rows = [
        ["s1", f"b{i}", "", "buyer", f"2024-01-07 10:{i % 60:02d}:00", str(i)] for i in range(n)
    ]
    damaged = set()
    for i, col in damage:
        if i < n:
            rows[i][cols.index(col)] = CORRUPTIONS[col]
            damaged.add(i + 1)
    with (folder / "messages.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([cols, *rows])
    result = kefu.assess(folder, "taobao", "2024-01-08")
    count = result.load.counts["messages"]
    assert count.reconciles and count.read == n
    assert {r["row"] for r in result.load.quarantine.to_pylist()} == damaged
    assert count.accepted == n - len(damaged)


# Exchanges over four days, most starting within 25 minutes of a midnight (a window's end):
# a buyer question, maybe an answer after a delay, maybe a run of five shop messages (a
# refusal prompt, F1) and a click after it, with and without ``seq``, so rounds, answers and
# prompts cross the windows' ends. Offsets and delays are sampled, not drawn from ranges,
# so they do not all shrink to one edge.
DAY0 = dt.datetime(2024, 1, 5)
exchanges = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.one_of(
            st.builds(
                lambda d, off: d * 86400 + off,
                st.sampled_from([1, 2, 3]),
                st.sampled_from([-1500, -600, -170, -60, -30, 0, 30, 60, 170, 600]),
            ),
            st.integers(0, 4 * 86400 - 1).map(lambda s: s - s % 30),
        ),
        st.sampled_from([None, 0, 30, 170, 200, 600, 1700, 2000, 90000]),  # answer delay
        st.sampled_from([None, None, 60, 3000]),  # a prompt run, then a click this later
        st.booleans(),  # rows carry seq
    ),
    min_size=1,
    max_size=12,
)
DAY_FIGURES = (*ROUND_FIGURES, "refusal_prompts", "refusals")


def _exchange_rows(exs) -> tuple[list[dict], list[dict]]:
    """Messages and refusal clicks of the exchanges."""
    msgs: list[dict] = []
    clicks: list[dict] = []

    def at(sec: int) -> str:
        return (DAY0 + dt.timedelta(seconds=sec)).isoformat()

    for buyer, start, delay, click, with_seq in exs:
        sent = [(start, "buyer")]
        if delay is not None:
            sent.append((start + delay, "agent"))
        if click is not None:
            sent += [(start + 1 + i, "agent") for i in range(5)]
            clicks.append({"shop_id": "s1", "buyer_id": buyer, "ts": at(start + 5 + click)})
        for sec, sender in sent:
            seq = {"seq": len(msgs)} if with_seq else {}
            msgs.append({"shop_id": "s1", "buyer_id": buyer, "sender": sender,
                         "agent_id": "x1", "ts": at(sec), **seq})  # fmt: skip
    return msgs, clicks


def _day_figures(folder: Path, exs, profile: kefu.Profile, as_of: str) -> dict:
    """Round and refusal figures of each day that ``as_of``'s window holds."""
    msgs, clicks = _exchange_rows(exs)
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "messages.jsonl", msgs)
    if clicks:
        write_jsonl(folder / "refusals.jsonl", clicks)
    days = kefu.assess(folder, profile, as_of).figures["day"].to_pylist()
    return {d["day"]: {k: d[k] for k in DAY_FIGURES} for d in days}


@SETTINGS
@given(exs=exchanges, same_day=st.booleans())
def test_a_days_figures_do_not_depend_on_the_windows_end(tmp_path_factory, exs, same_day):
    """T2 (decided): the round, response-time and refusal figures of a day two windows share
    are identical whatever the ``--as-of``: what starts inside is closed by what comes after.
    """
    profile = kefu.load_profile("taobao").override(reply_same_day=same_day)
    base = tmp_path_factory.mktemp("days")
    early = _day_figures(base / "early", exs, profile, "2024-01-07")  # days 01-05, 01-06
    late = _day_figures(base / "late", exs, profile, "2024-01-09")  # … 01-07, 01-08 too
    shared = [dt.date(2024, 1, 5), dt.date(2024, 1, 6)]
    assert {d: early.get(d) for d in shared} == {d: late.get(d) for d in shared}
