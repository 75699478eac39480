"""Satisfaction (S1–S6), response times (P1–P5), refusals (F1–F2), composite (C1–C3), E1."""

from __future__ import annotations

import pytest

import kefu

from conftest import msg, shop_row


def rating(buyer: str, score, ts: str, shop: str = "s1", agent: str = "x1", **kw):
    return {"shop_id": shop, "buyer_id": buyer, "agent_id": agent, "score": score, "ts": ts, **kw}


def statuses(result: kefu.Result) -> list[tuple[str, str]]:
    rows = result.assessment.relation("rating_audit", order="ts, row_no").to_pylist()
    return [(r["ts"].isoformat(), r["status"]) for r in rows]


class TestSatisfaction:
    def test_s1_labels_and_scores(self, run):
        labels = ["很满意", "满意", "一般", "不满意", "很不满意", 5, "4"]
        r = run(ratings=[rating(f"b{i}", s, "2024-01-05T10:00:00") for i, s in enumerate(labels)])
        s = shop_row(r)
        assert (s["ratings"], s["ratings_satisfied"], s["ratings_dissatisfied"]) == (7, 4, 2)

    def test_s3_rolling_24h_periods_chain_from_the_counted_rating(self, run):
        """S3 Taobao: 每过24小时,就能评价一次 — the period opens at the counted rating."""
        r = run(
            ratings=[
                rating("b", 5, "2024-01-01T10:00:00"),
                rating("b", 1, "2024-01-02T06:00:00"),
                rating("b", 4, "2024-01-02T10:00:00"),
                rating("b", 2, "2024-01-02T16:00:00"),
            ]
        )
        assert [st for _, st in statuses(r)] == [
            "counted",
            "duplicate_24h",
            "counted",
            "duplicate_24h",
        ]
        assert shop_row(r)["ratings"] == 2

    def test_s3_period_from_before_the_window_reaches_into_it(self, run):
        r = run(
            ratings=[rating("b", 5, "2023-12-08T20:00:00"), rating("b", 1, "2023-12-09T10:00:00")]
        )
        assert [st for _, st in statuses(r)] == ["outside_window", "duplicate_24h"]

    def test_s3_1688_same_day_change_replaces_and_limits(self, run):
        day = [
            rating("b", s, f"2024-01-05T{10 + i}:00:00") for i, s in enumerate([1, 2, 3, 5, 4, 1])
        ]
        r = run(ratings=[*day, rating("b", 5, "2024-01-06T09:00:00")], profile="1688")
        got = [st for _, st in statuses(r)]
        assert got == ["replaced_same_day"] * 3 + [
            "counted",
            "change_limit",
            "change_limit",
            "counted",
        ]
        s = shop_row(r)
        assert (s["ratings"], s["ratings_satisfied"]) == (2, 2)  # the 4th score (5) counts

    @pytest.mark.parametrize(("days", "expected"), [(5, 5), (6, 0)])
    def test_s4_abnormal_buyer_removed(self, run, days, expected):
        """S4 (number assumed): more than 5 counted ratings from one buyer are removed."""
        ratings = [rating("heavy", 5, f"2024-01-0{d + 1}T10:00:00") for d in range(days)]
        r = run(ratings=ratings)
        assert shop_row(r)["ratings"] == expected
        assert {st for _, st in statuses(r)} == {"counted" if expected else "abnormal"}

    @pytest.mark.parametrize(("n", "assessed"), [(29, False), (30, True)])
    def test_s6_taobao_minimum_30(self, run, n, assessed):
        r = run(ratings=[rating(f"b{i}", 5, "2024-01-05T10:00:00") for i in range(n)])
        s = shop_row(r)
        assert s["satisfaction_assessed"] is assessed
        assert s["satisfaction_rate_status"] == ("qualified" if assessed else "not_assessed")

    @pytest.mark.parametrize(("n", "assessed"), [(5, False), (6, True)])
    def test_s6_1688_more_than_five(self, run, n, assessed):
        r = run(
            ratings=[rating(f"b{i}", 2, "2024-01-05T10:00:00") for i in range(n)], profile="1688"
        )
        assert shop_row(r)["satisfaction_assessed"] is assessed

    def test_s5_s6_line_is_70_percent(self, run):
        """S5 rate = satisfied / counted; S6 qualified at 70 % exactly."""
        scores = [5] * 21 + [3] * 9
        s = shop_row(
            run(ratings=[rating(f"b{i}", x, "2024-01-05T10:00:00") for i, x in enumerate(scores)])
        )
        assert s["satisfaction_rate"] == 0.7 and s["satisfaction_rate_status"] == "qualified"

    def test_s2_source_is_kept(self, run):
        """S2: the rating's source (system, buyer, merchant invitation) is kept."""
        r = run(ratings=[rating("b", 5, "2024-01-05T10:00:00", source="商家邀评")])
        assert r.assessment.relation("rating_audit").to_pylist()[0]["source"] == "merchant_invite"

    def test_shop_without_ratings(self, run):
        s = shop_row(run([msg("a", "buyer", "10:00:00"), msg("a", "agent", "10:00:05", "x1")]))
        assert s["ratings"] == 0 and s["satisfaction_rate"] is None
        assert s["satisfaction_rate_status"] == "not_assessed"


