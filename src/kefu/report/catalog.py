"""What each figure is called, which rules and parameters shape it, and the words for it.

The values themselves always come from the engine; this catalogue only labels them.
"""

from __future__ import annotations

from dataclasses import dataclass

from kefu.rules.profile import Profile


@dataclass(frozen=True)
class Figure:
    name: str
    rules: tuple[str, ...]
    params: tuple[str, ...]
    en: str
    zh: str
    unit: str  # rate | seconds | score | flag


SCORECARD: tuple[Figure, ...] = (
    Figure(
        "response_rate",
        ("R4", "R5", "R6", "R7"),
        ("response_window_start", "response_window_end", "response_limit_s", "reply_same_day"),
        "3-minute manual response rate",
        "3分钟人工响应率",
        "rate",
    ),
    Figure(
        "first_response_s",
        ("P1", "P2", "P3", "P5"),
        ("response_time_cap_s", "consultation_split"),
        "First response time",
        "首次响应时间",
        "seconds",
    ),
    Figure(
        "response_s",
        ("P1", "P2", "P4", "P5"),
        ("response_time_cap_s",),
        "Average response time",
        "平均响应时间",
        "seconds",
    ),
    Figure(
        "satisfaction_rate",
        ("S1", "S3", "S4", "S5", "S6"),
        ("rating_dedupe", "max_ratings_per_buyer", "min_ratings"),
        "Satisfaction rate",
        "咨询满意度",
        "rate",
    ),
    Figure(
        "refusal_rate",
        ("F1", "F2"),
        ("refusal_run_length", "refusal_counts_bot"),
        "Message refusal rate",
        "消息拒收点击率",
        "rate",
    ),
    Figure(
        "experience_score",
        ("C1", "C2"),
        ("experience_score_table",),
        "Consultation experience score",
        "咨询体验分",
        "score",
    ),
    Figure(
        "gold_medal",
        ("C3",),
        ("gold_score_min", "gold_ratings_min", "gold_satisfaction_min", "experience_score_table"),
        "Gold-medal customer service",
        "金牌客服",
        "flag",
    ),
)

FIGURES = {f.name: f for f in SCORECARD}

WORDS = {
    "qualified": ("qualified", "合格"),
    "not_qualified": ("not qualified", "不合格"),
    "not_assessed": ("not assessed", "不考核"),
    "figure": ("Figure", "指标"),
    "value": ("Value", "数值"),
    "line": ("Line", "标准"),
    "status": ("Status", "结果"),
    "rules": ("Rules", "规则"),
    "basis": ("Basis", "依据"),
    "assumed": ("* assumed parameter (not published by the platform)", "* 假设参数（平台未公布）"),
    "rounds": ("rounds", "轮次"),
    "ratings": ("ratings", "评价"),
    "prompts": ("prompts", "拒收提示"),
    "eligible": ("eligible", "符合"),
    "not_eligible": ("not eligible", "不符合"),
    "window": ("window", "考核周期"),
    "shop": ("Shop", "店铺"),
}

OUTCOMES = {
    "responded": ("answered within {limit} s", "{limit}秒内回复"),
    "over_limit": ("answered after more than {limit} s (R6)", "超过{limit}秒才回复 (R6)"),
    "after_midnight": ("not answered by 24:00 of its day (R6)", "当天24点前未回复 (R6)"),
    "unanswered": ("no answer (R6)", "未回复 (R6)"),
    "bot_only": ("only auto-replies, no human answer (R2)", "只有自动回复，无人工回复 (R2)"),
    "outside_hours": ("starts outside {hours} (R5)", "开始于{hours}之外 (R5)"),
    "outside_window": ("outside the {days}-day window (T2)", "不在{days}天考核周期内 (T2)"),
    "own_account": ("same-shop account (R3)", "同店铺账号间对话 (R3)"),
    "over_cap": (
        "wait over {cap} s: left out of averages (P2)",
        "等待超过{cap}秒，不计入均值 (P2)",
    ),
    "outside_time_window": (
        "outside response-time hours: left out of averages (P2)",
        "不在响应时间统计时段，不计入均值 (P2)",
    ),
    "counted": ("counted", "计入"),
    "duplicate_24h": (
        "another rating by this buyer counts within 24 h (S3)",
        "24小时内该买家已有计入的评价 (S3)",
    ),
    "replaced_same_day": (
        "replaced by a change the same day (S3)",
        "当天被修改后的评价取代 (S3)",
    ),
    "change_limit": (
        "change beyond the {changes} allowed (S3, assumed)",
        "超过允许的{changes}次修改 (S3，假设)",
    ),
    "abnormal": (
        "buyer has more than {max_buyer} counted ratings: abnormal, removed (S4, assumed)",
        "买家计入评价超过{max_buyer}条，视为异常剔除 (S4，假设)",
    ),
    "prompt": ("prompt, not refused (F1)", "拒收提示，未拒收 (F1)"),
    "refused": ("prompt refused (F2)", "拒收提示，买家拒收 (F2)"),
    "no_prompt": (
        "refusal without a prompt before it: not counted (F2)",
        "之前无拒收提示，不计入 (F2)",
    ),
}


def word(key: str, lang: str) -> str:
    en, zh = WORDS[key]
    return zh if lang == "zh" else en


def outcome_text(code: str | None, lang: str, profile: Profile) -> str:
    if code is None:
        return ""
    en, zh = OUTCOMES[code]
    values = {
        "limit": profile["response_limit_s"],
        "hours": f"{profile['response_window_start']}–{profile['response_window_end']}",
        "days": profile["window_days"],
        "cap": profile["response_time_cap_s"],
        "changes": profile["max_rating_changes"],
        "max_buyer": profile["max_ratings_per_buyer"],
    }
    return (zh if lang == "zh" else en).format(**values)


def label(figure: Figure, lang: str) -> str:
    return figure.zh if lang == "zh" else figure.en


def rules_text(figure: Figure, profile: Profile) -> str:
    """Rule IDs of a figure; a rule whose parameter is assumed in this profile is starred."""
    assumed = {profile.params[p].rule for p in figure.params if profile.params[p].assumed}
    rules = [*figure.rules, *sorted(assumed - set(figure.rules))]
    return ", ".join(f"{r}*" if r in assumed else r for r in rules)
