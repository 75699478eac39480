"""Customer Support on Twitter (twcs.csv) → kefu's canonical messages.

The data set (Kaggle "Customer Support on Twitter", 2017) holds tweets between customers
and brands' support accounts: ``tweet_id, author_id, inbound, created_at, text,
response_tweet_id, in_response_to_tweet_id``. kefu reads it as a marketplace chat log:

- a brand is a shop (``shop_id = author_id`` of its tweets); a customer is a buyer; a
  customer's tweets to one brand and that brand's replies to them form one stream (R1);
- a brand tweet (``inbound = False``) is an agent message. Its buyer is the author of the
  tweet it replies to when that is a customer tweet in the file, otherwise the first
  @-mentioned handle that is not a brand. Its agent is the sign-off (``^JK``, ``-Becky``,
  ``*HFG``, ``~AT``, ``/LS`` at the end of the text) or, without one, the brand;
- a customer tweet (``inbound = True``) is a buyer message. Its shop is, first that
  applies: the brand whose reply to it comes first; the brand whose tweet it replies to;
  the brand of the customer's own tweet it continues (a thread of one's own tweets); the
  first @-mentioned brand. Brands are the authors of ``inbound = False`` tweets.

Records that cannot be placed are quarantined with the reason, never dropped: unreadable
values (kind ``invalid``), repeated tweet ids (``duplicate``), and (``excluded``) a
customer tweet with no brand, a reply to another customer's tweet that no brand answered
and that mentions none, a brand tweet to no customer (a broadcast), and a customer tweet
whose thread is cut at the file's edge (a reply to it is not in the file and no brand reply
is, so whether and when the brand answered cannot be known).

A brand reply whose ``in_response_to`` tweet is not in the file stays an agent message in
the stream of the customer it @-mentions; it opens no round (R4: only a buyer message opens
one), and the round it answered, outside the file, is not seen. Times are UTC
(``+0000``) and are written as ``TIMESTAMP WITH TIME ZONE`` (T1); ``seq`` is the record's
place in the input (T3). docs/importers.md has the full mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from kefu.engine.duckdb import DuckDBEngine
from kefu.importers.common import (
    AGENTS_SCHEMA,
    DUPLICATE,
    EXCLUDED,
    INVALID,
    SHOPS_SCHEMA,
    ImportReport,
    message_schema,
    prepare_out,
    reason_counts,
    write_parquet,
    write_quarantine,
)
from kefu.io.csvtext import EXTRA, csv_header, csv_source, has_extra
from kefu.io.errors import engine_message
from kefu.io.load import QUARANTINE_SCHEMA
from kefu.io.readers import InputError, unique_headers
from kefu.io.text import readable_text
from kefu.metrics.params import sql_str

COLUMNS = (
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
)
CREATED_AT = "%a %b %d %H:%M:%S %z %Y"

#: An agent sign-off at the end of a brand tweet (trailing links removed first): ``^JK``,
#: ``*HFG``, or ``-Becky`` / ``–XG`` / ``~AT`` / ``/LS`` after a space or a non-letter.
SIGN_OFF = r"(\^|\*|(?:^|[^0-9A-Za-z])[-–—~/])([A-Za-z]{1,20})\.?\s*$"
TRAILING_LINKS = r"(\s*https?://\S+)+\s*$"
MENTION = r"@(\w+)"

REASONS = {
    "missing": "missing",
    "inbound": "inbound is not True or False",
    "time": "unparseable time",
    "duplicate": "repeated tweet_id: the first row is kept",
    "c2c": "customer-to-customer: a reply to another customer's tweet that no brand "
    "answered and that mentions no brand",
    "no_brand": "no brand: not a reply to a brand, answered by no brand, mentions no brand",
    "cut": "thread cut at the file's edge: a reply to it is not in the file and no brand "
    "reply is, so whether and when the brand answered cannot be known",
    "broadcast": "brand tweet to no customer: not a reply to a customer's tweet in the "
    "file and mentions no customer (a broadcast)",
    "extra": f"row has more fields than the header's {len(COLUMNS)}",
}


def _newlines(col: str) -> str:
    return f"COALESCE(length({col}) - length(replace({col}, chr(10), '')), 0)"


def _stage_file(engine: DuckDBEngine, path: Path, file_no: int, offset: int) -> int:
    """Append one file's records to ``twcs_raw``; return how many it holds.

    ``rec`` is the record's place across all inputs (T3's input order); ``line`` the line
    of the file it starts on, the header being line 1 (a quoted tweet may span lines).
    """
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    # Bare CRs sit inside tweets (tweet 3399 of the sample holds two): read through the
    # shared stand-in copy; a cut or over-long row is padded, not a refusal of the file.
    try:
        with readable_text(path) as text:
            header = unique_headers(csv_header(text.path))
            if not header:
                raise InputError(f"{path}: empty file, not a twcs file")
            source = csv_source(str(text.path), header, tsv=False)
            engine.materialize(
                "twcs_in",
                f"SELECT * EXCLUDE ({', '.join(EXTRA)}), {has_extra()} AS extra_fields "
                f"FROM {source}",
            )
    except duckdb.Error as exc:
        raise InputError(f"{path}: cannot read as CSV: {engine_message(exc)}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    stand_in = text.stand_in
    headers = [c for c, _ in engine.columns("twcs_in") if c != "extra_fields"]
    missing = [c for c in COLUMNS if c not in headers]
    if missing:
        raise InputError(
            f"{path}: no column {', '.join(missing)}: not a twcs file "
            f"(headers: {', '.join(headers)})"
        )
    restore = {c: f"replace({c}, {sql_str(stand_in)}, chr(13))" if stand_in else c for c in COLUMNS}
    newlines = " + ".join(_newlines(c) for c in COLUMNS)
    engine.execute(f"""
        INSERT INTO twcs_raw
        SELECT {file_no} AS file_no, {offset} + n AS rec,
               2 + COALESCE(SUM(1 + nl) OVER (ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING
                                              AND 1 PRECEDING), 0) AS line,
               {", ".join(f"{restore[c]} AS {c}" for c in COLUMNS)}, extra_fields
        FROM (SELECT *, rowid + 1 AS n, {newlines} AS nl FROM twcs_in) AS r
    """)
    count = int(engine.scalar("SELECT COUNT(*) FROM twcs_in"))
    engine.drop("twcs_in")
    return count


def _id(col: str) -> str:
    """An id as text; ``3.0`` (the original file's float ids) becomes ``3``."""
    return f"regexp_replace(NULLIF(trim({col}), ''), '\\.0$', '')"


def _parse(engine: DuckDBEngine) -> None:
    """``twcs``: typed values and the first problem of each record (T1: UTC times)."""
    replies = (
        "list_filter(list_transform(string_split(COALESCE(response_tweet_id, ''), ','), "
        f"lambda x: {_id('x')}), lambda x: x IS NOT NULL)"
    )
    engine.materialize(
        "twcs_typed",
        f"""
        SELECT file_no, rec, line, extra_fields, {_id("tweet_id")} AS tweet_id,
               NULLIF(trim(author_id), '') AS author_id,
               CASE lower(trim(inbound)) WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END
                 AS is_inbound,
               try_strptime(trim(created_at), {sql_str(CREATED_AT)}) AS ts,
               text, {_id("in_response_to_tweet_id")} AS parent_id, {replies} AS reply_ids
        FROM twcs_raw
        """,
    )
    checks = [
        # Fields beyond the header's: an unquoted comma, every later value misplaced.
        ("extra_fields", f"'field {len(COLUMNS) + 1}'", "extra", INVALID),
        ("tweet_id IS NULL", "'tweet_id'", "missing", INVALID),
        ("author_id IS NULL", "'author_id'", "missing", INVALID),
        ("is_inbound IS NULL", "'inbound'", "inbound", INVALID),
        ("ts IS NULL", "'created_at'", "time", INVALID),
    ]
    problem = " ".join(f"WHEN {c} THEN {sql_str(REASONS[r])}" for c, _, r, _ in checks)
    field = " ".join(f"WHEN {c} THEN {f}" for c, f, _, _ in checks)
    engine.materialize(
        "twcs_checked",
        f"""
        SELECT *, CASE {problem} END AS reason, CASE {field} END AS field,
               CASE WHEN {" OR ".join(c for c, *_ in checks)} THEN {sql_str(INVALID)} END AS kind
        FROM twcs_typed
        """,
    )
    # A repeated tweet_id keeps its first readable copy; the rest are duplicates.
    engine.execute(f"""
        UPDATE twcs_checked AS t
        SET reason = {sql_str(REASONS["duplicate"])}, field = 'tweet_id',
            kind = {sql_str(DUPLICATE)}
        FROM (SELECT rec, ROW_NUMBER() OVER (PARTITION BY tweet_id ORDER BY rec) AS copy
              FROM twcs_checked WHERE reason IS NULL) AS d
        WHERE d.copy > 1 AND t.rec = d.rec
    """)
    engine.materialize("twcs_ok", "SELECT * FROM twcs_checked WHERE reason IS NULL")


def _links(engine: DuckDBEngine) -> None:
    """Brands, @-mentions, first brand replies and replies missing from the file."""
    engine.materialize(
        "twcs_brands", "SELECT DISTINCT author_id AS brand FROM twcs_ok WHERE NOT is_inbound"
    )
    engine.materialize(
        "twcs_mentions",
        f"""
        SELECT m.rec, m.pos, m.handle, b.brand
        FROM (SELECT rec, unnest(h) AS handle, unnest(range(1, len(h) + 1)) AS pos
              FROM (SELECT rec, regexp_extract_all(text, {sql_str(MENTION)}, 1) AS h
                    FROM twcs_ok) AS x) AS m
        LEFT JOIN twcs_brands AS b ON lower(b.brand) = lower(m.handle)
        """,
    )
    engine.materialize(
        "twcs_first_mention",
        """
        SELECT rec, arg_min(brand, pos) FILTER (WHERE brand IS NOT NULL) AS brand,
               arg_min(handle, pos) FILTER (WHERE brand IS NULL) AS customer
        FROM twcs_mentions GROUP BY rec
        """,
    )
    engine.materialize(
        "twcs_brand_reply",
        """
        SELECT parent_id, arg_min(author_id, {'ts': ts, 'rec': rec}) AS brand
        FROM twcs_ok WHERE NOT is_inbound AND parent_id IS NOT NULL GROUP BY parent_id
        """,
    )
    engine.materialize(
        "twcs_cut",
        """
        SELECT r.rec FROM (SELECT rec, unnest(reply_ids) AS rid FROM twcs_ok) AS r
        LEFT JOIN twcs_ok AS k ON k.tweet_id = r.rid
        GROUP BY r.rec HAVING bool_or(k.tweet_id IS NULL)
        """,
    )


def _customer_shops(engine: DuckDBEngine) -> None:
    """``twcs_customer``: the brand each customer tweet addresses (first rule that applies).

    A tweet that continues the customer's own tweet takes that tweet's brand, found by
    walking up the thread (a recursive query; threads are short).
    """
    engine.materialize(
        "twcs_cust",
        """
        SELECT c.rec, c.tweet_id, c.parent_id, a.brand AS replied_by,
               CASE WHEN NOT p.is_inbound THEN p.author_id END AS reply_to_brand,
               COALESCE(p.is_inbound AND p.author_id = c.author_id, FALSE) AS continues_own,
               COALESCE(p.is_inbound AND p.author_id <> c.author_id, FALSE) AS to_customer,
               m.brand AS mentioned
        FROM twcs_ok AS c
        LEFT JOIN twcs_ok AS p ON p.tweet_id = c.parent_id
        LEFT JOIN twcs_brand_reply AS a ON a.parent_id = c.tweet_id
        LEFT JOIN twcs_first_mention AS m ON m.rec = c.rec
        WHERE c.is_inbound
        """,
    )
    inherits = "{0}replied_by IS NULL AND {0}reply_to_brand IS NULL AND {0}continues_own"
    engine.materialize(
        "twcs_customer",
        f"""
        WITH RECURSIVE resolved(tweet_id, brand) AS (
          SELECT tweet_id, COALESCE(replied_by, reply_to_brand, mentioned)
          FROM twcs_cust WHERE NOT ({inherits.format("")})
          UNION
          SELECT k.tweet_id, COALESCE(r.brand, k.mentioned)
          FROM twcs_cust AS k JOIN resolved AS r ON k.parent_id = r.tweet_id
          WHERE {inherits.format("k.")}
        )
        SELECT c.*, r.brand, (x.rec IS NOT NULL) AS cut
        FROM twcs_cust AS c
        LEFT JOIN (SELECT tweet_id, MIN(brand) AS brand FROM resolved GROUP BY tweet_id) AS r
          ON r.tweet_id = c.tweet_id
        LEFT JOIN twcs_cut AS x ON x.rec = c.rec
        """,
    )


def _place(engine: DuckDBEngine) -> None:
    """``twcs_placed``: every readable tweet with its stream, or the reason it has none."""
    customer_reason = f"""
        CASE WHEN u.brand IS NULL AND u.to_customer THEN {sql_str(REASONS["c2c"])}
             WHEN u.brand IS NULL THEN {sql_str(REASONS["no_brand"])}
             WHEN u.replied_by IS NULL AND u.cut THEN {sql_str(REASONS["cut"])} END
    """
    customer_field = """
        CASE WHEN u.brand IS NULL AND u.to_customer THEN 'in_response_to_tweet_id'
             WHEN u.brand IS NULL THEN 'text' ELSE 'response_tweet_id' END
    """
    engine.materialize(
        "twcs_placed",
        f"""
        SELECT t.*,
               CASE WHEN t.is_inbound THEN u.brand ELSE t.author_id END AS shop_id,
               CASE WHEN t.is_inbound THEN t.author_id
                    WHEN p.is_inbound THEN p.author_id ELSE m.customer END AS buyer_id,
               CASE WHEN t.is_inbound THEN 'buyer' ELSE 'agent' END AS sender,
               CASE WHEN t.is_inbound THEN NULL
                    ELSE COALESCE(s.sign_off[2:], t.author_id) END AS agent_id,
               CASE WHEN t.is_inbound THEN NULL
                    ELSE COALESCE(s.sign_off, t.author_id) END AS agent_name,
               CASE WHEN t.is_inbound THEN {customer_reason}
                    WHEN NOT COALESCE(p.is_inbound, FALSE) AND m.customer IS NULL
                    THEN {sql_str(REASONS["broadcast"])} END AS excluded,
               CASE WHEN t.is_inbound THEN {customer_field} ELSE 'text' END AS excluded_field
        FROM twcs_ok AS t
        LEFT JOIN twcs_ok AS p ON p.tweet_id = t.parent_id
        LEFT JOIN twcs_customer AS u ON u.rec = t.rec
        LEFT JOIN twcs_first_mention AS m ON m.rec = t.rec
        LEFT JOIN ({_sign_offs()}) AS s ON s.rec = t.rec
        """,
    )


def _sign_offs() -> str:
    """SQL: ``rec, sign_off`` of brand tweets that end in one (``^JK``, ``-Becky`` …)."""
    bare = f"regexp_replace(text, {sql_str(TRAILING_LINKS)}, '')"
    marker = f"regexp_extract({bare}, {sql_str(SIGN_OFF)}, 1)"
    name = f"regexp_extract({bare}, {sql_str(SIGN_OFF)}, 2)"
    return f"""
        SELECT rec, right({marker}, 1) || {name} AS sign_off
        FROM twcs_ok WHERE NOT is_inbound AND {name} <> ''
    """


def _quarantine_sql(files: list[str]) -> str:
    names = "CASE q.file_no " + " ".join(f"WHEN {i} THEN {sql_str(f)}" for i, f in enumerate(files))
    record = "to_json({" + ", ".join(f"'{c}': r.{c}" for c in COLUMNS) + "})"
    return f"""
        SELECT 'messages' AS "table", q.kind, {names} END AS file, q.line AS "row", q.field,
               q.reason,
               CASE q.field {" ".join(f"WHEN '{c}' THEN r.{c}" for c in COLUMNS)} END AS value,
               CAST({record} AS VARCHAR) AS record
        FROM (SELECT file_no, rec, line, kind, field, reason FROM twcs_checked
              WHERE reason IS NOT NULL
              UNION ALL
              SELECT file_no, rec, line, {sql_str(EXCLUDED)}, excluded_field, excluded
              FROM twcs_placed WHERE excluded IS NOT NULL) AS q
        JOIN twcs_raw AS r ON r.rec = q.rec
        ORDER BY q.rec
    """


MESSAGES_SQL = """
    SELECT shop_id, buyer_id, agent_id, sender, ts, text, tweet_id AS msg_id, rec AS seq
    FROM twcs_placed WHERE excluded IS NULL ORDER BY rec
"""
AGENTS_SQL = """
    SELECT agent_id, shop_id, MIN(agent_name) AS name, CAST(NULL AS VARCHAR) AS agent_group
    FROM twcs_placed WHERE excluded IS NULL AND sender = 'agent'
    GROUP BY shop_id, agent_id ORDER BY shop_id, agent_id
"""


def _batches(engine: DuckDBEngine, sql: str) -> Iterator[pa.RecordBatch]:
    relation = engine.con.sql(sql)
    reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
    yield from reader(100_000)


def import_twcs(
    files: list[Path], out: Path, on_step: Callable[[str], None] | None = None
) -> ImportReport:
    """Import twcs CSV files into ``out`` (canonical Parquet + quarantine.csv).

    >>> import_twcs([Path("twcs_head5000.csv")], Path("kefu-import"))  # doctest: +SKIP
    """
    step = on_step or (lambda _: None)
    if not files:
        raise InputError("twcs: no input files")
    engine = DuckDBEngine()
    try:
        engine.materialize(
            "twcs_raw",
            "SELECT CAST(0 AS INTEGER) AS file_no, CAST(0 AS BIGINT) AS rec, "
            "CAST(0 AS BIGINT) AS line, "
            + ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in COLUMNS)
            + ", FALSE AS extra_fields WHERE FALSE",
        )
        read = 0
        for file_no, path in enumerate(files):
            step(f"reading {path}")
            read += _stage_file(engine, path, file_no, read)
        step("placing tweets in streams")
        _parse(engine)
        _links(engine)
        _customer_shops(engine)
        _place(engine)
        step("writing")
        prepare_out(out)
        return _write(engine, out, [str(f) for f in files], read)
    finally:
        engine.close()


def _write(engine: DuckDBEngine, out: Path, files: list[str], read: int) -> ImportReport:
    accepted = write_parquet(
        out / "messages.parquet", _batches(engine, MESSAGES_SQL), message_schema("UTC")
    )
    write_parquet(out / "agents.parquet", engine.query(AGENTS_SQL), AGENTS_SCHEMA)
    shops = engine.query("SELECT brand AS shop_id FROM twcs_brands ORDER BY brand")
    write_parquet(out / "shops.parquet", shops, SHOPS_SCHEMA)
    quarantine = engine.query(_quarantine_sql(files)).cast(QUARANTINE_SCHEMA)
    written = [out / n for n in ("messages.parquet", "agents.parquet", "shops.parquet")]
    written.append(write_quarantine(out, quarantine))
    return ImportReport(
        fmt="twcs",
        unit="tweets",
        read=read,
        accepted=accepted,
        quarantined=quarantine.num_rows,
        messages=accepted,
        written=written,
        reasons=reason_counts(quarantine),
    )
