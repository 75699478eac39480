"""What sqlglot's rendering of the templates still needs, dialect by dialect.

The templates are DuckDB SQL; sqlglot translates most of it (division, casts, intervals,
NULL ordering). What it leaves — a function a dialect lacks, a type that would change a
figure — is rewritten here on the bound tree, never in a template. Spark's rewrites live
with its engine (``kefu.engine.spark.dialect``) and serve Hive too: both read Spark SQL.

>>> import sqlglot
>>> tree = sqlglot.parse_one("SELECT arg_min(agent_id, pos) FROM r", read="duckdb")
>>> rendered(tree, "postgres")
'SELECT (ARRAY_AGG(agent_id ORDER BY pos))[1] FROM r'
"""

from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import ErrorLevel, exp

from kefu.engine.spark.dialect import for_spark

Rewrite = Callable[[exp.Expression], exp.Expression]


def _first_by(node: exp.Expression) -> exp.Expression:
    """``arg_min(x, y)`` → ``(ARRAY_AGG(x ORDER BY y))[1]``: PostgreSQL has no arg_min.

    The templates order by a key without ties (a position in a stream), so the first
    element is the one arg_min picks; ``x`` is never NULL there (COALESCE'd, see rounds).
    """
    if not isinstance(node, exp.ArgMin):
        return node
    first = sqlglot.parse_one("SELECT (ARRAY_AGG(x ORDER BY y))[1]", read="postgres")
    value = first.expressions[0]
    value.find(exp.Order).set("this", node.this.copy())
    value.find(exp.Ordered).set("this", node.expression.copy())
    return value


def _epoch_double(node: exp.Expression) -> exp.Expression:
    """``EXTRACT(EPOCH FROM ts)`` as DOUBLE PRECISION: PostgreSQL's is NUMERIC, and every
    mean of a wait would come back as an exact decimal where the engines give a float."""
    epoch = isinstance(node, exp.Extract) and node.name.upper() == "EPOCH"
    if epoch and not isinstance(node.parent, exp.Cast):
        return exp.cast(node.copy(), exp.DataType.build("DOUBLE"))
    return node


def _nulls_by_key(tree: exp.Expression) -> exp.Expression:
    """Each sort key whose NULLs DuckDB places other than BigQuery would, preceded by a key
    that places them: ``ORDER BY ts`` (NULLs last) → ``ORDER BY ts IS NULL, ts``.

    BigQuery has no ``NULLS FIRST`` / ``NULLS LAST`` in a window's ORDER BY; its default
    puts NULLs first ascending and last descending.
    """
    for order in list(tree.find_all(exp.Order)):
        keys: list[exp.Expression] = []
        for key in order.expressions:
            desc, first = bool(key.args.get("desc")), bool(key.args.get("nulls_first"))
            if isinstance(key, exp.Ordered) and first == desc:  # BigQuery would differ
                test = key.this.copy()
                placed = exp.Not(this=exp.Is(this=test, expression=exp.Null())) if first else None
                test = placed or exp.Is(this=test, expression=exp.Null())
                # A test is never NULL; nulls_first is BigQuery's default, so none is written.
                keys.append(exp.Ordered(this=test, nulls_first=True))
                key.set("nulls_first", not desc)
            keys.append(key)
        order.set("expressions", keys)
    return tree


def _each(*rewrites: Rewrite) -> Callable[[exp.Expression], exp.Expression]:
    def apply(tree: exp.Expression) -> exp.Expression:
        out = tree.copy()
        for rewrite in rewrites:
            out = out.transform(rewrite, copy=False)
        return out

    return apply


#: Each dialect's rewrites of a bound tree (a copy is rewritten).
REWRITES: dict[str, Callable[[exp.Expression], exp.Expression]] = {
    "spark": for_spark,
    "hive": for_spark,
    "postgres": _each(_first_by, _epoch_double),
    "bigquery": lambda tree: _nulls_by_key(tree.copy()),
}


def rendered(tree: exp.Expression, dialect: str, *, pretty: bool = False) -> str:
    """``tree`` (DuckDB's dialect) as SQL of ``dialect``, its rewrites applied.

    Anything sqlglot cannot express in ``dialect`` is an error, not a silent guess.
    """
    rewrite = REWRITES.get(dialect)
    out = rewrite(tree) if rewrite else tree
    return str(out.sql(dialect=dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE))
