"""Rounds and the 3-minute manual response rate (R1–R8), time handling (T1–T3)."""

from __future__ import annotations

import pytest

import kefu

from conftest import msg, shop_row


def rounds_of(result: kefu.Result) -> list[dict]:
    return result.assessment.relation("rounds", order="start_ts, buyer_id").to_pylist()


class TestR8WorkedExamples:
    """Source 003's three worked examples must hold exactly (R8)."""

    def test_second_question_joins_the_round_answer_late(self, run):
        r = run([msg("a", "buyer", "10:10:15"), msg("a", "buyer", "10:15:20"),
                 msg("a", "agent", "10:18:10", "x1")])  # fmt: skip
        s = shop_row(r)
        assert (s["rounds"], s["rounds_responded"]) == (1, 0)
        assert rounds_of(r)[0]["wait_s"] == 475.0

    def test_new_question_after_answer_opens_round_two(self, run):
        r = run([msg("a", "buyer", "10:10:15"), msg("a", "buyer", "10:15:20"),
                 msg("a", "agent", "10:18:10", "x1"), msg("a", "buyer", "10:18:30"),
                 msg("a", "agent", "10:19:00", "x1")])  # fmt: skip
        s = shop_row(r)
        assert (s["rounds"], s["rounds_responded"], s["response_rate"]) == (2, 1, 0.5)

    def test_ten_questions_no_answer_until_midnight(self, run):
        times = ["10:10:10", "10:10:25", "10:10:40", "10:11:00", "10:11:08", "10:11:16",
                 "10:11:24", "10:11:32", "10:11:40", "10:11:48"]  # fmt: skip
        s = shop_row(run([msg("a", "buyer", t) for t in times]))
        assert (s["rounds"], s["rounds_responded"], s["response_rate"]) == (1, 0, 0.0)


class TestRoundFormation:
    def test_agent_initiated_stream_opens_no_round_until_the_buyer_writes(self, run):
        """R4: proactive agent messages are not rounds; the buyer's reply starts one."""
        r = run([msg("a", "agent", "10:00:00", "x1"), msg("a", "agent", "10:00:05", "x1"),
                 msg("a", "buyer", "10:05:00"), msg("a", "agent", "10:05:30", "x1")])  # fmt: skip
        s = shop_row(r)
        assert (s["rounds"], s["rounds_responded"], s["response_s"]) == (1, 1, 30.0)

    def test_two_agents_answering_one_buyer_first_answer_counts(self, run):
        """R4 首问首答: the first agent message answers; the second opens nothing."""
        r = run([msg("a", "buyer", "10:00:00"), msg("a", "agent", "10:00:20", "x1"),
                 msg("a", "agent", "10:00:25", "x2")])  # fmt: skip
        agents = {a["agent_id"]: a for a in r.figures["agent"].to_pylist()}
        assert agents["x1"]["rounds"] == 1 and "x2" not in agents
        assert shop_row(r)["rounds"] == 1

    def test_streams_are_per_buyer_and_shop(self, run):
        """R1: the same buyer in two shops makes two streams."""
        r = run([msg("a", "buyer", "10:00:00", shop="s1"), msg("a", "buyer", "10:00:10", shop="s2"),
                 msg("a", "agent", "10:00:30", "x1", shop="s1")])  # fmt: skip
        assert shop_row(r, "s1")["rounds_responded"] == 1
        assert shop_row(r, "s2")["rounds_responded"] == 0

    def test_bot_reply_is_not_an_answer_and_outcome_says_so(self, run):
        """R2, P1: an auto-reply neither answers nor splits the round."""
        r = run([msg("a", "buyer", "10:00:00"), msg("a", "bot", "10:00:01"),
                 msg("a", "buyer", "10:00:30"), msg("a", "bot", "10:00:31")])  # fmt: skip
        (rnd,) = rounds_of(r)
        assert rnd["outcome"] == "bot_only" and rnd["buyer_messages"] == 2

    def test_system_message_inside_a_round_changes_nothing(self, run):
        """R2: a platform notice between question and answer is ignored."""
        r = run([msg("a", "buyer", "10:00:00"), msg("a", "system", "10:00:10"),
                 msg("a", "agent", "10:00:40", "x1")])  # fmt: skip
        s = shop_row(r)
        assert (s["rounds"], s["rounds_responded"], s["response_s"]) == (1, 1, 40.0)

    def test_same_shop_account_stream_is_excluded(self, run):
        """R3: a chat between two accounts of the shop is not assessed."""
        r = run(
            [msg("s1:boss", "buyer", "10:00:00"), msg("s1:boss", "agent", "10:09:00", "x1"),
             msg("b", "buyer", "11:00:00"), msg("b", "agent", "11:00:10", "x1")],
            accounts=[{"shop_id": "s1", "account": "s1:boss"}],
        )  # fmt: skip
        assert (shop_row(r)["rounds"], shop_row(r)["rounds_responded"]) == (1, 1)
        outcomes = {x["buyer_id"]: x["outcome"] for x in rounds_of(r)}
        assert outcomes["s1:boss"] == "own_account"


