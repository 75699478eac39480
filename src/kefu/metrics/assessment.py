"""Run the definitions on an engine: the audit relations, then the figures per level.

The audit relations are the ones explain shows — ``rounds``, ``rating_audit``,
``refusal_audit`` — so every figure is a sum over rows a user can read. An assessment's
relations live under its own namespace (``a1.rounds``), so two assessments — this window
and the previous one, two web requests — coexist in one session.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa
import sqlglot
from sqlglot import exp

from kefu.metrics.figures import LEVELS, level_parts, level_query
from kefu.metrics.params import Params
from kefu.metrics.relations import INPUTS, RELATIONS
from kefu.metrics.templates import DIALECT, parsed_tree, qualify, render

if TYPE_CHECKING:
    from pathlib import Path

    from kefu.io.load import Loader


class Engine(Protocol):
    """What an engine offers the definitions (DuckDB here; Spark on a cluster)."""

    dialect: str

    def relation_name(self, namespace: str, relation: str) -> str: ...

    def render(self, tree: exp.Expression) -> str: ...

    def namespace(self, name: str) -> None: ...

    def drop_namespace(self, name: str) -> None: ...

    def materialize(self, name: str, sql: str) -> None: ...

    def view(self, name: str, sql: str) -> None: ...

    def query(self, sql: str) -> pa.Table: ...

    def batches(self, sql: str) -> pa.RecordBatchReader: ...

    def load_session(self, inputs: dict[str, list[Path]]) -> Loader | None:
        """Where kefu's loader checks ``inputs``: this engine (it reads them itself), or
        None: a DuckDB session, whose checked tables ``receive`` then takes."""
        ...

    def receive(self, loader: Loader, tables: tuple[str, ...]) -> None:
        """Take the tables ``loader`` checked (``load_session``'s, or DuckDB's)."""
        ...


_numbers = itertools.count(1)


class Assessment:
    """The audit relations of one assessment, built on ``engine`` from its loaded tables.

    ``tables`` maps an input table to the name it has in the session (default: its own);
    ``given`` maps an audit relation someone else made to its name in the session: it is
    read as it is instead of being built (the live desk's rounds, formed as they happen).
    """

    def __init__(
        self,
        engine: Engine,
        params: Params,
        on_step: Callable[[str], None] | None = None,
        *,
        tables: dict[str, str] | None = None,
        given: dict[str, str] | None = None,
    ) -> None:
        self.engine = engine
        self.params = params
        self.namespace = f"kefu_a{next(_numbers)}"
        engine.namespace(self.namespace)
        self.names = {t: t for t in INPUTS} | (tables or {})
        values = params.values()
        for relation in RELATIONS:
            if given and relation.name in given:
                self.names[relation.name] = given[relation.name]
                continue
            if on_step:
                on_step(relation.name)
            tree = render(relation.template_for(params), values, self.names)
            qualified = self.table(relation.name)
            if relation.kept_as(params) == "view":
                engine.view(qualified, self.sql(tree))
            else:
                engine.materialize(qualified, self.sql(tree))
            self.names[relation.name] = qualified
        if on_step:
            on_step("level_parts")
        # Every level's figures in one scan of each audit relation; a level reads its rows.
        parts = qualify(
            parsed_tree(sqlglot.parse_one(level_parts(params), read=DIALECT)), self.names
        )
        engine.materialize(self.table("level_parts"), self.sql(parts))
        self.names["level_parts"] = self.table("level_parts")

    def close(self) -> None:
        """Drop this assessment's relations (its figures, once read, stay valid)."""
        self.engine.drop_namespace(self.namespace)

    def table(self, relation: str) -> str:
        """The session name of one of this assessment's relations: ``kefu_a1.rounds``."""
        return self.engine.relation_name(self.namespace, relation)

    def sql(self, tree: exp.Expression) -> str:
        """A bound tree (DuckDB's dialect) as the SQL this assessment's engine runs."""
        return self.engine.render(tree)

    def query(self, sql: str) -> pa.Table:
        """Run ``sql`` (DuckDB dialect) over this assessment's relations and input tables.

        ``FROM rounds`` reads this assessment's rounds, whichever others the session holds.
        """
        return self.engine.query(self._rendered(sql))

    def _rendered(self, sql: str) -> str:
        """``sql`` (DuckDB dialect) over this assessment's names, as its engine runs it."""
        tree = parsed_tree(sqlglot.parse_one(sql, read=DIALECT))
        return self.sql(qualify(tree, self.names))

    def relation(self, name: str, where: str = "TRUE", order: str = "1") -> pa.Table:
        """Rows of an audit relation (``rounds``, ``rating_audit``, ``refusal_audit``)."""
        return self.query(f"SELECT * FROM {name} WHERE {where} ORDER BY {order}")

    def figures_sql(self, level: str) -> str:
        """The query (engine dialect) of every figure of ``level``, one row per key."""
        if level == "agent_day":
            # Through the parser, so every engine sorts NULLs as DuckDB does.
            return self._rendered("SELECT * FROM agent_days ORDER BY shop_id, agent_id, day")
        return self.sql(level_query(level, self.params, self.names))

    def figures(self, level: str) -> pa.Table:
        """All figures of ``level`` (shop, agent, group, day, hour or agent_day)."""
        return self.engine.query(self.figures_sql(level))

    def all_figures(self) -> dict[str, pa.Table]:
        return {level: self.figures(level) for level in FIGURE_LEVELS}


#: The levels an assessment has figures for: LEVELS, then one row per agent and day.
FIGURE_LEVELS = (*LEVELS, "agent_day")


class Figures(Mapping[str, pa.Table]):
    """An assessment's figures by level, each read from the engine when first asked for.

    A year of a marketplace has millions of day and agent-day rows: reading only the levels
    a caller uses, and streaming the ones written to files (:meth:`batches`), keeps them
    out of memory (docs/benchmarks.md, out of core). A level read once is kept.

    >>> figures = Figures(assessment)  # doctest: +SKIP
    >>> figures["shop"].num_rows  # doctest: +SKIP
    1
    """

    def __init__(self, assessment: Assessment) -> None:
        self.assessment = assessment
        self._read: dict[str, pa.Table] = {}

    def __getitem__(self, level: str) -> pa.Table:
        if level not in FIGURE_LEVELS:
            raise KeyError(level)
        if level not in self._read:
            self._read[level] = self.assessment.figures(level)
        return self._read[level]

    def __iter__(self) -> Iterator[str]:
        return iter(FIGURE_LEVELS)

    def __len__(self) -> int:
        return len(FIGURE_LEVELS)

    def batches(self, level: str) -> pa.RecordBatchReader:
        """``level``'s rows as a stream of batches, not kept (read it before the next query)."""
        if level not in FIGURE_LEVELS:
            raise KeyError(level)
        if level in self._read:
            return self._read[level].to_reader()
        return self.assessment.engine.batches(self.assessment.figures_sql(level))
