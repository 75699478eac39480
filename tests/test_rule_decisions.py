"""The four rule decisions of RULES.md: T2 (what starts inside the window is the window's),
T3 (a row without ``seq`` sorts first in its second), P1 (an unanswered round belongs to the
agent its first buyer message was addressed to) and S4 (own-account ratings are abnormal).
"""

from __future__ import annotations

import datetime as dt

import kefu

from conftest import msg, shop_row

TWCS_LIKE = kefu.load_profile("taobao").override(reply_same_day=False)


def rounds_of(result: kefu.Result) -> list[dict]:
    return result.assessment.relation("rounds", order="start_ts, buyer_id").to_pylist()


def ratings_of(result: kefu.Result) -> dict[str, str]:
    rows = result.assessment.relation("rating_audit", order="ts").to_pylist()
    return {f"{r['buyer_id']}@{r['ts']:%H:%M}": r["status"] for r in rows}


class TestT2WindowEnd:
    """T2 (decided): a round starting inside the window is closed by what comes after it."""

    def test_round_at_2355_answered_at_0003_has_a_response_time(self, run):
        # Window ends 2024-01-08 00:00. R6 (same day) judges it missed; P2 keeps its time.
        r = run([msg("a", "buyer", "2024-01-07T23:55:00"),
                 msg("a", "agent", "2024-01-08T00:03:00", "x1")])  # fmt: skip
        (rnd,) = rounds_of(r)
        assert rnd["outcome"] == "after_midnight" and rnd["wait_s"] == 480.0
        s = shop_row(r)
        assert (s["rounds"], s["rounds_responded"], s["response_s"]) == (1, 0, 480.0)

    def test_without_the_same_day_rule_an_answer_after_the_end_responds(self, run):
        r = run([msg("a", "buyer", "2024-01-07T23:59:00"),
                 msg("a", "agent", "2024-01-08T00:01:30", "x1")], profile=TWCS_LIKE)  # fmt: skip
        s = shop_row(r)
        assert (s["rounds"], s["rounds_responded"], s["response_s"]) == (1, 1, 150.0)

    def test_round_starting_at_the_end_is_not_the_windows(self, run):
        r = run([msg("a", "buyer", "2024-01-08T00:00:00"),
                 msg("a", "agent", "2024-01-08T00:00:10", "x1"),
                 msg("b", "buyer", "2024-01-07T23:59:59")], profile=TWCS_LIKE)  # fmt: skip
        outcomes = {x["buyer_id"]: (x["outcome"], x["counted"]) for x in rounds_of(r)}
        assert outcomes["a"] == ("outside_window", False)
        assert outcomes["b"] == ("unanswered", True)
        assert shop_row(r)["rounds"] == 1

    def test_refusal_click_after_the_end_refuses_a_prompt_inside(self, run):
        shop = [msg("a", "agent", f"2024-01-07T23:5{i}:00", "x1") for i in range(5)]
        r = run([msg("a", "buyer", "2024-01-07T23:40:00"), *shop],
                refusals=[{"shop_id": "s1", "buyer_id": "a", "ts": "2024-01-08T00:02:00"}])  # fmt: skip
        s = shop_row(r)
        assert (s["refusal_prompts"], s["refusals"]) == (1, 1)

    def test_prompt_after_the_end_is_not_counted(self, run):
        shop = [msg("a", "agent", f"2024-01-08T00:0{i}:00", "x1") for i in range(5)]
        r = run([msg("a", "buyer", "2024-01-07T23:40:00"), *shop])
        assert shop_row(r)["refusal_prompts"] == 0
        (row,) = r.assessment.relation("refusal_audit").to_pylist()
        assert row["status"] == "outside_window"

    def test_consultation_opened_inside_counts_its_later_handling(self, run):
        r = run([msg("a", "buyer", "2024-01-07T23:58:00"),
                 msg("a", "agent", "2024-01-07T23:59:00", "x1"),
                 msg("a", "agent", "2024-01-08T00:10:00", "x1")],
                profile=kefu.load_profile("taobao").override(consultation_split="gap"))  # fmt: skip
        (day,) = r.figures["agent_day"].to_pylist()
        assert day["day"] == dt.date(2024, 1, 7) and day["handling_s"] == 720.0

    def test_a_day_is_the_same_whatever_the_as_of(self, run):
        rows = [msg("a", "buyer", "2024-01-07T23:59:00"), msg("a", "buyer", "2024-01-08T09:00:00"),
                msg("a", "agent", "2024-01-08T09:00:20", "x1")]  # fmt: skip
        early, late = run(rows, as_of="2024-01-08"), run(rows, as_of="2024-01-20")
        day = dt.date(2024, 1, 7)
        pick = [{k: d[k] for k in ("rounds", "rounds_responded", "response_s")}
                for res in (early, late) for d in res.figures["day"].to_pylist() if d["day"] == day]  # fmt: skip
        assert pick[0] == pick[1] == {"rounds": 1, "rounds_responded": 0, "response_s": None}