class TestResponseTimes:
    @pytest.mark.parametrize(("wait", "in_average"), [("10:30:00", True), ("10:30:01", False)])
    def test_p2_cap_is_inclusive(self, run, wait, in_average):
        r = run([msg("a", "buyer", "10:00:00"), msg("a", "agent", wait, "x1")])
        assert (shop_row(r)["response_s"] == 1800.0) is in_average

    def test_p2_time_window_can_differ_from_the_rate_window(self, run):
        prof = kefu.load_profile("taobao").override(response_time_window_start="09:00")
        r = run(
            [
                msg("a", "buyer", "08:30:00"),
                msg("a", "agent", "08:30:50", "x1"),
                msg("b", "buyer", "10:00:00"),
                msg("b", "agent", "10:00:10", "x1"),
            ],
            profile=prof,
        )
        s = shop_row(r)
        assert (s["rounds"], s["response_s"]) == (2, 10.0)

    def test_p3_first_response_is_per_consultation_p4_average_per_round(self, run):
        """P3: one consultation per stream and day; its first round's wait. P4: every round."""
        r = run(
            [
                msg("a", "buyer", "10:00:00"),
                msg("a", "agent", "10:00:10", "x1"),
                msg("a", "buyer", "10:05:00"),
                msg("a", "agent", "10:06:00", "x1"),
                msg("a", "buyer", "2024-01-06T10:00:00"),
                msg("a", "agent", "2024-01-06T10:00:30", "x1"),
            ]
        )
        s = shop_row(r)
        assert s["first_response_s"] == pytest.approx(20.0)  # (10 + 30) / 2
        assert s["response_s"] == pytest.approx(100 / 3)  # (10 + 60 + 30) / 3
        assert s["first_response_median_s"] == pytest.approx(20.0)

    def test_p3_consultation_split_on_idle_gap(self, run):
        prof = kefu.load_profile("taobao").override(consultation_split="gap")
        r = run(
            [
                msg("a", "buyer", "10:00:00"),
                msg("a", "agent", "10:00:10", "x1"),
                msg("a", "buyer", "11:00:00"),
                msg("a", "agent", "11:00:30", "x1"),
            ],
            profile=prof,
        )
        assert shop_row(r)["first_response_s"] == pytest.approx(20.0)
        same_day = run(
            [
                msg("a", "buyer", "10:00:00"),
                msg("a", "agent", "10:00:10", "x1"),
                msg("a", "buyer", "11:00:00"),
                msg("a", "agent", "11:00:30", "x1"),
            ]
        )
        assert shop_row(same_day)["first_response_s"] == pytest.approx(10.0)

    def test_p5_lines_by_tier_and_industry(self, run):
        r = run(
            [msg("a", "buyer", "10:00:00", shop=s) for s in ("g", "v", "n", "e")],
            shops=[
                {"shop_id": "g", "tier": "金牌"},
                {"shop_id": "v", "tier": "silver"},
                {"shop_id": "n", "industry": "服饰鞋包"},
                {"shop_id": "e", "industry": "电子产品"},
            ],
        )
        lines = {
            x["shop_id"]: (x["first_response_s_line"], x["response_s_line"])
            for x in r.figures["shop"].to_pylist()
        }
        assert lines == {"g": (10, 30), "v": (15, 30), "n": (20, 30), "e": (20, 60)}

    def test_p1_response_time_belongs_to_the_answering_agent(self, run):
        r = run([msg("a", "buyer", "10:00:00", "x1"), msg("a", "agent", "10:00:40", "x2")])
        agents = {a["agent_id"]: a for a in r.figures["agent"].to_pylist()}
        assert agents["x2"]["response_s"] == 40.0 and "x1" not in agents


