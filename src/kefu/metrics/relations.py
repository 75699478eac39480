"""The audit relations of an assessment, in the order they are built, and their templates.

Each relation is one template in ``sql/``; a profile setting may choose between two
templates of the same relation (P3's consultation split, S3's rating dedupe). A relation
is kept as a table when later steps read it more than once, or as a view when it is a
cheap projection of one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from kefu.metrics.params import Params

#: T3: the total order of a stream, as ``sql/stream_counts.sql`` spells it (a test checks
#: they agree), for queries that list a stream's messages in that order.
STREAM_ORDER = ("ts", "seq NULLS FIRST", "file_no", "row_no")

#: The input tables of an assessment (``kefu.io.schema.TABLES``), read by the templates.
INPUTS = ("messages", "ratings", "refusals", "accounts", "agents", "shops")


@dataclass(frozen=True)
class Relation:
    """An audit relation: its name, the template it comes from, and how it is kept."""

    name: str
    template: str | Callable[[Params], str]
    keep: Literal["table", "view"] | Callable[[Params], Literal["table", "view"]] = "table"

    def template_for(self, p: Params) -> str:
        return self.template(p) if callable(self.template) else self.template

    def kept_as(self, p: Params) -> Literal["table", "view"]:
        return self.keep(p) if callable(self.keep) else self.keep


def _split(p: Params) -> str:
    return f"stream_events_{p['consultation_split']}"


RELATIONS: tuple[Relation, ...] = (
    Relation("own_accounts", "own_accounts"),
    Relation("stream_counts", "stream_counts"),
    # The day split adds one column to stream_counts: a view; the gap split sorts again.
    Relation("stream_events", _split, lambda p: "view" if _split(p).endswith("_day") else "table"),
    Relation("rounds", "rounds"),
    Relation("rating_deduped", lambda p: f"rating_dedupe_{p['rating_dedupe']}", "view"),
    Relation("rating_audit", "rating_audit"),
    Relation("refusal_prompts", "refusal_prompts"),
    Relation("refusal_audit", "refusal_audit"),
    Relation("agent_consultations", "agent_consultations", "view"),  # read once, by agent_days
    Relation("agent_days", "agent_days"),
)