class TestT3RowsWithoutSeq:
    """T3 (decided): a row without ``seq`` sorts before rows with one at the same time."""

    def test_buyer_without_seq_is_answered_by_agent_with_seq(self, run):
        # File order says agent first; the rule puts the seq-less buyer row first.
        r = run([msg("a", "agent", "10:00:00", "x1", seq=1), msg("a", "buyer", "10:00:00")])
        assert shop_row(r)["rounds_responded"] == 1
        assert rounds_of(r)[0]["wait_s"] == 0.0

    def test_agent_without_seq_does_not_answer_buyer_with_seq(self, run):
        r = run([msg("a", "buyer", "10:00:00", seq=1), msg("a", "agent", "10:00:00", "x1")])
        s = shop_row(r)
        assert (s["rounds"], s["rounds_responded"]) == (1, 0)

    def test_only_the_same_time_is_reordered(self, run):
        r = run([msg("a", "buyer", "10:00:00", seq=5), msg("a", "agent", "10:00:01", "x1")])
        assert shop_row(r)["rounds_responded"] == 1

    def test_rows_without_seq_keep_file_order_among_themselves(self, run):
        r = run([msg("a", "buyer", "10:00:00"), msg("a", "agent", "10:00:00", "x1"),
                 msg("a", "buyer", "10:00:00", seq=1)])  # fmt: skip
        # buyer, agent (no seq, file order), then the seq buyer row opens round two.
        assert shop_row(r)["rounds"] == 2 and shop_row(r)["rounds_responded"] == 1

    def test_refusal_runs_follow_the_same_order(self, run):
        # Five agent rows with seq and a seq-less buyer row at the time of the fifth: the
        # buyer row comes first in that second, so no run of five without a buyer message.
        shop = [msg("a", "agent", f"10:00:0{i}", "x1", seq=i) for i in range(5)]
        r = run([*shop, msg("a", "buyer", "10:00:04")])
        assert shop_row(r)["refusal_prompts"] == 0


class TestP1UnansweredRoundAgent:
    """P1 (decided): an unanswered round belongs to its first buyer message's addressee."""

    def test_first_addressee_not_the_smallest_id(self, run):
        r = run([msg("a", "buyer", "10:00:00", "zed"), msg("a", "buyer", "10:00:30", "amy")])
        (rnd,) = rounds_of(r)
        assert rnd["agent_id"] == "zed"
        agents = {x["agent_id"]: x["rounds"] for x in r.figures["agent"].to_pylist()}
        assert agents["zed"] == 1 and agents.get("amy", 0) == 0

    def test_first_message_addressed_to_nobody_gives_no_agent(self, run):
        r = run([msg("a", "buyer", "10:00:00"), msg("a", "buyer", "10:00:30", "amy")])
        assert rounds_of(r)[0]["agent_id"] is None

    def test_renaming_an_agent_does_not_move_the_round(self, run):
        for first, second in (("b1", "a9"), ("a1", "z9")):
            r = run([msg("a", "buyer", "10:00:00", first), msg("a", "buyer", "10:00:30", second)])
            assert rounds_of(r)[0]["agent_id"] == first

    def test_answered_round_still_belongs_to_who_answered(self, run):
        r = run([msg("a", "buyer", "10:00:00", "zed"), msg("a", "agent", "10:00:20", "amy")])
        assert rounds_of(r)[0]["agent_id"] == "amy"

    def test_first_buyer_message_by_seq_at_equal_times(self, run):
        r = run([msg("a", "buyer", "10:00:00", "zed", seq=2),
                 msg("a", "buyer", "10:00:00", "amy", seq=1)])  # fmt: skip
        assert rounds_of(r)[0]["agent_id"] == "amy"


class TestS4OwnAccountRatings:
    """S4 (assumed): a rating from one of the shop's own accounts (R3) is abnormal."""

    def rating(self, buyer: str, ts: str, score: int = 5) -> dict:
        return {"shop_id": "s1", "buyer_id": buyer, "score": score, "ts": f"2024-01-07T{ts}"}

    def test_own_account_rating_is_removed_and_says_why(self, run):
        r = run([msg("a", "buyer", "10:00:00")],
                ratings=[self.rating("s1:boss", "10:00:00"), self.rating("a", "10:05:00", 2)],
                accounts=[{"shop_id": "s1", "account": "s1:boss"}])  # fmt: skip
        assert ratings_of(r) == {"s1:boss@10:00": "own_account_rating", "a@10:05": "counted"}
        s = shop_row(r)
        assert (s["ratings"], s["ratings_satisfied"]) == (1, 0)
        why = kefu.explain(r, "satisfaction_rate", shop_id="s1")
        assert "own accounts" in " ".join(why.rows.column("reason").to_pylist())

    def test_own_account_of_another_shop_counts(self, run):
        r = run([msg("a", "buyer", "10:00:00")], ratings=[self.rating("s2:boss", "10:00:00")],
                accounts=[{"shop_id": "s2", "account": "s2:boss"}])  # fmt: skip
        assert shop_row(r)["ratings"] == 1

    def test_own_account_ratings_do_not_touch_other_buyers(self, run):
        ratings = [self.rating("s1:boss", f"1{i}:00:00") for i in range(7)]
        ratings.append(self.rating("a", "10:30:00", 4))
        r = run([msg("a", "buyer", "10:00:00")], ratings=ratings,
                accounts=[{"shop_id": "s1", "account": "s1:boss"}])  # fmt: skip
        statuses = ratings_of(r)
        assert statuses.pop("a@10:30") == "counted"
        assert set(statuses.values()) == {"own_account_rating"}

    def test_1688_same_day_change_too(self, run):
        r = run([msg("a", "buyer", "10:00:00")],
                ratings=[self.rating("s1:boss", "10:00:00"), self.rating("s1:boss", "11:00:00")],
                accounts=[{"shop_id": "s1", "account": "s1:boss"}], profile="1688")  # fmt: skip
        assert set(ratings_of(r).values()) == {"own_account_rating"}
