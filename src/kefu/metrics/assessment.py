"""Run the definitions on an engine: the audit relations, then the figures per level.

The audit relations are the ones explain shows — ``rounds``, ``rating_audit``,
``refusal_audit`` — so every figure is a sum over rows a user can read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import pyarrow as pa

from kefu.metrics.efficiency import agent_days
from kefu.metrics.figures import LEVELS, level_figures
from kefu.metrics.params import Params
from kefu.metrics.refusal import refusal_audit, refusal_prompts
from kefu.metrics.rounds import rounds, stream_events
from kefu.metrics.satisfaction import rating_audit


class Engine(Protocol):
    """What an engine offers the definitions (DuckDB here; Spark on a cluster)."""

    def materialize(self, name: str, sql: str) -> None: ...

    def query(self, sql: str) -> pa.Table: ...


#: The audit relations in the order they are built; each may read the ones before it.
RELATIONS: tuple[tuple[str, Callable[[Params], str]], ...] = (
    ("stream_events", stream_events),
    ("rounds", rounds),
    ("rating_audit", rating_audit),
    ("refusal_prompts", refusal_prompts),
    ("refusal_audit", refusal_audit),
    ("agent_days", agent_days),
)


class Assessment:
    """The audit relations of one assessment, built on ``engine`` from its loaded tables."""

    def __init__(
        self, engine: Engine, params: Params, on_step: Callable[[str], None] | None = None
    ) -> None:
        self.engine = engine
        self.params = params
        for name, definition in RELATIONS:
            if on_step:
                on_step(name)
            engine.materialize(name, definition(params))

    def figures(self, level: str) -> pa.Table:
        """All figures of ``level`` (shop, agent, group, day or hour)."""
        if level == "agent_day":
            return self.engine.query("SELECT * FROM agent_days ORDER BY shop_id, agent_id, day")
        return self.engine.query(level_figures(level, self.params))

    def all_figures(self) -> dict[str, pa.Table]:
        return {level: self.figures(level) for level in (*LEVELS, "agent_day")}

    def relation(self, name: str, where: str = "TRUE", order: str = "1") -> pa.Table:
        """Rows of an audit relation (``rounds``, ``rating_audit``, ``refusal_audit``)."""
        return self.engine.query(f"SELECT * FROM {name} WHERE {where} ORDER BY {order}")
