"""WeChat customer service (微信客服) ``kf/sync_msg`` responses → kefu's canonical messages.

A file holds one ``sync_msg`` response, a list of them, several one after another, or one
per line (JSON Lines)::

    {"errcode": 0, "errmsg": "ok", "next_cursor": "4gw7Mep", "has_more": 0,
     "msg_list": [{"msgid": "from_msgid_4622416642169452483", "open_kfid": "wkAJ2GCAAA",
                   "external_userid": "wmAJ2GCAAAme1XQ", "send_time": 1709600000,
                   "origin": 3, "msgtype": "text", "text": {"content": "你好"}}]}

Mapping (docs/importers.md):

- ``open_kfid`` (the customer-service account) → ``shop_id``; ``external_userid`` (the
  WeChat customer) → ``buyer_id``. Events name both inside ``event``.
- ``origin`` 3 (the customer) → ``buyer``; 5 (a servicer, 接待人员) → ``agent`` with
  ``agent_id`` = ``servicer_userid``, or ``bot`` when the text starts with a bot marker
  (``--bot-marker``); 4 (a system event) → ``system`` (R2). Any other origin is
  quarantined. ``sync_msg`` does not return messages sent through the API, so the
  intelligent assistant's (智能助手) replies are not in the file at all.
- An ``event`` of type ``session_status_change`` is a transfer: a ``system`` message
  carrying ``new_servicer_userid`` in ``agent_id`` (``change_type`` 1 taken from the queue,
  2 transferred; 3 ended: to nobody). The customer's next messages are addressed to that
  servicer, or else to the servicer who wrote last (P1). Events naming no customer (an
  agent's status change) are quarantined as ``excluded``.
- ``send_time``: epoch seconds (a number or text) → a UTC instant (T1); ``msgid`` →
  ``msg_id``; ``seq`` is the message's place in the input (T3).
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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

ORIGINS = {3: "buyer", 4: "system", 5: "agent"}
TRANSFER = "session_status_change"
#: What a message that is not text shows as ``text``: a label and the field worth keeping.
LABELS = {
    "image": ("[图片]", ()),
    "voice": ("[语音]", ()),
    "video": ("[视频]", ()),
    "file": ("[文件]", ()),
    "location": ("[位置]", ("name", "address")),
    "link": ("[链接]", ("title", "url")),
    "business_card": ("[名片]", ("userid",)),
    "miniprogram": ("[小程序]", ("title",)),
    "msgmenu": ("[菜单]", ("head_content",)),
}
CHANGES = {1: "接入会话", 2: "转接会话", 3: "结束会话"}

REASONS = {
    "json": "not valid JSON",
    "response": "not a sync_msg response: no msg_list",
    "error": "an error response, no messages",
    "message": "not a message object",
    "time": "unparseable send_time: expected epoch seconds",
    "origin": "unknown origin: expected 3 (customer), 4 (system event) or 5 (servicer)",
    "kfid": "no open_kfid: the message names no customer-service account",
    "user": "no external_userid: the message names no customer (an agent's event)",
}
_WS = re.compile(r"\s*")


class _Located(json.JSONDecoder):
    """A JSON decoder that remembers where each object starts, to name a record's line."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.starts: dict[int, int] = {}
        self._newlines = [m.start() for m in re.finditer("\n", text)]

        def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
            obj, end = json.decoder.JSONObject(s_and_end, *args)  # type: ignore[attr-defined]
            self.starts[id(obj)] = s_and_end[1] - 1
            return obj, end

        self.parse_object = parse_object
        # The pure-Python scanner calls parse_object; the C one does not.
        self.scan_once = json.scanner.py_make_scanner(self)  # type: ignore[attr-defined]

    def line_at(self, offset: int) -> int:
        """The line (1-based) of a character offset."""
        return bisect.bisect_left(self._newlines, offset) + 1

    def line(self, value: object, default: int) -> int:
        """The line the object ``value`` starts on, else ``default`` (not an object)."""
        at = self.starts.get(id(value))
        return default if at is None else self.line_at(at)

    def values(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, Any]]:
        """(offset, value) of the JSON values one after another in ``text[start:end]``."""
        stop = len(self.text) if end is None else end
        at = _WS.match(self.text, start).end()  # type: ignore[union-attr]
        while at < stop:
            value, after = self.raw_decode(self.text, at)
            if after > stop:
                raise json.JSONDecodeError("value runs past the line", self.text, at)
            yield at, value
            at = _WS.match(self.text, after).end()  # type: ignore[union-attr]


@dataclass
class _Found:
    """What a file holds: messages with their lines, and records that are none."""

    messages: list[tuple[int, Any]]
    problems: list[Problem]


def _responses(doc: _Located, path: str, at: int, value: Any, found: _Found) -> None:
    """The messages of one response (or a list of them); other values are problems."""
    line = doc.line(value, doc.line_at(at))
    if isinstance(value, list):
        for item in value:
            _responses(doc, path, at, item, found)
        return
    msg_list = value.get("msg_list") if isinstance(value, dict) else None
    if isinstance(msg_list, list):
        found.messages += [(doc.line(m, line), m) for m in msg_list]
        return
    record = value if isinstance(value, dict) else {"value": value}
    error = isinstance(value, dict) and value.get("errcode") not in (None, 0, "0")
    reason = REASONS["error"] if error else REASONS["response"]
    shown = f"errcode {value.get('errcode')}: {value.get('errmsg')}" if error else None
    found.problems.append(Problem(path, line, "msg_list", reason, shown, record))


