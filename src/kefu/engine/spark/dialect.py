"""What sqlglot's Spark rendering of kefu's templates still needs before Spark runs it.

Each rewrite works on the bound tree, so the templates stay one text for every engine.
"""

from __future__ import annotations

from sqlglot import exp


def _epoch_seconds(node: exp.Expression) -> exp.Expression:
    """``EXTRACT(EPOCH FROM ts)`` → ``unix_micros(ts) / 1e6``: seconds with the fraction.

    Spark's ``EXTRACT`` has no ``EPOCH`` field and ``unix_timestamp`` drops the fraction;
    a wait is measured to the millisecond (R6).
    """
    if isinstance(node, exp.Extract) and node.name.upper() == "EPOCH":
        micros = exp.Anonymous(this="unix_micros", expressions=[node.expression.copy()])
        # A DOUBLE: Spark reads ``1000000.0`` as a DECIMAL, and the wait would be one.
        million = exp.cast(exp.Literal.number(1_000_000), exp.DataType.build("DOUBLE"))
        return exp.Div(this=micros, expression=million)
    return node


def _grouping_bits(node: exp.Expression) -> exp.Expression:
    """``GROUPING(a, b, …)`` → ``grouping_id(a, b, …)``: Spark's takes one column only.

    Both give the same bits: the first column is the highest, a bit is set where the
    column is not grouped.
    """
    if isinstance(node, exp.Grouping) and len(node.expressions) > 1:
        return exp.Anonymous(this="grouping_id", expressions=[e.copy() for e in node.expressions])
    return node


REWRITES = (_epoch_seconds, _grouping_bits)


def for_spark(tree: exp.Expression) -> exp.Expression:
    """``tree`` with every rewrite applied (on a copy)."""
    out = tree.copy()
    for rewrite in REWRITES:
        out = out.transform(rewrite, copy=False)
    return out
