"""Pinduoduo (拼多多) merchant chat records, JSON Lines → kefu's canonical messages.

Each line is one chat record as the merchant chat (mms.pinduoduo.com) pushes it::

    {"message": {"msg_id": "1747284413543", "ts": "1747284413", "type": 0,
                 "content": "在吗", "from": {"role": "user", "uid": "6840347447"},
                 "to": {"role": "mall_cs", "uid": "877317613", "mall_id": "877317613"}},
     "target": {"mall_id": "877317613"}}

or the bare ``message`` object. Mapping (docs/importers.md):

- ``from.role`` ``user`` → a buyer message, ``mall_cs`` → an agent message (``agent_id`` =
  ``from.uid``); the buyer is the ``user`` party's ``uid``. Any other role is quarantined.
- ``type`` 1002 (a recall, 撤回) is a ``system`` message: it never opens a round (R2).
  ``type`` 24 (a transfer, 转接) is a ``system`` message carrying the new agent — the
  ``mall_cs`` party's ``uid`` — in ``agent_id``; the buyer's next messages are addressed to
  that agent (P1). Every other type is a normal message (images and videos get a
  ``[图片]`` / ``[视频]`` label before their link).
- The records carry no flag for the shop's robot: a ``mall_cs`` message whose text starts
  with a bot marker (自动回复 …, ``--bot-marker``) is a ``bot`` message (R2); without a marker
  an auto-reply counts as an agent answer.
- ``ts``: epoch seconds, as text or as a number (milliseconds when 10¹¹ or more), written as
  a UTC instant (T1). ``msg_id`` is kept; ``seq`` is the record's place in the input (T3).
- The shop is the record's ``mall_id`` (in ``to`` / ``from``, ``message`` or ``target``),
  else ``--shop``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kefu.importers.common import (
    EXCLUDED,
    HANDOVER,
    ImportReport,
    Problem,
    address_buyer_messages,
    epoch_instant,
    read_text,
    write_import,
)
from kefu.importers.qianniu import ShopAccounts
from kefu.io.readers import InputError

RECALL, TRANSFER = 1002, 24
ROLES = {"user": "buyer", "mall_cs": "agent"}
LABELS = {1: "[图片]", 5: "[表情]", 14: "[视频]"}

REASONS = {
    "json": "not valid JSON",
    "object": "not a chat record: expected an object with 'message'",
    "type": "type is not a number",
    "time": "unparseable ts: expected epoch seconds",
    "role": "unknown role: expected user or mall_cs",
    "buyer": "no buyer: neither from nor to is a user with a uid",
    "shop": "no mall_id in the record and no --shop",
}


def _id(value: object) -> str | None:
    """An id as text: ``877317613`` and ``"877317613"`` alike; empty → ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    text = value.strip() if isinstance(value, str) else ""
    return text or None


def _party(message: dict[str, Any], key: str) -> dict[str, Any]:
    value = message.get(key)
    return value if isinstance(value, dict) else {}


def _type(value: object) -> int | None:
    """``type``: a number or digits as text; absent is 0 (text)."""
    if value is None or value == "":
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _mall(record: dict[str, Any], message: dict[str, Any]) -> str | None:
    """The shop: the first ``mall_id`` of to, from, the message, the record, its target."""
    places = (_party(message, "to"), _party(message, "from"), message, record,
              _party(record, "target"))  # fmt: skip
    return next((m for p in places if (m := _id(p.get("mall_id")))), None)


def _text(kind: int, message: dict[str, Any]) -> str:
    content = message.get("content")
    if content is None or isinstance(content, str):
        text = content or ""
    else:  # a card or an order: kept as its JSON
        text = json.dumps(content, ensure_ascii=False)
    label = LABELS.get(kind)
    return f"{label} {text}".strip() if label else text


class _Record:
    """One line of the input: where it is and what it holds."""

    def __init__(self, file: str, line: int, raw: dict[str, Any], message: dict[str, Any]):
        self.file, self.line, self.raw, self.message = file, line, raw, message

    def problem(self, field: str, reason: str, value: object, kind: str = "invalid") -> Problem:
        shown = None if value is None else str(value)
        return Problem(self.file, self.line, field, reason, shown, self.raw, kind)


