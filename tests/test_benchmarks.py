"""The benchmark's pandas and Polars implementations give kefu's figures (benchmarks/).

They are compared with kefu in every benchmark run; this checks the rules the generated
data rarely exercises: R8's examples, T3's seq order (a row without seq first), R6's
midnight, R2 (a bot between), R3 own accounts (site prefix), P1's owner of an unanswered or
anonymously answered round, P2's cap, and the rows kefu quarantines or drops as duplicates.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import kefu
from kefu.io.schema import arrow_schema

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import agreement, impl_pandas, impl_polars  # noqa: E402
from benchmarks.rules import RoundRules  # noqa: E402

AS_OF = dt.date(2024, 1, 8)


def _row(shop, buyer, agent, sender, ts, msg_id, seq=None):
    when = dt.datetime.fromisoformat(ts if "T" in ts else f"2024-01-07T{ts}") if ts else None
    return {
        "shop_id": shop,
        "buyer_id": buyer,
        "agent_id": agent,
        "sender": sender,
        "ts": when,
        "text": "",
        "msg_id": msg_id,
        "seq": seq,
    }


ROWS = [
    # R8: 0 of 1, then 1 of 2; a bot between does not answer (R2).
    _row("s1", "b1", None, "buyer", "10:10:15", "m1"),
    _row("s1", "b1", None, "buyer", "10:15:20", "m2"),
    _row("s1", "b1", "x1", "agent", "10:18:10", "m3"),
    _row("s1", "b1", None, "buyer", "10:18:30", "m4"),
    _row("s1", "b1", None, "bot", "10:18:40", "m5"),
    _row("s1", "b1", "x2", "agent", "10:19:00", "m6"),
    # R6: the question open at midnight is missed (owner: the agent it was addressed to).
    _row("s1", "b2", "x1", "buyer", "2024-01-06T23:59:00", "m7"),
    _row("s1", "b2", None, "buyer", "2024-01-07T00:00:30", "m8"),
    _row("s1", "b2", "x3", "agent", "2024-01-07T00:01:00", "m9"),
    # T3: equal times by seq; a row without seq first. P2: answered after 40 min by an
    # agent without an id, so the round belongs to the agent it was addressed to (P1).
    _row("s1", "b3", "x1", "agent", "11:00:00", "m10", 2),
    _row("s1", "b3", None, "buyer", "11:00:00", "m11", 1),
    _row("s1", "b3", "x4", "buyer", "12:00:00", "m12", 5),
    _row("s1", "b3", "x1", "agent", "12:00:00", "m13", None),
    _row("s1", "b3", None, "agent", "12:40:00", "m14"),
    # R3: one of the shop's own accounts (listed with a site prefix).
    _row("s1", "acct1", None, "buyer", "13:00:00", "m15"),
    # R5: before 08:00 not counted; an unanswered round addressed to y9.
    _row("s2", "b1", None, "buyer", "07:59:00", "m16"),
    _row("s2", "b1", "y1", "agent", "08:00:10", "m17"),
    _row("s2", "b1", "y9", "buyer", "09:00:00", "m18"),
    # Quarantined by kefu: no ts, a sender outside the vocabulary, no buyer_id.
    _row("s2", "b5", None, "buyer", None, "m19"),
    _row("s2", "b6", None, "robot?", "10:00:00", "m20"),
    _row("s2", None, None, "buyer", "10:00:00", "m21"),
    _row("s2", "b7", None, "buyer", "10:00:00", "m22"),
    _row("s2", "b7", None, "buyer", "10:00:00", "m22"),  # an exact duplicate
    _row("s2", "b7", "y1", "agent", "10:00:05", "m24"),
    # Sender words of the vocabulary, padded and in another case.
    _row("s2", " b8 ", None, "  Customer ", "14:00:00", "m25"),
    _row("s2", "b8", "y2", "customService", "14:00:20", "m26"),
    # A later copy of m6 with another time: kefu keeps the first (else it answers in 5 s).
    _row("s1", "b1", "x2", "agent", "10:18:35", "m6"),
    # Before the read horizon (T2): not read.
    _row("s1", "b9", None, "buyer", "2023-12-07T10:00:00", "m27"),
]


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each contender's shop and agent figures of ``ROWS``, as Parquet folders."""
    base = tmp_path_factory.mktemp("bench")
    data = base / "data"
    data.mkdir()
    pq.write_table(pa.Table.from_pylist(ROWS, arrow_schema("messages")), data / "messages.parquet")
    accounts = [{"shop_id": "s1", "account": "cntaobaoacct1"}]
    pq.write_table(
        pa.Table.from_pylist(accounts, arrow_schema("accounts")), data / "accounts.parquet"
    )
    out = {name: base / name for name in ("kefu", "pandas", "polars")}
    for path in out.values():
        path.mkdir()
    result = kefu.assess(data, "taobao", AS_OF)
    for level in ("shop", "agent"):
        pq.write_table(result.figures[level], out["kefu"] / f"figures-{level}.parquet")
    rules = RoundRules.of(AS_OF)
    for level, frame in impl_pandas.assess(data, rules).items():
        frame.to_parquet(out["pandas"] / f"{level}.parquet", index=False)
    for level, frame in impl_polars.assess(data, rules).items():
        frame.write_parquet(out["polars"] / f"{level}.parquet")
    return out


def test_kefu_gives_the_figures_worked_out_by_hand(figures: dict[str, Path]) -> None:
    shop = {
        r["shop_id"]: r for r in pq.read_table(figures["kefu"] / "figures-shop.parquet").to_pylist()
    }
    assert (shop["s1"]["rounds"], shop["s1"]["rounds_responded"]) == (5, 2)
    assert shop["s1"]["response_s"] == pytest.approx((475 + 30 + 0) / 3)
    assert shop["s1"]["first_response_s"] == pytest.approx((475 + 0) / 2)
    assert (shop["s2"]["rounds"], shop["s2"]["rounds_responded"]) == (3, 2)
    assert shop["s2"]["response_s"] == pytest.approx(12.5)
    agent = pq.read_table(figures["kefu"] / "figures-agent.parquet").to_pylist()
    rounds = {(r["shop_id"], r["agent_id"]): r["rounds"] for r in agent}
    assert rounds[("s1", "x4")] == 1 and rounds[("s2", "y9")] == 1 and rounds[("s1", "x1")] == 3


@pytest.mark.parametrize("name", ["pandas", "polars"])
def test_implementation_agrees_with_kefu(figures: dict[str, Path], name: str) -> None:
    result = agreement.compare(figures["kefu"], figures[name], name)
    for level, found in result["levels"].items():
        assert found["agree"], (level, found["mismatches"])
        assert found["rounds"] == 8
