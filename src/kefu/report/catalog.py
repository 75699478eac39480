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
    "own_account_rating": (
        "rating from one of the shop's own accounts (R3): abnormal, removed (S4, assumed)",
        "本店铺账号的评价 (R3)，视为异常剔除 (S4，假设)",
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


#: Words of the HTML report and the workbook (``kefu report``); appended to ``WORDS``.
REPORT_WORDS = {
    "report_title": ("Customer service report", "客服服务质量报告"),
    "profile": ("profile", "规则"),
    "as_of": ("assessment date", "考核日期"),
    "days_unit": ("days", "天"),
    "generated": ("generated by kefu from the engine's figures", "由 kefu 根据引擎计算的指标生成"),
    "read_rows": ("rows read", "读取行数"),
    "sec_headline": ("Platform figures", "平台考核指标"),
    "sec_advice": ("What to do", "改进建议"),
    "sec_plan": ("Target planner", "目标测算"),
    "sec_response": (
        "3-minute response rate: when the misses happen",
        "3分钟人工响应率：未及时发生在何时",
    ),
    "sec_times": ("Response times", "响应时间分布"),
    "sec_agents": ("Agents", "客服"),
    "sec_groups": ("Agent groups", "客服分组"),
    "sec_satisfaction": ("Satisfaction", "满意度"),
    "sec_notes": ("Notes and assumptions", "说明与假设"),
    "previous": ("previous window", "上一周期"),
    "no_previous": ("no data for the previous window", "上一周期无数据"),
    "no_advice": (
        "Nothing to fix: every assessed figure meets its line.",
        "无需整改：所有考核指标均达标。",
    ),
    "agent": ("Agent", "客服"),
    "group": ("Group", "分组"),
    "rounds_col": ("Rounds", "轮次"),
    "rate_col": ("3-min rate", "3分钟响应率"),
    "first_col": ("First response", "首次响应"),
    "avg_col": ("Average response", "平均响应"),
    "satisfaction_col": ("Satisfaction", "满意度"),
    "ratings_col": ("Ratings", "评价数"),
    "dissatisfied_col": ("Dissatisfied", "不满意"),
    "per_day_col": ("Consultations / day", "日均接待"),
    "days_col": ("Days", "出勤天数"),
    "sort_hint": ("click a column header to sort", "点击表头排序"),
    "missed": ("missed", "未及时"),
    "counted": ("counted", "计入"),
    "rate": ("rate", "响应率"),
    "line_word": ("line", "标准"),
    "chart_daily": ("3-minute rate by day", "每日3分钟人工响应率"),
    "chart_slots": ("Missed rounds by half hour", "每半小时未及时轮次"),
    "chart_heatmap": (
        "Counted and missed rounds by weekday and hour",
        "按星期与小时：计入与未及时轮次",
    ),
    "chart_waits": ("Response time of counted rounds", "计入轮次的响应时间"),
    "chart_scores": ("Ratings by score", "各评分等级的评价数"),
    "chart_dissatisfied": ("Dissatisfied ratings by agent", "各客服的不满意评价"),
    "no_answer": ("no human answer", "无人工回复"),
    "on_time": ("within the limit", "限时内"),
    "late": ("over the limit", "超时"),
    "missed_list": ("Missed rounds, newest first", "未及时轮次（最新在前）"),
    "dissatisfied_list": ("Dissatisfied ratings and their conversations", "不满意评价及对话记录"),
    "more_rows": ("{n} more not shown", "另有{n}条未显示"),
    "more_messages": ("{n} more messages in this consultation", "本次接待另有{n}条消息"),
    "no_transcript": ("no messages before this rating", "评价前无对话记录"),
    "start": ("Start", "开始"),
    "answer": ("Answer", "回复"),
    "wait": ("Wait", "等待"),
    "buyer": ("Buyer", "买家"),
    "reason": ("Reason", "原因"),
    "time": ("Time", "时间"),
    "score": ("Score", "评分"),
    "source": ("Source", "来源"),
    "sender_buyer": ("buyer", "买家"),
    "sender_agent": ("agent", "客服"),
    "sender_bot": ("bot", "机器人"),
    "sender_system": ("system", "系统"),
    "plan_days": ("Next days", "未来天数"),
    "plan_end": ("Window ends", "周期截至"),
    "plan_expected": ("Expected new", "预计新增"),
    "plan_needed": ("Needed good", "需达标"),
    "plan_pace": ("At current rate", "按当前水平"),
    "plan_more": ("More needed", "还差"),
    "plan_per_day": ("Per day", "每天"),
    "plan_verdict": ("Outlook", "判断"),
    "on_track": ("on track", "可达标"),
    "needs_more": ("needs more", "需提升"),
    "out_of_reach": ("out of reach", "无法达标"),
    "plan_assumption": (
        "The planner assumes each coming day brings the last 7 days' daily average of rounds "
        "(ratings) and keeps today's counts of the days that stay in the window (T2).",
        "测算假设未来每天的轮次（评价）量等于最近7天的日均量，且仍在周期内的天数保持现有计数（T2）。",
    ),
    "method_note": (
        "Every figure is the engine's own (the same as `kefu assess`); the report only picks, "
        "formats and charts them. Aggregates by weekday, half hour and response-time bin are "
        "sums over the same audit rows.",
        "所有指标均来自引擎（与 `kefu assess` 相同）；报告只做挑选、格式化与绘图。按星期、半小时与"
        "响应时间区间的汇总是对同一审计明细的求和。",
    ),
    "change_note": (
        "Change = this window's figure − the previous 30 days' figure (both shown).",
        "变化 = 本周期指标 − 上一周期指标（两者均显示）。",
    ),
    "assumed_footnote": ("assumed (not published by the platform)", "假设值（平台未公布）"),
    "agent_level_note": (
        "Satisfaction of an agent is assessed with the shop's minimum number of ratings (S6, "
        "assumed: the platform assesses shops); consultations per day are averaged over the "
        "days the agent handled a consultation (E1).",
        "客服满意度按店铺的最低评价数判定是否考核（S6，假设：平台只考核店铺）；日均接待按客服有接待的天数"
        "平均（E1）。",
    ),
    "weekday_1": ("Mon", "周一"),
    "weekday_2": ("Tue", "周二"),
    "weekday_3": ("Wed", "周三"),
    "weekday_4": ("Thu", "周四"),
    "weekday_5": ("Fri", "周五"),
    "weekday_6": ("Sat", "周六"),
    "weekday_7": ("Sun", "周日"),
    "score_1": ("1 very dissatisfied", "1 很不满意"),
    "score_2": ("2 dissatisfied", "2 不满意"),
    "score_3": ("3 neutral", "3 一般"),
    "score_4": ("4 satisfied", "4 满意"),
    "score_5": ("5 very satisfied", "5 很满意"),
    "mark_first": ("first-response line", "首次响应标准"),
    "mark_average": ("average line", "平均响应标准"),
    "mark_limit": ("on-time limit", "及时回复限时"),
    "mark_cap": ("cap of the averages", "均值统计上限"),
    "hour": ("hour", "小时"),
    "sheet_about": ("about", "说明"),
    "sheet_rounds": ("rounds", "轮次明细"),
    "sheet_ratings": ("ratings", "评价明细"),
    "about_capped": (
        "{sheet}: {shown} of {total} rows (capped; missed rounds first)",
        "{sheet}：共{total}行，显示{shown}行（已截断，未及时轮次在前）",
    ),
}
WORDS.update(REPORT_WORDS)

#: Chinese headers of the workbook's columns (``kefu report --xlsx --lang zh``); English
#: headers are the column names of ``kefu assess``'s exports.
COLUMN_ZH = {
    "shop_id": "店铺", "agent_id": "客服", "agent_group": "分组", "day": "日期", "hour": "小时",
    "rounds": "计入轮次", "rounds_responded": "3分钟内回复轮次", "response_rate": "3分钟人工响应率",
    "first_response_s": "首次响应时间(秒)", "first_response_median_s": "首次响应中位数(秒)",
    "first_response_p90_s": "首次响应P90(秒)", "first_response_consultations": "首次响应接待数",
    "response_s": "平均响应时间(秒)", "response_median_s": "响应中位数(秒)",
    "response_p90_s": "响应P90(秒)", "response_time_rounds": "响应时间轮次",
    "ratings": "计入评价", "ratings_satisfied": "满意评价", "ratings_dissatisfied": "不满意评价",
    "satisfaction_rate": "满意度", "satisfaction_assessed": "满意度是否考核",
    "refusal_prompts": "拒收提示", "refusals": "拒收次数", "refusal_rate": "消息拒收点击率",
    "response_rate_line": "响应率标准", "response_rate_status": "响应率结果",
    "first_response_s_line": "首次响应标准(秒)", "first_response_s_status": "首次响应结果",
    "response_s_line": "平均响应标准(秒)", "response_s_status": "平均响应结果",
    "satisfaction_rate_line": "满意度标准", "satisfaction_rate_status": "满意度结果",
    "refusal_rate_line": "拒收率标准", "refusal_rate_status": "拒收率结果",
    "experience_response_score": "响应得分", "experience_satisfaction_score": "满意度得分",
    "experience_score": "咨询体验分", "gold_score_ok": "金牌:体验分",
    "gold_ratings_ok": "金牌:评价数",
    "gold_satisfaction_ok": "金牌:满意度", "gold_medal": "金牌客服",
    "consultations": "接待数", "handling_s": "平均接待时长(秒)", "proactive_contacts": "主动联系数",
    "consultations_status": "接待数结果", "handling_s_status": "接待时长结果",
    "proactive_contacts_status": "主动联系结果",
    "buyer_id": "买家", "round_no": "轮次序号", "consultation": "接待", "answer_agent": "回复客服",
    "start_ts": "开始时间", "answer_ts": "回复时间", "wait_s": "等待(秒)",
    "buyer_messages": "买家消息数", "counted": "计入", "responded": "3分钟内回复",
    "in_average": "计入平均", "in_first_average": "计入首次响应", "outcome": "结果代码",
    "time_note": "时间备注", "reason": "原因", "score": "评分", "ts": "时间", "source": "来源",
    "satisfied": "满意", "status": "状态代码",
}  # fmt: skip