def _row(rec: _Record, seq: int, accounts: ShopAccounts) -> dict[str, Any] | Problem:
    """The canonical message of one record, or why it has none."""
    message = rec.message
    kind = _type(message.get("type"))
    if kind is None:
        return rec.problem("type", REASONS["type"], message.get("type"))
    ts = epoch_instant(message.get("ts"))
    if ts is None:
        return rec.problem("ts", REASONS["time"], message.get("ts"))
    sender, to = _party(message, "from"), _party(message, "to")
    role = ROLES.get(str(sender.get("role") or ""))
    if role is None:
        return rec.problem("from.role", REASONS["role"], sender.get("role"))
    user, side = (sender, "from") if role == "buyer" else (to, "to")
    buyer = _id(user.get("uid")) if user.get("role") == "user" else None
    if buyer is None:
        return rec.problem(f"{side}.uid", REASONS["buyer"], user.get("uid"), EXCLUDED)
    shop = _mall(rec.raw, message) or accounts.shop
    if shop is None:
        return rec.problem("mall_id", REASONS["shop"], None, EXCLUDED)
    text = _text(kind, message)
    row: dict[str, Any] = {"shop_id": shop, "buyer_id": buyer, "agent_id": None, "sender": role,
                           "ts": ts, "text": text, "msg_id": _id(message.get("msg_id")),
                           "seq": seq}  # fmt: skip
    cs = sender if role == "agent" else to
    cs_uid = _id(cs.get("uid")) if cs.get("role") == "mall_cs" else None
    return _judged(row, kind, cs_uid, accounts.bot_markers)


def _judged(
    row: dict[str, Any], kind: int, cs_uid: str | None, markers: tuple[str, ...]
) -> dict[str, Any]:
    """The row's sender and agent by its type and role (R2, P1); ``cs_uid``: its mall_cs."""
    if kind in (RECALL, TRANSFER):
        row["sender"] = "system"  # R2: a recall or a transfer notice opens no round
        if kind == TRANSFER:
            row["agent_id"] = row[HANDOVER] = cs_uid
    elif row["sender"] == "agent":
        bot = any(m and row["text"].lstrip().startswith(m) for m in markers)
        row["sender"], row["agent_id"] = ("bot" if bot else "agent"), cs_uid
    elif cs_uid != row["shop_id"]:
        row["agent_id"] = cs_uid  # addressed to one agent, not to the shop as a whole
    return row


def _record(file: str, line: int, text: str) -> _Record | Problem:
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        reason = f"{REASONS['json']}: {getattr(exc, 'msg', 'nested too deeply')}"
        return Problem(file, line, "line", reason, text[:200], {"line": text[:2000]})
    message = value.get("message") if isinstance(value, dict) else None
    if isinstance(value, dict) and message is None and "from" in value:
        message = value  # the bare message object
    if not isinstance(message, dict):
        raw = value if isinstance(value, dict) else {"line": text[:2000]}
        return Problem(file, line, "message", REASONS["object"], text[:200], raw)
    return _Record(file, line, value, message)


def import_pdd(
    files: list[Path],
    out: Path,
    accounts: ShopAccounts | None = None,
    on_step: Callable[[str], None] | None = None,
) -> ImportReport:
    """Import Pinduoduo chat JSON Lines into ``out`` (canonical Parquet + quarantine.csv).

    ``accounts`` gives the bot markers and, as ``shop``, the shop of records without a
    ``mall_id``.

    >>> import_pdd([Path("pdd-chat.jsonl")], Path("kefu-import"))  # doctest: +SKIP
    """
    step = on_step or (lambda _: None)
    given = accounts or ShopAccounts()
    if not files:
        raise InputError("pdd: no input files")
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    read = 0
    for path in files:
        step(f"reading {path}")
        for n, line in enumerate(read_text(path).split("\n"), start=1):
            if not line.strip():
                continue  # blank lines hold no record and are not counted
            read += 1
            found = _record(str(path), n, line.strip())
            item = found if isinstance(found, Problem) else _row(found, read, given)
            if isinstance(item, Problem):
                problems.append(item)
            else:
                rows.append(item)
    address_buyer_messages(rows)
    agents: dict[tuple[str, str], str | None] = {
        (r["shop_id"], r["agent_id"]): None
        for r in rows
        if r["sender"] == "agent" and r["agent_id"]
    }
    step("writing")
    return write_import(out, "pdd", "records", read, rows, problems, tz="UTC", agents=agents)