class TestDailyWindowAndLimit:
    @pytest.mark.parametrize(
        ("start", "counted"),
        [("07:59:59", 0), ("08:00:00", 1), ("23:59:59", 1), ("00:00:00", 0)],
    )
    def test_r5_window_edges(self, run, start, counted):
        """R5: [08:00, 24:00)."""
        assert shop_row(run([msg("a", "buyer", start)]))["rounds"] == counted

    def test_r5_profile_may_choose_09_to_23(self, run):
        prof = kefu.load_profile("taobao").override(
            response_window_start="09:00", response_window_end="23:00"
        )
        r = run([msg("a", "buyer", "08:30:00"), msg("b", "buyer", "23:00:00"),
                 msg("c", "buyer", "22:59:59")], profile=prof)  # fmt: skip
        assert shop_row(r)["rounds"] == 1

    @pytest.mark.parametrize(("answer", "responded"), [("09:03:00", 1), ("09:03:01", 0)])
    def test_r6_limit_is_inclusive(self, run, answer, responded):
        r = run([msg("a", "buyer", "09:00:00"), msg("a", "agent", answer, "x1")])
        assert shop_row(r)["rounds_responded"] == responded

    def test_r6_answer_after_midnight_is_missed_but_keeps_its_response_time(self, run):
        """R6 same-day condition; P2: an answer after midnight still has a response time."""
        r = run([msg("a", "buyer", "23:59:00"), msg("a", "agent", "2024-01-08T00:01:00", "x1")],
                as_of="2024-01-09")  # fmt: skip
        s = shop_row(r)
        assert (s["rounds"], s["rounds_responded"], s["response_s"]) == (1, 0, 120.0)
        assert rounds_of(r)[0]["outcome"] == "after_midnight"

    def test_r4_r6_question_left_open_at_midnight_then_asked_again(self, run):
        """R4 + R6 (interpretation, assumed): the round is missed at 24:00; the buyer's next
        question on a later day opens a new round, and the answer belongs to it."""
        rows = [msg("a", "buyer", "23:00:00"), msg("a", "buyer", "2024-01-08T10:00:00"),
                msg("a", "agent", "2024-01-08T10:00:30", "x1")]  # fmt: skip
        r = run(rows, as_of="2024-01-09")
        assert [(x["outcome"], x["wait_s"]) for x in rounds_of(r)] == [
            ("unanswered", None), ("responded", 30.0)]  # fmt: skip
        assert (shop_row(r)["rounds"], shop_row(r)["first_response_s"]) == (2, 30.0)
        literal = run(rows, profile=kefu.load_profile("taobao").override(reply_same_day=False),
                      as_of="2024-01-09")  # fmt: skip
        assert [x["wait_s"] for x in rounds_of(literal)] == [39630.0]

    def test_r6_same_day_condition_can_be_dropped(self, run):
        prof = kefu.load_profile("taobao").override(reply_same_day=False)
        r = run([msg("a", "buyer", "23:59:00"), msg("a", "agent", "2024-01-08T00:01:00", "x1")],
                profile=prof, as_of="2024-01-09")  # fmt: skip
        assert shop_row(r)["rounds_responded"] == 1

    def test_r7_rate_and_status_against_the_line(self, run):
        """R7: rate = responded / counted; qualified at ≥ 90 %."""
        rows = []
        for i in range(10):
            rows += [msg(f"b{i}", "buyer", "10:00:00"),
                     msg(f"b{i}", "agent", "10:00:30" if i < 9 else "10:10:00", "x1")]  # fmt: skip
        s = shop_row(run(rows))
        assert s["response_rate"] == 0.9 and s["response_rate_status"] == "qualified"
        s = shop_row(run(rows[:-1] + [msg("b9", "agent", "10:03:01", "x1"),
                                      msg("b8", "buyer", "11:00:00")]))  # fmt: skip
        assert s["response_rate"] == pytest.approx(9 / 11)
        assert s["response_rate_status"] == "not_qualified"


