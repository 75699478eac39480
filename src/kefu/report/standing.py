"""Where a shop stands: its failing figures, its worst hours and its slowest agents.

Everything is picked from the engine's figures per level (hour, agent); nothing is
recomputed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa


def _rows_of(table: pa.Table, shop_id: str) -> list[dict[str, Any]]:
    return [r for r in table.to_pylist() if r["shop_id"] == shop_id]


def worst_hours(hours: pa.Table, shop_id: str, line: float, top: int = 3) -> list[dict[str, Any]]:
    """Hours of day whose 3-minute rate is under the line, most missed rounds first (R7)."""
    rows = [r for r in _rows_of(hours, shop_id) if r["rounds"] and r["response_rate"] < line]
    rows.sort(key=lambda r: (-(r["rounds"] - r["rounds_responded"]), r["hour"]))
    return rows[:top]


def slow_agents(agents: pa.Table, shop_id: str, top: int = 2) -> list[dict[str, Any]]:
    """Agents whose first response time fails its line (P3, P5), slowest first."""
    rows = [
        r
        for r in _rows_of(agents, shop_id)
        if r["agent_id"] is not None and r["first_response_s_status"] == "not_qualified"
    ]
    rows.sort(key=lambda r: -r["first_response_s"])
    return rows[:top]


def best_agent(agents: pa.Table, shop_id: str) -> dict[str, Any] | None:
    """The agent with the fastest first response among those with a rate on the line."""
    rows = [
        r
        for r in _rows_of(agents, shop_id)
        if r["agent_id"] is not None
        and r["first_response_s"] is not None
        and r["response_rate_status"] == "qualified"
    ]
    return min(rows, key=lambda r: r["first_response_s"], default=None)


def standing_lines(figures: Mapping[str, pa.Table], shop: dict[str, Any], lang: str) -> list[str]:
    """Short lines naming what holds a shop back, each with its rule ID."""
    sid = shop["shop_id"]
    zh = lang == "zh"
    out: list[str] = []
    if shop["response_rate_status"] == "not_qualified":
        hours = worst_hours(figures["hour"], sid, shop["response_rate_line"])
        parts = ", ".join(
            f"{h['hour']:02d}:00 {h['response_rate']:.0%} "
            f"({h['rounds'] - h['rounds_responded']}{' 轮未及时' if zh else ' missed'})"
            for h in hours
        )
        out.append(
            (f"3分钟人工响应率最差时段: {parts} (R5–R7)")
            if zh
            else f"worst hours for the 3-minute rate: {parts} (R5–R7)"
        )
    for a in slow_agents(figures["agent"], sid):
        out.append(
            f"客服 {a['agent_id']} 首次响应 {a['first_response_s']:.0f} 秒 > "
            f"{a['first_response_s_line']} 秒 (P3, P5)"
            if zh
            else f"agent {a['agent_id']}: first response {a['first_response_s']:.0f} s > "
            f"{a['first_response_s_line']} s line (P3, P5)"
        )
    best = best_agent(figures["agent"], sid)
    if best is not None:
        out.append(
            f"最快客服 {best['agent_id']}: 首次响应 {best['first_response_s']:.0f} 秒, "
            f"响应率 {best['response_rate']:.0%}"
            if zh
            else f"fastest agent {best['agent_id']}: first response "
            f"{best['first_response_s']:.0f} s, rate {best['response_rate']:.0%}"
        )
    if not shop["satisfaction_assessed"]:
        out.append(
            f"满意度不考核: 仅 {shop['ratings']} 条评价 (S6)"
            if zh
            else f"satisfaction not assessed: {shop['ratings']} ratings counted (S6)"
        )
    return out
