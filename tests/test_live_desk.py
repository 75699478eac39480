"""The live desk's figures are ``kefu assess``'s, at every level, whatever the delivery.

Random streams over two days (yesterday is the history T2 reads) — ties on the second,
rows without ``seq``, bots and system messages, midnight crossings, shop bursts (F1),
ratings changed the same day and within 24 hours (S3), refusal clicks — are posted to the
service in batches, with random re-sends of earlier events, in T3's order or shuffled (the
desk replays a stream from the store when a message comes out of order). Today's figures
from ``GET /v1/shops/{shop}/live`` must equal, every level and column, what
``kefu assess`` gives over the events the store holds, read back through its API.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
from pathlib import Path

from fastapi.encoders import jsonable_encoder
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parity import assert_same_table

import kefu
from kefu.live.store import connect
from kefu.live.tokens import create_token
from kefu.metrics.figures import LEVELS
from kefu.rules.profile import load_profile
from kefu.web.app import Settings, create_app

TODAY = dt.date(2026, 3, 2)
YESTERDAY = TODAY - dt.timedelta(days=1)
SHOPS = ("s1", "s2")

SECONDS = st.one_of(
    st.integers(86_400 - 300, 86_399), st.integers(0, 300), st.integers(43_200, 43_200 + 240)
)
#: (stream, sender, agent, day 0 = yesterday / 1 = today, second of the day, has seq)
EVENT = st.tuples(
    st.integers(0, 5),
    st.sampled_from(["buyer", "buyer", "agent", "agent", "bot", "system"]),
    st.sampled_from(["a1", "a2", None]),
    st.integers(0, 1),
    SECONDS,
    st.booleans(),
)
BURST = st.tuples(st.integers(0, 5), st.integers(0, 1), SECONDS)
RATING = st.tuples(st.integers(0, 5), st.integers(1, 5), st.integers(0, 1), SECONDS)
CLICK = st.tuples(st.integers(0, 5), st.integers(0, 1), SECONDS)


def _ts(day: int, second: int) -> str:
    return (
        dt.datetime.combine(YESTERDAY, dt.time()) + dt.timedelta(days=day, seconds=second)
    ).isoformat(sep=" ")


def _stream(i: int) -> tuple[str, str]:
    return SHOPS[i % 2], f"b{i}"


def make_events(messages, bursts, ratings, clicks) -> list[dict]:
    out = []
    for n, (i, sender, agent, day, second, has_seq) in enumerate(messages):
        shop, buyer = _stream(i)
        out.append({"kind": "message", "shop_id": shop, "buyer_id": buyer, "sender": sender,
                    "agent_id": agent if sender == "agent" else None, "ts": _ts(day, second),
                    "msg_id": f"m{n}", "seq": n if has_seq else None})  # fmt: skip
    for b, (i, day, second) in enumerate(bursts):
        shop, buyer = _stream(i)
        for n in range(5):  # the fifth shop message in a row prompts (F1)
            out.append({"kind": "message", "shop_id": shop, "buyer_id": buyer, "sender": "agent",
                        "agent_id": "a1", "ts": _ts(day, second + 10 * n), "msg_id": f"burst{b}-{n}",
                        "seq": 10_000 + 10 * b + n})  # fmt: skip
    for n, (i, score, day, second) in enumerate(ratings):
        shop, buyer = _stream(i)
        out.append({"kind": "rating", "shop_id": shop, "buyer_id": buyer, "agent_id": "a1",
                    "score": score, "ts": _ts(day, second), "msg_id": f"r{n}"})  # fmt: skip
    for n, (i, day, second) in enumerate(clicks):
        shop, buyer = _stream(i)
        out.append({"kind": "refusal", "shop_id": shop, "buyer_id": buyer, "ts": _ts(day, second),
                    "msg_id": f"c{n}"})  # fmt: skip
    return out


def t3(event: dict) -> tuple:
    """T3's order as a sort key (a row without seq first in its second)."""
    return (event["ts"], event.get("seq") is not None, event.get("seq") or 0)


