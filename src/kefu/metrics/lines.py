"""The lines figures are judged against (R7, P5, S6, F2) and the score table of C2.

Most lines are one profile parameter. P5's lines depend on the shop: the first-response
line on its tier, the average-response line on its industry; C2 turns a rate into a score
through the profile's table. Each is an SQL expression over the shop's row ``s`` (tier,
industry) or a figure column, built with sqlglot from the profile's values.
"""

from __future__ import annotations

from sqlglot import exp

from kefu.metrics.params import Params
from kefu.metrics.templates import literal


def _shop_column(name: str) -> exp.Column:
    return exp.column(name, table="s")


def _first_response(p: Params) -> exp.Expression:
    """P5: 20 s, or 10 s for a gold-tier shop and 15 s for silver."""
    case = exp.Case(this=_shop_column("tier"))
    for tier in ("gold", "silver"):
        case = case.when(literal(tier), literal(p[f"first_response_max_s_{tier}"]))  # type: ignore[arg-type]
    return case.else_(literal(p["first_response_max_s"]))  # type: ignore[arg-type]


def _average_response(p: Params) -> exp.Expression:
    """P5: 30 s in general; by industry (30 s apparel, 60 s the others) when it is known."""
    industry = _shop_column("industry")
    unknown = exp.or_(industry.is_(exp.null()), industry.eq(""))
    case = exp.Case().when(unknown, literal(p["response_time_max_s"]))  # type: ignore[arg-type]
    by_industry = p["industry_response_max_s"]
    assert isinstance(by_industry, dict)
    for name, seconds in by_industry.items():
        case = case.when(industry.eq(literal(name)), literal(seconds))
    return case.else_(literal(p["industry_response_max_s_other"]))  # type: ignore[arg-type]


#: Lines that are not one parameter's value, by the parameter that names them.
SHOP_LINES = {"first_response_max_s": _first_response, "response_time_max_s": _average_response}


def line(param: str, p: Params) -> exp.Expression:
    """The line named by profile parameter ``param``, as an expression over shop row ``s``."""
    build = SHOP_LINES.get(param)
    return build(p) if build else literal(p[param])  # type: ignore[arg-type]


def score(rate_column: str, p: Params) -> exp.Expression:
    """C2: a rate → score through the profile's table (assumed): the first row it reaches."""
    table = p["experience_score_table"]
    assert isinstance(table, list)
    rate = exp.column(rate_column)
    case = exp.Case().when(rate.is_(exp.null()), exp.null())
    for lowest, points in table:
        case = case.when(rate >= literal(float(lowest)), literal(float(points)))
    return case.else_(literal(0.0))
