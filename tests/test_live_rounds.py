"""Live rounds (``kefu.live.rounds``) are ``rounds.sql``'s rounds, message by message.

Random streams (those of the daily-run property: ties on the second, rows without
``seq``, bots and system messages, an own account, rounds open across midnight and for
days, shop bursts) are fed to one ``StreamRounds`` per stream in T3's order; the rows it
finished plus the rows still open must be the ``rounds`` relation ``kefu.assess`` builds
from the same events, every column, and its refusal prompts (F1) the ``refusal_prompts``
relation, for profiles that form rounds differently (R6's
same-day rule or not, P3's day or gap split) and windows that end inside the data (T2).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_daily import (
    BURST,
    DAYS,
    EVENT,
    FIRST,
    PROFILES,
    _stream,
    profile,
    with_bursts,
    write_data,
)

import kefu
from kefu.live.rounds import StreamRounds
from kefu.metrics.params import Params


def live_rounds(events: list, p: dict, own: set[tuple[str, str]]) -> tuple[list[dict], list[dict]]:
    """The rounds and refusal prompts of ``events`` as the live tracker forms them."""
    rows = []
    for n, (i, sender, agent, day, second, has_seq) in enumerate(events):
        ts = FIRST + dt.timedelta(days=day, seconds=second)
        rows.append(
            (ts, has_seq, n if has_seq else 0, n, i, sender, agent if sender == "agent" else None)
        )
    streams: dict[tuple[str, str], StreamRounds] = {}
    out: list[dict] = []
    # T3: time, then seq with a row without one first, then file order.
    for ts, _, _, _, i, sender, agent in sorted(rows, key=lambda r: r[:4]):
        if not (p["history_start"] <= ts < p["history_end"]):
            continue  # what the one-off run reads (T2)
        shop, buyer = _stream(i)
        stream = streams.setdefault(
            (shop, buyer), StreamRounds(shop, buyer, p, (shop, buyer) in own)
        )
        out += [f.row(p) for f in stream.add(sender, ts, agent)]
    for stream in streams.values():
        out += stream.open_rows()
    prompts = [pr for stream in streams.values() for pr in stream.prompts]
    return (
        sorted(out, key=lambda r: (r["shop_id"], r["buyer_id"], r["round_no"])),
        sorted(prompts, key=lambda r: (r["shop_id"], r["buyer_id"], r["pos"])),
    )


@settings(max_examples=60, deadline=None)
@given(
    events=st.lists(EVENT, min_size=1, max_size=70),
    bursts=st.lists(BURST, max_size=3),
    name=st.sampled_from(sorted(PROFILES)),
    end_day=st.integers(2, DAYS),
)
# A bot answering in the buyer's second (bot_only: its time is not before the round's).
@example(
    [(0, "buyer", None, 0, 43_200, True), (0, "bot", None, 0, 43_200, True)], [], "taobao", DAYS
)
def test_live_rounds_are_the_rounds_relation(events, bursts, name, end_day):
    events = with_bursts(events, bursts)
    as_of = (FIRST + dt.timedelta(days=end_day)).date()
    prof = profile(name)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_data(folder, events, [], [], by_day=False)
        result = kefu.assess(folder, prof, as_of)
        expected = result.assessment.relation(
            "rounds", order="shop_id, buyer_id, round_no"
        ).to_pylist()
        prompts = result.assessment.relation("refusal_prompts", order="shop_id, buyer_id, pos")
        result.assessment.close()
    rounds, live_prompts = live_rounds(events, Params(prof, as_of).values(), {("s1", "b3")})
    assert rounds == expected
    assert live_prompts == prompts.to_pylist()
