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


def _unicode_chr(node: exp.Expression) -> exp.Expression:
    """``chr(12288)`` → ``decode(unhex('E38080'), 'UTF-8')``: the character of a code point.

    Spark's ``chr`` takes the code modulo 256, so the ideographic space and the byte-order
    mark the loader trims from ids would be ``chr(0)`` and ``chr(255)`` there.
    """
    if isinstance(node, exp.Chr) and len(node.expressions) == 1:
        code = node.expressions[0]
        if isinstance(code, exp.Literal) and code.is_int:
            utf8 = chr(int(code.name)).encode("utf-8").hex().upper()
            raw = exp.Anonymous(this="unhex", expressions=[exp.Literal.string(utf8)])
            return exp.Anonymous(this="decode", expressions=[raw, exp.Literal.string("UTF-8")])
    return node


def _local_time(node: exp.Expression) -> exp.Expression:
    """DuckDB's ``timezone(zone, instant)`` → ``from_utc_timestamp(instant, zone)`` as NTZ.

    The loader turns an instant (a Parquet timestamp adjusted to UTC) into the profile's
    local wall-clock time (T1); the session is pinned to UTC, so the cast converts nothing.
    """
    if isinstance(node, exp.Anonymous) and node.name.lower() == "timezone":
        zone, instant = (e.copy() for e in node.expressions)
        local = exp.Anonymous(this="from_utc_timestamp", expressions=[instant, zone])
        return exp.cast(local, exp.DataType.build("TIMESTAMP_NTZ", dialect="spark"))
    return node


REWRITES = (_epoch_seconds, _grouping_bits, _unicode_chr, _local_time)


def for_spark(tree: exp.Expression) -> exp.Expression:
    """``tree`` with every rewrite applied (on a copy)."""
    out = tree.copy()
    for rewrite in REWRITES:
        out = out.transform(rewrite, copy=False)
    return out