def _read(path: Path) -> _Found:
    """Every message of a file, with its line; an unreadable line of JSON Lines is a problem."""
    doc = _Located(read_text(path))
    found = _Found([], [])
    try:
        values = list(doc.values())
    except (json.JSONDecodeError, RecursionError) as exc:
        if not _is_json_lines(doc):
            line, col = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
            msg = getattr(exc, "msg", "nested too deeply")
            raise InputError(f"{path}: not valid JSON: {msg} (line {line}, column {col})") from None
        return _read_lines(doc, str(path))
    for at, value in values:
        _responses(doc, str(path), at, value, found)
    return found


def _line_spans(text: str) -> Iterator[tuple[int, int, int]]:
    """(line number, start, end) of each non-blank line."""
    start = 0
    for n, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            yield n, start, start + len(line)
        start += len(line) + 1


def _is_json_lines(doc: _Located) -> bool:
    """A file of one response per line: some line alone is a whole response object."""
    for _, start, end in _line_spans(doc.text):
        try:
            ((_, value),) = doc.values(start, end)
        except (json.JSONDecodeError, RecursionError, ValueError):
            continue
        if isinstance(value, dict) and "msg_list" in value:
            return True
    return False


def _read_lines(doc: _Located, path: str) -> _Found:
    found = _Found([], [])
    for n, start, end in _line_spans(doc.text):
        try:
            for at, value in doc.values(start, end):
                _responses(doc, path, at, value, found)
        except (json.JSONDecodeError, RecursionError) as exc:
            raw = doc.text[start:end].strip()
            reason = f"{REASONS['json']}: {getattr(exc, 'msg', 'nested too deeply')}"
            found.problems.append(Problem(path, n, "line", reason, raw[:200], {"line": raw}))
    return found


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _id(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _origin(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


def _event_text(event: dict[str, Any]) -> str:
    kind = str(event.get("event_type") or "")
    if kind != TRANSFER:
        return f"[事件] {kind}".strip()
    change = CHANGES.get(_origin(event.get("change_type")) or 0, "会话状态变更")
    old, new = _id(event.get("old_servicer_userid")), _id(event.get("new_servicer_userid"))
    return " ".join(["[事件]", change, *([old] if old else []), "→", new or "—"])


def _text(message: dict[str, Any]) -> str:
    kind = str(message.get("msgtype") or "")
    body = _dict(message.get(kind))
    if kind == "text":
        return str(body.get("content") or "")
    if kind == "event":
        return _event_text(body)
    label, keep = LABELS.get(kind, (f"[{kind}]", ()))
    return " ".join([label, *(str(body[k]) for k in keep if body.get(k))])


def _row(
    path: str, line: int, seq: int, item: Any, markers: tuple[str, ...]
) -> dict[str, Any] | Problem:
    """The canonical message of one ``msg_list`` item, or the ``Problem`` it is."""
    if not isinstance(item, dict):
        return Problem(path, line, "msg_list", REASONS["message"], str(item)[:200], {"item": item})

    def problem(field: str, reason: str, kind: str = "invalid") -> Problem:
        value = item.get(field)
        return Problem(path, line, field, reason, None if value is None else str(value), item, kind)

    ts = epoch_instant(item.get("send_time"))
    if ts is None:
        return problem("send_time", REASONS["time"])
    sender = ORIGINS.get(_origin(item.get("origin")) or 0)
    if sender is None:
        return problem("origin", REASONS["origin"])
    event = _dict(item.get("event"))
    shop = _id(item.get("open_kfid")) or _id(event.get("open_kfid"))
    buyer = _id(item.get("external_userid")) or _id(event.get("external_userid"))
    if shop is None:
        return problem("open_kfid", REASONS["kfid"], EXCLUDED)
    if buyer is None:
        return problem("external_userid", REASONS["user"], EXCLUDED)
    text = _text(item)
    row = {"shop_id": shop, "buyer_id": buyer, "agent_id": _id(item.get("servicer_userid")),
           "sender": sender, "ts": ts, "text": text, "msg_id": _id(item.get("msgid")),
           "seq": seq}  # fmt: skip
    if sender == "agent" and any(m and text.lstrip().startswith(m) for m in markers):
        row["sender"] = "bot"  # R2: an auto-reply never answers a round
    if event.get("event_type") == TRANSFER:
        row["agent_id"] = row[HANDOVER] = _id(event.get("new_servicer_userid"))
    return row


def import_wechat_kf(
    files: list[Path],
    out: Path,
    accounts: ShopAccounts | None = None,
    on_step: Callable[[str], None] | None = None,
) -> ImportReport:
    """Import WeChat customer-service ``sync_msg`` responses into ``out``.

    ``accounts`` gives the bot markers (``--bot-marker``).

    >>> import_wechat_kf([Path("sync_msg.json")], Path("kefu-import"))  # doctest: +SKIP
    """
    step = on_step or (lambda _: None)
    markers = (accounts or ShopAccounts()).bot_markers
    if not files:
        raise InputError("wechat-kf: no input files")
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    read = 0
    for path in files:
        step(f"reading {path}")
        found = _read(path)
        for line, item in found.messages:
            read += 1  # seq: the message's place in the input (T3)
            row = _row(str(path), line, read, item, markers)
            if isinstance(row, Problem):
                problems.append(row)
            else:
                rows.append(row)
        read += len(found.problems)
        problems += found.problems
    address_buyer_messages(rows)
    agents: dict[tuple[str, str], str | None] = {
        (r["shop_id"], r["agent_id"]): None
        for r in rows
        if r["sender"] == "agent" and r["agent_id"]
    }
    step("writing")
    return write_import(out, "wechat-kf", "records", read, rows, problems, tz="UTC", agents=agents)