class TestTime:
    def test_t1_explicit_offset_is_converted_naive_is_local(self, run):
        utc = run([msg("a", "buyer", "2024-01-07T00:30:00Z"),
                   msg("a", "agent", "2024-01-07T00:30:20+00:00", "x1")])  # fmt: skip
        (rnd,) = rounds_of(utc)
        assert rnd["start_ts"].hour == 8 and rnd["counted"]  # 00:30 UTC is 08:30 in Shanghai
        local = run([msg("a", "buyer", "2024-01-07T00:30:00"),
                     msg("a", "agent", "2024-01-07T00:30:20", "x1")])  # fmt: skip
        assert not rounds_of(local)[0]["counted"]  # 00:30 local is outside 08:00-24:00

    def test_t1_profile_time_zone(self, run):
        prof = kefu.load_profile("taobao").override(timezone="UTC")
        r = run([msg("a", "buyer", "2024-01-07T10:00:00+08:00")], profile=prof)
        assert rounds_of(r)[0]["start_ts"].hour == 2

    def test_t2_window_edges(self, run):
        """T2: a round belongs to [as_of - 30 days, as_of) when it starts there (decided)."""
        r = run([msg("a", "buyer", "2023-12-09T09:00:00"), msg("b", "buyer", "2023-12-08T23:59:59"),
                 msg("c", "buyer", "2024-01-07T23:59:59"), msg("d", "buyer", "2024-01-08T00:00:00")])  # fmt: skip
        assert shop_row(r)["rounds"] == 2
        outcomes = {x["buyer_id"]: x["outcome"] for x in rounds_of(r)}
        assert outcomes["b"] == outcomes["d"] == "outside_window"

    def test_t2_round_begun_before_the_window_is_not_counted_when_answered_inside(self, run):
        """T2: a round that began before the window is not counted, even if answered inside."""
        rows = [msg("a", "buyer", "2023-12-08T23:59:00"), msg("a", "buyer", "2023-12-08T23:59:30"),
                msg("a", "agent", "2023-12-09T00:00:10", "x1")]  # fmt: skip
        assert shop_row(run(rows))["rounds"] == 0
        # Without R6's same-day condition a round spans days (literal R4): the question in
        # the window continues the round begun before it.
        literal = kefu.load_profile("taobao").override(reply_same_day=False)
        rows = [msg("a", "buyer", "2023-12-08T23:59:00"), msg("a", "buyer", "2023-12-09T09:00:00"),
                msg("a", "agent", "2023-12-09T09:00:10", "x1")]  # fmt: skip
        assert shop_row(run(rows, profile=literal))["rounds"] == 0
        assert shop_row(run(rows))["rounds"] == 1  # same-day rule: a new round on 12-09

    def test_t3_equal_timestamps_keep_file_order(self, run):
        """T3: buyer then agent in the same second is an answer in 0 s; the reverse is not."""
        answered = run([msg("a", "buyer", "10:00:00"), msg("a", "agent", "10:00:00", "x1")])
        assert shop_row(answered)["rounds_responded"] == 1
        unanswered = run([msg("a", "agent", "10:00:00", "x1"), msg("a", "buyer", "10:00:00")])
        assert shop_row(unanswered)["rounds_responded"] == 0

    def test_t3_seq_wins_over_file_order(self, run):
        r = run([msg("a", "agent", "10:00:00", "x1", seq=2), msg("a", "buyer", "10:00:00", seq=1)])
        assert shop_row(r)["rounds_responded"] == 1


def test_dimension_rows_listed_twice_double_nothing(run):
    """R3 accounts, agent groups and shop lines stay single when a row is repeated."""
    r = run(
        [msg("a", "buyer", "10:00:00"), msg("a", "agent", "10:00:10", "x1"),
         msg("s1:boss", "buyer", "11:00:00")],
        accounts=[{"shop_id": "s1", "account": "s1:boss"}] * 2,
        agents=[{"shop_id": "s1", "agent_id": "x1", "group": "售前"}] * 2,
        shops=[{"shop_id": "s1", "tier": "gold"}] * 2,
    )  # fmt: skip
    assert shop_row(r)["rounds"] == 1 and r.figures["shop"].num_rows == 1
    groups = {g["agent_group"]: g["rounds"] for g in r.figures["group"].to_pylist()}
    assert groups == {"售前": 1, None: 0}  # the own-account round has no agent, so no group