class TestRefusals:
    def shop_run(self, run, senders, refusal_at=None):
        rows = [
            msg("a", s, f"10:00:{i:02d}", "x1" if s == "agent" else None)
            for i, s in enumerate(senders)
        ]
        refusals = (
            [{"shop_id": "s1", "buyer_id": "a", "ts": f"2024-01-07T{refusal_at}"}]
            if refusal_at
            else []
        )
        return shop_row(run(rows, refusals=refusals))

    @pytest.mark.parametrize(
        ("senders", "prompts"),
        [
            (["agent"] * 4, 0),
            (["agent"] * 5, 1),
            (["agent"] * 10, 1),  # one prompt per run
            (["agent"] * 3 + ["bot"] * 2, 1),  # auto-replies come from the shop (assumed)
            (["agent"] * 3 + ["system"] + ["agent"] * 2, 1),  # platform notices don't break a run
            (["agent"] * 3 + ["buyer"] + ["agent"] * 2, 0),
            (["agent"] * 5 + ["buyer"] + ["agent"] * 5, 2),
        ],
    )
    def test_f1_prompts(self, run, senders, prompts):
        assert self.shop_run(run, senders)["refusal_prompts"] == prompts

    def test_f2_refusal_after_a_prompt_counts(self, run):
        s = self.shop_run(run, ["agent"] * 5, refusal_at="10:01:00")
        assert (s["refusal_prompts"], s["refusals"], s["refusal_rate"]) == (1, 1, 1.0)
        assert s["refusal_rate_status"] == "not_qualified"

    def test_f2_refusal_without_a_prompt_is_not_counted(self, run):
        s = self.shop_run(run, ["agent"] * 2, refusal_at="10:01:00")
        assert (s["refusal_prompts"], s["refusals"], s["refusal_rate_status"]) == (
            0,
            0,
            "not_assessed",
        )


class TestComposite:
    def shop(self, run, responded: int, satisfied: int, ratings: int, profile="1688"):
        rows = []
        for i in range(10):
            rows += [
                msg(f"b{i}", "buyer", "10:00:00"),
                msg(f"b{i}", "agent", "10:00:30" if i < responded else "10:05:00", "x1"),
            ]
        rates = [
            rating(f"r{i}", 5 if i < satisfied else 1, "2024-01-05T10:00:00")
            for i in range(ratings)
        ]
        return shop_row(run(rows, ratings=rates, profile=profile))

    def test_c1_c2_half_response_half_satisfaction(self, run):
        """C1 50/50 weights; C2 the assumed rate → score table."""
        s = self.shop(run, responded=10, satisfied=9, ratings=10)
        assert s["experience_response_score"] == 5.0  # 100 % → 5.0 (assumed table)
        assert s["experience_satisfaction_score"] == 4.0  # 90 % → 4.0
        assert s["experience_score"] == 4.5

    def test_c1_response_alone_when_too_few_ratings(self, run):
        s = self.shop(run, responded=9, satisfied=1, ratings=5)
        assert s["experience_score"] == 4.0

    def test_c3_gold_medal_reasons(self, run):
        from kefu.report.scorecard import gold_reasons

        s = self.shop(run, responded=10, satisfied=9, ratings=10)
        assert s["gold_medal"] is False
        assert (s["gold_score_ok"], s["gold_ratings_ok"], s["gold_satisfaction_ok"]) == (
            True,
            False,
            True,
        )
        (reason,) = gold_reasons(s, kefu.load_profile("1688"), "en")
        assert reason == "ratings 10 < 100"


class TestAgentDays:
    def test_e1_consultations_handling_and_proactive(self, run):
        r = run(
            [
                msg("a", "buyer", "10:00:00"),
                msg("a", "agent", "10:00:20", "x1"),
                msg("a", "buyer", "10:02:00"),
                msg("a", "agent", "10:04:00", "x1"),
                msg("b", "agent", "11:00:00", "x1"),
                msg("b", "buyer", "11:01:00"),
                msg("b", "agent", "11:02:00", "x1"),
            ]
        )
        (day,) = r.figures["agent_day"].to_pylist()
        assert (day["agent_id"], day["consultations"], day["proactive_contacts"]) == ("x1", 2, 1)
        assert day["handling_s"] == pytest.approx((240 + 120) / 2)
        assert day["consultations_status"] == "not_qualified"
        assert day["handling_s_status"] == "qualified"