def stored_as_csv(client: TestClient, token: str, shop: str, folder: Path) -> None:
    """The shop's stored events, read through the API, as canonical CSV files."""
    for kind, table in (("message", "messages"), ("rating", "ratings"), ("refusal", "refusals")):
        answer = client.get(f"/v1/shops/{shop}/events", params={"kind": kind, "limit": 10_000},
                            headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        rows = answer.json()["events"]
        if not rows:
            continue
        # The store's arrival order is the file order (T3 after time and seq).
        rows.sort(key=lambda r: r["arrival"])
        columns = [c for c in rows[0] if c not in ("arrival", "received")]
        with (folder / f"{table}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    messages=st.lists(EVENT, min_size=1, max_size=60),
    bursts=st.lists(BURST, max_size=2),
    ratings=st.lists(RATING, max_size=8),
    clicks=st.lists(CLICK, max_size=4),
    shuffled=st.booleans(),
    seed=st.integers(0, 2**16),
    profile=st.sampled_from(["taobao", "1688"]),
)
def test_live_figures_are_kefu_assess_over_the_stored_events(
    messages, bursts, ratings, clicks, shuffled, seed, profile
):
    events = make_events(messages, bursts, ratings, clicks)
    rng = random.Random(seed)
    if shuffled:
        rng.shuffle(events)
    else:
        events.sort(key=t3)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        con = connect(folder / "live.db")
        tokens = {shop: create_token(con, shop, ["admin"]) for shop in SHOPS}
        con.close()
        clock = lambda: dt.datetime.combine(TODAY, dt.time(23, 59, 59))  # noqa: E731
        app = create_app(Settings(store=folder / "live.db", profile=profile, clock=clock))
        with TestClient(app) as client:
            sent: list[dict] = []
            while events:
                size = rng.randint(1, 15)
                batch, events = events[:size], events[size:]
                resent = rng.sample(sent, min(len(sent), rng.randint(0, 3)))
                for shop in SHOPS:
                    mine = [e for e in resent + batch if e["shop_id"] == shop]
                    if mine:
                        answer = client.post(
                            "/v1/events",
                            json=mine,
                            headers={"Authorization": f"Bearer {tokens[shop]}"},
                        )
                        assert answer.status_code == 200, answer.text
                        assert answer.json()["duplicates"] == len(
                            [e for e in resent if e["shop_id"] == shop]
                        )
                sent += batch
            desk = client.app.state.service.desk
            for shop in SHOPS:
                live = client.get(
                    f"/v1/shops/{shop}/live", headers={"Authorization": f"Bearer {tokens[shop]}"}
                ).json()
                figures = desk.figures(shop)
                # The page's figures are the desk's, as JSON.
                assert live["today"] == jsonable_encoder(
                    {lv: t.to_pylist() for lv, t in figures.items()}
                )
                export = folder / shop
                export.mkdir()
                stored_as_csv(client, tokens[shop], shop, export)
                if not (export / "messages.csv").exists():
                    continue
                day_profile = load_profile(profile).override(window_days=1)
                expected = kefu.assess(export, day_profile, TODAY + dt.timedelta(days=1))
                for level in LEVELS:
                    assert_same_table(expected.figures[level], figures[level], f"{shop} {level}")
                expected.assessment.close()


def test_a_desk_that_ran_for_days_is_a_desk_formed_from_the_store():
    """Across midnights the desk lets go of what T2 no longer reads: open rounds, refusal
    runs and (without R6's same-day rule) rounds that a one-off run over today starts anew."""
    from kefu.live.desk import LiveDesk
    from kefu.live.events import EventChecker
    from kefu.live.store import EventStore

    def at(day: int, clock: str) -> str:
        return f"2026-03-0{day} {clock}"

    events = [
        message_event("b1", "buyer", at(1, "10:00:00"), "m1"),
        *(message_event("b1", "agent", at(1, f"10:0{n}:30"), f"m1-{n}", "a1") for n in range(1, 4)),
        message_event("b2", "buyer", at(1, "11:00:00"), "m2"),
        message_event("b3", "buyer", at(1, "12:00:00"), "m3"),
        *(message_event("b1", "agent", at(5, f"10:0{n}:00"), f"m5-{n}", "a1") for n in range(2)),
        message_event("b3", "buyer", at(5, "12:00:00"), "m5-3"),
        message_event("b3", "agent", at(5, "12:00:30"), "m5-4", "a1"),
    ]
    for profile in ("taobao", "twcs"):
        with tempfile.TemporaryDirectory() as tmp:
            store = EventStore(Path(tmp) / "live.db")
            clock = Clock(dt.datetime(2026, 3, 1, 23, 0))
            desk = LiveDesk(load_profile(profile), store, clock)
            checker = EventChecker(load_profile(profile)["timezone"])
            for event in events:  # the desk runs through the days, its clock with them
                clock.now = max(
                    clock.now, dt.datetime.fromisoformat(event["ts"]) + dt.timedelta(seconds=1)
                )
                desk.follow(store.write([checker.check([event])]))
            fresh = LiveDesk(load_profile(profile), store, clock)
            fresh.restore()
            for ran, formed in zip(desk.rows("s1"), fresh.rows("s1"), strict=True):
                assert sorted(ran, key=str) == sorted(formed, key=str), profile
            assert [w.buyer_id for w in desk.waiting("s1")] == [
                w.buyer_id for w in fresh.waiting("s1")
            ], profile
            store.close()


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def message_event(buyer: str, sender: str, ts: str, msg_id: str, agent: str | None = None) -> dict:
    return {"kind": "message", "shop_id": "s1", "buyer_id": buyer, "sender": sender,
            "agent_id": agent, "ts": ts, "msg_id": msg_id}  # fmt: skip
