"""Qianniu (千牛) chat-record exports → kefu's canonical messages.

Two forms are read (docs/importers.md shows both with example files):

- ``qianniu-json``: the per-buyer JSON that browser export scripts write,
  ``{"user", "exportTime", "count", "chats": [{"date", "time", "sender", "text",
  "imgUrl"}]}``, one object per file or a list of them; files, the exporter's ZIP of them
  or folders (``qianniu_sources``). ``user`` is the buyer; ``今天`` / ``昨天`` days are
  resolved against ``exportTime``.
- ``qianniu-xlsx``: a sheet with the columns 客户ID (the buyer) and 聊天记录. A cell holds
  either the exporter's block form (a time alone on a line — ``10:01:15``, its day from
  ``--date`` or the file name — then ``name: text``, messages between blank lines) or
  lines ``time sender: content``; the form is told per cell. A line that is neither
  continues the message above it (a multi-line message).

A message without a sender (会话已转交给…, a notice) is a ``system`` message (R2); a
transfer carries its target agent, to whom the buyer's next messages are addressed (P1);
a recall notice (撤回了一条消息) is ``system`` whoever sent it, so it never opens a round.

Who sent a message is told by the shop's own accounts (``ShopAccounts``): the buyer is the
``user`` / 客户ID; a sender that is the shop's main account, or one of its sub-accounts
written ``shop:name``, is the shop's; a site prefix such as ``cntaobao`` is removed before
names are compared. A shop message whose text starts with a bot marker (自动回复,
[自动回复], a welcome message's text) or whose sender carries one is a bot message (rule R2:
it never answers a round); a platform notice (sender 系统) is a system message. Every other
sender is quarantined, so a stranger is never counted as the buyer or the shop.

Times are local and naive (T1: taken in the profile's zone). The shop's accounts are
written to ``accounts.parquet`` so that a chat between two of them is left out (R3).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from kefu.importers.common import (
    ACCOUNTS_SCHEMA,
    AGENTS_SCHEMA,
    EXCLUDED,
    HANDOVER,
    INVALID,
    ImportReport,
    Problem,
    address_buyer_messages,
    message_schema,
    prepare_out,
    quarantine_table,
    reason_counts,
    write_parquet,
    write_quarantine,
)
from kefu.importers.qianniu_sources import (
    RELATIVE_DAYS,
    FileDay,
    Source,
    decode,
    json_sources,
    parse_export_time,
    relative_day,
)
from kefu.io.readers import InputError

DEFAULT_PREFIXES = ("cntaobao",)
DEFAULT_BOT_MARKERS = ("[自动回复]", "【自动回复】", "自动回复")
SYSTEM_SENDERS = ("系统", "系统消息", "系统通知", "system")
BUYER_HEADERS = ("客户id", "客户", "买家", "买家id", "买家昵称", "customer", "buyer")
CHAT_HEADERS = ("聊天记录", "聊天内容", "记录", "chat", "chats")

REASONS = {
    "buyer": "missing buyer (user / 客户ID)",
    "sender": "missing sender",
    "time": "unparseable time",
    "not_chat": "not a chat object",
    "relative": "relative day (今天/昨天/前天) and no exportTime to resolve it against",
    "empty": "a time with no message after it",
    "no_sender": "no sender: expected `time sender: content`",
    "orphan": "no time and sender, and no message above it to continue",
    "after_bad": "continues a quarantined line",
    "stranger": "unknown sender: neither the buyer nor one of the shop's accounts (--account)",
}

_DATE = r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?"
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?"
#: A line of the Excel form: ``2024-01-07 10:00:15 sender: content``.
_LINE = re.compile(rf"^\s*(?P<ts>{_DATE}\s*{_CLOCK})(?:\s+(?P<rest>.*))?$", re.DOTALL)
_STAMP = re.compile(rf"^\s*{_DATE}\s*\d{{1,2}}:\d{{2}}")
#: ``sender: content``; the sender runs to its first colon (``shop:name`` is handled apart).
_SENDER = re.compile(r"^(?P<s>[^\s:：]+)[:：]\s*(?P<t>.*)$", re.DOTALL)
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")
#: A line of the exporter's block form that holds only a time: ``10:01:15`` or with a date.
_TIME_ONLY = re.compile(rf"^\s*(?:(?P<date>{_DATE})\s*)?(?P<clock>{_CLOCK})\s*$")
#: A transfer notice (会话已转交给 <agent>) and its target; a recall notice (撤回).
_TRANSFER = re.compile(r"转交给\s*[:：]?\s*(?P<to>[^\s，,。；;]+)")
_AGENT_TRANSFER = re.compile(r"^\s*(?:会话)?已?转交给")
_RECALL = re.compile(r"^\s*\S{0,40}撤回了?一条消息\s*$")


@dataclass(frozen=True)
class ShopAccounts:
    """The shop's own accounts and how its bot messages look (rules R2, R3).

    ``main``: main-account names (``--account``); ``NAME`` and ``NAME:sub`` are the shop's.
    ``prefixes``: site prefixes of Wangwang long ids (``cntaobao``), removed before names
    are compared. ``bot_markers``: a shop message is a bot message when its text starts
    with one or its sender contains one. ``shop``: the shop id (default: the first main
    account).
    """

    main: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = DEFAULT_PREFIXES
    bot_markers: tuple[str, ...] = DEFAULT_BOT_MARKERS
    shop: str | None = None

    def bare(self, account: str) -> str:
        """The account without a site prefix: ``cntaobao小米:阿明`` → ``小米:阿明``."""
        name = account.strip()
        for prefix in self.prefixes:
            if prefix and name.lower().startswith(prefix.lower()) and len(name) > len(prefix):
                return name[len(prefix) :]
        return name

    def is_main(self, account: str) -> bool:
        return self.bare(account) in self.main

    def is_shop(self, account: str) -> bool:
        """A main account, or a sub-account ``main:name`` of one (R3)."""
        name = self.bare(account)
        return name in self.main or _main_of(name) in self.main

    def role(self, sender: str, buyer: str, text: str) -> str | None:
        """buyer, agent, bot or system (R2); ``None`` for a sender that is none of them.

        A message with no sender (a platform line such as 会话已转交给…) is ``system``.
        """
        name = self.bare(sender)
        if not name:
            return "system"
        if name == self.bare(buyer):
            return "buyer"
        if name.lower() in SYSTEM_SENDERS:
            return "system"
        if not self.is_shop(name):
            return None
        body = text.lstrip()
        if any(m and (body.startswith(m) or m in name) for m in self.bot_markers):
            return "bot"
        return "agent"


def _main_of(account: str) -> str | None:
    """``shop:name`` → ``shop`` (a sub-account's main account); ``None`` for a bare name."""
    parts = re.split(r"[:：]", account, maxsplit=1)
    return parts[0] if len(parts) == 2 and parts[0] and parts[1] else None


@dataclass
class Entry:
    """One chat of the source, before its sender is judged."""

    file: str
    row: int
    field: str
    buyer: str
    sender: str
    ts: dt.datetime
    text: str
    record: dict[str, Any]
    lines: int = 1  # source lines it was made of (Excel form: a multi-line message)


@dataclass
class Parsed:
    """What a form's reader found: chats to judge, problems, records read and warnings."""

    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    read: int = 0
    warnings: list[str] = field(default_factory=list)


def parse_time(value: str) -> dt.datetime | None:
    """``2024-01-07 10:00:15``, ``2024/1/7 10:00``, ``2024年01月07日 10:00:15`` → datetime."""
    text = re.sub(r"[年月/.]", "-", value.strip()).replace("日", " ")
    text = re.sub(r"\s+", " ", text).strip()
    for fmt in _TIME_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


# ---------------------------------------------------------------------------- JSON form


class _Positions:
    """Where each chat of a valid JSON text starts: the line a user finds it on."""

    _WS = re.compile(r"[ \t\n\r]*")

    def __init__(self, text: str) -> None:
        self.text = text
        self.decoder = json.JSONDecoder()
        self._offset, self._line = 0, 1

    def line(self, offset: int) -> int:
        """Line of ``offset`` (offsets are asked in increasing order)."""
        self._line += self.text.count("\n", self._offset, offset)
        self._offset = offset
        return self._line

    def _ws(self, i: int) -> int:
        match = self._WS.match(self.text, i)
        return match.end() if match else i

    def _items(self, i: int) -> Iterator[tuple[str | None, int]]:
        """(key, value offset) of each member of the object or array at ``i`` (key None)."""
        closing = "]" if self.text[i] == "[" else "}"
        i = self._ws(i + 1)
        while self.text[i] != closing:
            key = None
            if closing == "}":
                key, i = self.decoder.raw_decode(self.text, i)
                i = self._ws(self._ws(i) + 1)  # past ':'
            yield key, i
            _, i = self.decoder.raw_decode(self.text, i)
            i = self._ws(i)
            if self.text[i] == ",":
                i = self._ws(i + 1)

    def chat_lines(self, i: int) -> list[int]:
        """Lines of the chats of the export object at ``i`` (its last ``chats`` member)."""
        lines: list[int] = []
        for key, start in self._items(i):
            if key == "chats" and self.text[start] == "[":
                lines = [self.line(chat) for _, chat in self._items(start)]
        return lines

    def exports(self) -> list[int]:
        """Start offsets of the export objects: the top object, or each of a top list."""
        i = self._ws(0)
        return [at for _, at in self._items(i)] if self.text[i] == "[" else [i]


def _json_exports(path: str, raw: bytes) -> list[tuple[dict[str, Any], list[int]]]:
    """Each export object of a JSON text with the line each of its chats starts on."""
    text = decode(raw, path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise InputError(f"{path}: not a Qianniu chat export: JSON nested too deeply") from None
    objects = data if isinstance(data, list) else [data]
    exports = all(isinstance(o, dict) and isinstance(o.get("chats"), list) for o in objects)
    if not objects or not exports:
        raise InputError(
            f"{path}: not a Qianniu chat export: expected an object with a 'chats' list "
            "(or a list of them)"
        )
    positions = _Positions(text)
    starts = positions.exports()
    return [(o, positions.chat_lines(at)) for o, at in zip(objects, starts, strict=True)]


def _resolve_relative(value: str, export_time: dt.datetime | None) -> str | None:
    """``昨天 10:01`` → ``2024-05-08 10:01`` (export made on 2024-05-09); ``None`` when the
    value starts with a relative day and there is no exportTime to resolve it against."""
    word = next((w for w in RELATIVE_DAYS if value.startswith(w)), None)
    if word is None:
        return value
    day = relative_day(word, export_time)
    return None if day is None else day.isoformat() + value[len(word) :]


def _chat_time(chat: dict[str, Any], export_time: dt.datetime | None) -> dt.datetime | str | None:
    """The chat's local time (T1), ``"relative"`` when a 今天/昨天 cannot be resolved."""
    date = _resolve_relative(str(chat.get("date") or "").strip(), export_time)
    time = _resolve_relative(str(chat.get("time") or "").strip(), export_time)
    if date is None or time is None:
        return "relative"
    if _STAMP.match(time):
        return parse_time(time)
    if _STAMP.match(date) and not time:
        return parse_time(date)
    return parse_time(f"{date} {time}") if date and time else None


def _chat_text(chat: dict[str, Any]) -> str:
    text = str(chat.get("text") or "")
    image = str(chat.get("imgUrl") or "")
    return text if text or not image else f"[图片] {image}"


def _json_chat(
    path: str, line: int, buyer: str, chat: Any, export_time: dt.datetime | None
) -> Entry | Problem:
    """One chat; a chat with no sender is a system message (R2), not a quarantined one."""
    record = chat if isinstance(chat, dict) else {"chat": chat}
    if not isinstance(chat, dict):
        return Problem(path, line, "chats", REASONS["not_chat"], json.dumps(chat), record)
    if not buyer:
        return Problem(path, line, "user", REASONS["buyer"], None, record)
    sender = str(chat.get("sender") or "").strip()
    ts = _chat_time(chat, export_time)
    if not isinstance(ts, dt.datetime):
        value = f"{chat.get('date') or ''} {chat.get('time') or ''}".strip()
        reason = REASONS["relative"] if ts == "relative" else REASONS["time"]
        return Problem(path, line, "date" if ts == "relative" else "time", reason, value, record)
    return Entry(path, line, "sender", buyer, sender, ts, _chat_text(chat), record)


def _read_source(source: Source, parsed: Parsed) -> list[tuple[dict[str, Any], list[int]]]:
    """A source's exports; a broken ZIP member or folder file is one quarantined record."""
    try:
        return _json_exports(source.name, source.raw)
    except InputError as exc:
        if not source.member:
            raise
        parsed.read += 1
        reason = str(exc).removeprefix(f"{source.name}: ")
        line = re.search(r"\(line (\d+),", reason)
        row = int(line[1]) if line else 1
        parsed.problems.append(
            Problem(source.name, row, "file", reason, None, {"file": source.name})
        )
        return []


def parse_json(paths: list[Path], step: Callable[[str], None]) -> Parsed:
    """Read per-buyer JSON exports (files, ZIPs, folders); ``row`` of a problem is the line
    its chat starts on, ``file`` the file or ``export.zip:member.json``."""
    parsed = Parsed()
    for source in json_sources(paths):
        step(f"reading {source.name}")
        path = source.name
        for export, lines in _read_source(source, parsed):
            buyer = str(export.get("user") or "").strip()
            export_time = parse_export_time(export.get("exportTime"))
            chats = export["chats"]
            count = export.get("count")
            if isinstance(count, int) and count != len(chats):
                parsed.warnings.append(
                    f"{path}: user {buyer}: count says {count}, chats holds {len(chats)}"
                )
            for line, chat in zip(lines, chats, strict=True):
                parsed.read += 1
                item = _json_chat(path, line, buyer, chat, export_time)
                target = parsed.entries if isinstance(item, Entry) else parsed.problems
                target.append(item)  # type: ignore[arg-type]
    return parsed


# ---------------------------------------------------------------------------- Excel form


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sheets(path: Path) -> list[tuple[str, list[list[Any]]]]:
    """(name, rows) of every sheet of the workbook, in order."""
    from python_calamine import CalamineWorkbook

    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        book = CalamineWorkbook.from_path(str(path))
        return [
            (name, book.get_sheet_by_name(name).to_python(skip_empty_area=False))
            for name in book.sheet_names
        ]
    except Exception as exc:  # calamine raises its own error types per format problem
        raise InputError(f"{path}: cannot read as XLSX: {exc}") from None


def _header(path: Path, rows: list[list[object]]) -> tuple[int, int, int]:
    """(row index, buyer column, chat column) of the header row among the first rows."""
    for r, row in enumerate(rows[:20]):
        names = [_cell(v).lower() for v in row]
        buyer = next((names.index(h) for h in BUYER_HEADERS if h in names), None)
        chat = next((names.index(h) for h in CHAT_HEADERS if h in names), None)
        if buyer is not None and chat is not None:
            return r, buyer, chat
    raise InputError(f"{path}: no header row with 客户ID and 聊天记录 (the Qianniu Excel form)")


def _split_sender(rest: str, buyer: str, accounts: ShopAccounts) -> tuple[str, str] | None:
    """``sender: content`` → (sender, content), keeping a sub-account ``shop:name`` whole.

    ``shop:name: content`` is a sub-account when ``shop`` is a main account (``--account``)
    or, with none given, when ``shop`` is not the buyer: a Taobao name holds no colon.
    """
    first = _SENDER.match(rest)
    if first is None:
        return None
    sender, text = first["s"], first["t"]
    glued = not rest[len(sender) + 1 : len(sender) + 2].isspace()
    sub = _SENDER.match(text) if glued else None
    if sub is not None:
        main = accounts.bare(sender)
        if accounts.is_main(main) if accounts.main else main != buyer:
            return f"{sender}{rest[len(sender)]}{sub['s']}", sub["t"]
    return sender, text


@dataclass(frozen=True)
class _Cell:
    """Where a 聊天记录 cell is: file, sheet row (as Excel numbers it), header; its buyer;
    and where the day of its dateless times comes from (``--date`` or the file name)."""

    file: str
    row: int
    header: str
    buyer: str
    days: FileDay

    def problem(self, k: int, line: str, reason: str) -> Problem:
        record = {"客户ID": self.buyer, "line": k, "text": line}
        kind = EXCLUDED if reason == REASONS["after_bad"] else INVALID
        return Problem(self.file, self.row, f"{self.header} line {k}", reason, line, record, kind)

    def message(self, k: int, ts: dt.datetime, sender: str, text: str, raw: str) -> Entry:
        record = {"客户ID": self.buyer, "line": k, "text": raw}
        field = f"{self.header} line {k}"
        return Entry(self.file, self.row, field, self.buyer, sender, ts, text, record)

    def entry(self, k: int, line: str, accounts: ShopAccounts) -> Entry | str:
        """The message a ``time sender: content`` line holds, or why it holds none.

        ``time content`` with no ``sender:`` is a sender-less, system message (R2).
        """
        if not self.buyer:
            return REASONS["buyer"]
        match = _LINE.match(line)
        rest = (match["rest"] or "").strip() if match else ""
        if match is None or not rest:
            return REASONS["empty"] if match else REASONS["no_sender"]
        ts = parse_time(match["ts"])
        if ts is None:
            return REASONS["time"]
        sender, text = _sender_of(rest, self.buyer, accounts)
        return self.message(k, ts, sender, text, line)


#: Punctuation no account name holds: ``订单号：123`` is a notice's text, not ``sender: text``.
_NOT_A_NAME = re.compile(r"[，。！？、,!?（）()【】\[\]]")


def _sender_of(rest: str, buyer: str, accounts: ShopAccounts) -> tuple[str, str]:
    """(sender, content) of ``sender: content``; ("", rest) when no sender is named."""
    split = _split_sender(rest, buyer, accounts)
    if split is None or _NOT_A_NAME.search(split[0]):
        return "", rest.strip()
    return split


def _line_form(cell: _Cell, lines: list[str], accounts: ShopAccounts, parsed: Parsed) -> None:
    """One message per ``time sender: content`` line; lines without a time continue it."""
    last: Entry | None = None
    bad_above = False
    for k, line in enumerate(lines, start=1):
        if not line.strip():
            continue  # blank lines hold nothing and are not counted
        parsed.read += 1
        if not _STAMP.match(line):
            if last is not None:
                last.text += "\n" + line
                last.lines += 1
            else:
                reason = REASONS["after_bad"] if bad_above else REASONS["orphan"]
                parsed.problems.append(cell.problem(k, line, reason))
            continue
        found = cell.entry(k, line, accounts)
        if isinstance(found, str):
            parsed.problems.append(cell.problem(k, line, found))
            last, bad_above = None, True
        else:
            parsed.entries.append(found)
            last, bad_above = found, False


class _Clock:
    """Times of the block form: with a date, or dateless on the file's day (``--date``, the
    file name). A dateless time earlier than the one before it is on the next day: the
    export runs in time order, so 23:59:50 then 00:00:20 crosses midnight (decided)."""

    def __init__(self, cell: _Cell) -> None:
        self.cell = cell
        self.extra = 0
        self.last: dt.datetime | None = None

    def time(self, match: re.Match[str]) -> dt.datetime | None:
        if match["date"]:
            return parse_time(f"{match['date']} {match['clock']}")
        day = self.cell.days.of(Path(self.cell.file)) + dt.timedelta(days=self.extra)
        ts = parse_time(f"{day.isoformat()} {match['clock']}")
        if ts is not None and self.last is not None and ts < self.last:
            self.extra += 1
            ts += dt.timedelta(days=1)
        self.last = ts or self.last
        return ts


def _block_form(cell: _Cell, lines: list[str], accounts: ShopAccounts, parsed: Parsed) -> None:
    """The public exporter's form: a time on its own line, then ``name: text`` (or, with no
    name, the text of a system message, R2) and its continuation lines; messages are
    separated by blank lines. Every non-blank line is counted."""
    clock = _Clock(cell)
    pending: tuple[int, dt.datetime, str] | None = None  # a time waiting for its message
    last: Entry | None = None
    bad_above = False
    for k, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parsed.read += 1
        stamp = _TIME_ONLY.match(line)
        if stamp is not None:
            if pending is not None:
                parsed.problems.append(cell.problem(pending[0], pending[2], REASONS["empty"]))
            ts = clock.time(stamp)
            if ts is None or not cell.buyer:
                reason = REASONS["time"] if ts is None else REASONS["buyer"]
                parsed.problems.append(cell.problem(k, line, reason))
                pending, last, bad_above = None, None, True
            else:
                pending, last = (k, ts, line), None
        elif pending is not None:
            sender, text = _sender_of(line, cell.buyer, accounts)
            at, ts, stamp_line = pending
            last = cell.message(at, ts, sender, text, f"{stamp_line}\n{line}")
            last.lines, pending, bad_above = 2, None, False
            parsed.entries.append(last)
        elif last is not None:
            last.text += "\n" + line
            last.lines += 1
        else:
            reason = REASONS["after_bad"] if bad_above else REASONS["orphan"]
            parsed.problems.append(cell.problem(k, line, reason))
    if pending is not None:
        parsed.problems.append(cell.problem(pending[0], pending[2], REASONS["empty"]))


def _cell_entries(cell: _Cell, text: str, accounts: ShopAccounts, parsed: Parsed) -> None:
    """The messages of one 聊天记录 cell, in the form its first timed line shows: a time
    alone (the exporter's block form) or ``time sender: content`` (the line form)."""
    lines = re.split(r"\r\n|\r|\n", text)
    first = next((line for line in lines if _TIME_ONLY.match(line) or _STAMP.match(line)), "")
    form = _block_form if _TIME_ONLY.match(first) else _line_form
    form(cell, lines, accounts, parsed)


def parse_xlsx(
    paths: list[Path],
    accounts: ShopAccounts,
    step: Callable[[str], None],
    days: FileDay | None = None,
) -> Parsed:
    """Read Excel exports; ``row`` is the sheet row (as Excel numbers it), ``field`` the line."""
    parsed = Parsed()
    for path in paths:
        step(f"reading {path}")
        # Every sheet with the header is read (an export split by day); the first sheet's
        # rows are named by the file alone, a later sheet's by ``file:sheet``.
        headed = []
        for n, (name, rows) in enumerate(_sheets(path)):
            try:
                headed.append((f"{path}:{name}" if n else str(path), rows, _header(path, rows)))
            except InputError:
                parsed.warnings.append(f"{path}: sheet {name!r} has no 客户ID / 聊天记录 header")
        if not headed:
            _header(path, [])  # no sheet of the form at all: the one-line error
        for file, rows, found in headed:
            _sheet_entries(file, rows, found, accounts, parsed, days)
    return parsed


def _sheet_entries(
    file: str,
    rows: list[list[Any]],
    found: tuple[int, int, int],
    accounts: ShopAccounts,
    parsed: Parsed,
    days: FileDay | None,
) -> None:
    top, buyer_col, chat_col = found
    header = _cell(rows[top][chat_col])
    for r in range(top + 1, len(rows)):
        row = rows[r]
        cell = _cell(row[chat_col]) if chat_col < len(row) else ""
        buyer = _cell(row[buyer_col]) if buyer_col < len(row) else ""
        where = _Cell(file, r + 1, header, accounts.bare(buyer), days or FileDay())
        _cell_entries(where, cell, accounts, parsed)


# ---------------------------------------------------------------------------- both forms


def infer_main_accounts(senders: list[tuple[str, str]], accounts: ShopAccounts) -> tuple[str, ...]:
    """Main accounts named by sub-account senders ``shop:name`` (not the buyer's own name)."""
    found: list[str] = []
    for sender, buyer in senders:
        name = accounts.bare(sender)
        main = _main_of(name)
        if main and name != accounts.bare(buyer) and main not in found:
            found.append(main)
    return tuple(found)


def resolve_accounts(
    accounts: ShopAccounts, candidates: list[tuple[str, str]], fmt: str = "qianniu"
) -> ShopAccounts:
    """The accounts with main names (given, or inferred from ``shop:name`` senders) and shop.

    ``candidates`` are (sender, buyer) pairs of the export; ``fmt`` names the format in the
    error when the shop cannot be told.
    """
    main = tuple(accounts.bare(m) for m in accounts.main) or infer_main_accounts(
        candidates, accounts
    )
    if not main:
        raise InputError(
            f"{fmt}: cannot tell the shop's accounts: no sender is written shop:name; "
            "give the main account with --account"
        )
    if len(main) > 1 and not accounts.main and not accounts.shop:
        raise InputError(
            f"{fmt}: senders name several main accounts ({', '.join(main)}); "
            "give the shop's with --account (and --shop)"
        )
    shop = accounts.bare(accounts.shop) if accounts.shop else main[0]  # no cntaobao in ids
    return ShopAccounts(main, accounts.prefixes, accounts.bot_markers, shop)


def _msg_id(entry: Entry, counts: dict[tuple[str, str], int]) -> str:
    """A stable id: the same chat exported twice gets the same id (a duplicate for the loader)."""
    key = "\x1f".join((entry.buyer, entry.ts.isoformat(), entry.sender, entry.text))
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
    n = counts[(entry.file, digest)] = counts.get((entry.file, digest), 0) + 1
    return f"qn-{digest}-{n}"


def transfer_target(entry: Entry, role: str, accounts: ShopAccounts) -> str | None:
    """The agent a transfer notice hands the buyer to, or ``None`` (rule R2, P1).

    A system line ``会话已转交给 青禾家居旗舰店:小雅`` (or ``转交给 小雅``, a bare name being
    a sub-account of the shop's main account); an agent's own line counts only when it
    starts so, since an agent may write 转交给售后 to a buyer.
    """
    if role not in ("system", "agent", "bot"):
        return None
    if role != "system" and not _AGENT_TRANSFER.match(entry.text):
        return None
    found = _TRANSFER.search(entry.text)
    if found is None:
        return None
    target = accounts.bare(found["to"])
    if accounts.is_shop(target) or _main_of(target):
        return target
    return f"{accounts.main[0]}:{target}"


def _role(entry: Entry, accounts: ShopAccounts) -> str | None:
    """The entry's role (R2); a recall notice (xxx撤回了一条消息) is ``system`` whoever sent
    it, so it never opens a round."""
    role = accounts.role(entry.sender, entry.buyer, entry.text)
    return "system" if role in ("buyer", None) and _RECALL.match(entry.text) else role


def judge(parsed: Parsed, accounts: ShopAccounts) -> tuple[list[dict[str, Any]], set[str]]:
    """Canonical message rows (R2 roles) and the shop accounts seen; strangers quarantined.

    A transfer notice is a system row carrying its target in ``agent_id``; buyer rows get
    the agent they were addressed to (the last agent of the stream or the transfer's
    target), so an unanswered round belongs to that agent (P1, decided).
    """
    rows: list[dict[str, Any]] = []
    seen: set[str] = set(accounts.main)
    counts: dict[tuple[str, str], int] = {}
    for seq, entry in enumerate(parsed.entries, start=1):
        role = _role(entry, accounts)
        if role is None:
            parsed.problems.append(
                Problem(entry.file, entry.row, entry.field, REASONS["stranger"], entry.sender,
                        entry.record, EXCLUDED)
            )  # fmt: skip
            # the message's other lines (Excel: time line, continuations) are counted too
            parsed.problems += [
                Problem(entry.file, entry.row, entry.field, REASONS["after_bad"], None,
                        entry.record, EXCLUDED)
                for _ in range(entry.lines - 1)
            ]  # fmt: skip
            continue
        sender = accounts.bare(entry.sender)
        target = transfer_target(entry, role, accounts)
        if role in ("agent", "bot"):
            seen.add(sender)
        row = {
            "shop_id": accounts.shop,
            "buyer_id": accounts.bare(entry.buyer),
            "agent_id": sender if role in ("agent", "bot") else None,
            "sender": "system" if target else role,
            "ts": entry.ts,
            "text": entry.text,
            "msg_id": _msg_id(entry, counts),
            "seq": seq,
            "_lines": entry.lines,
        }
        if target:
            seen.add(target)
            row["agent_id"] = row[HANDOVER] = target
        rows.append(row)
    address_buyer_messages(rows)
    return rows, seen


def import_qianniu(
    fmt: str,
    files: list[Path],
    out: Path,
    accounts: ShopAccounts | None = None,
    on_step: Callable[[str], None] | None = None,
    days: FileDay | None = None,
) -> ImportReport:
    """Import Qianniu exports (``qianniu-json`` or ``qianniu-xlsx``) into ``out``.

    ``files``: JSON files, the exporter's ZIPs and folders of them (``qianniu-json``), or
    workbooks (``qianniu-xlsx``); ``days`` gives the day of dateless Excel times.

    >>> import_qianniu("qianniu-json", [Path("export.json")], Path("kefu-import"),
    ...                ShopAccounts(main=("小米旗舰店",)))  # doctest: +SKIP
    """
    step = on_step or (lambda _: None)
    given = accounts or ShopAccounts()
    if not files:
        raise InputError(f"{fmt}: no input files")
    if fmt == "qianniu-json":
        parsed = parse_json(files, step)
    elif fmt == "qianniu-xlsx":
        parsed = parse_xlsx(files, given, step, days)
    else:
        raise InputError(f"unknown Qianniu format {fmt!r} (qianniu-json, qianniu-xlsx)")
    resolved = resolve_accounts(given, [(e.sender, e.buyer) for e in parsed.entries])
    rows, seen = judge(parsed, resolved)
    prepare_out(out)
    return _write(fmt, out, parsed, rows, seen, resolved)


def _write(
    fmt: str,
    out: Path,
    parsed: Parsed,
    rows: list[dict[str, Any]],
    seen: set[str],
    accounts: ShopAccounts,
) -> ImportReport:
    schema = message_schema()
    lines = sum(r.pop("_lines") for r in rows)
    written = [out / "messages.parquet", out / "accounts.parquet", out / "agents.parquet"]
    write_parquet(written[0], pa.Table.from_pylist(rows, schema=schema), schema)
    shop = accounts.shop
    own = [{"shop_id": shop, "account": a} for a in sorted(seen)]
    write_parquet(written[1], pa.Table.from_pylist(own, schema=ACCOUNTS_SCHEMA), ACCOUNTS_SCHEMA)
    agents = sorted({r["agent_id"] for r in rows if r["sender"] in ("agent", "system")} - {None})
    agent_rows = [{"agent_id": a, "shop_id": shop, "name": a.split(":")[-1]} for a in agents]
    write_parquet(written[2], pa.Table.from_pylist(agent_rows, schema=AGENTS_SCHEMA), AGENTS_SCHEMA)
    problems = sorted(parsed.problems, key=lambda p: (p.file, p.row, p.record.get("line", 0)))
    quarantine = quarantine_table(problems)
    written.append(write_quarantine(out, quarantine))
    return ImportReport(
        fmt=fmt,
        unit="chats" if fmt == "qianniu-json" else "lines",
        read=parsed.read,
        accepted=lines,
        quarantined=quarantine.num_rows,
        messages=len(rows),
        written=written,
        reasons=reason_counts(quarantine),
        warnings=parsed.warnings,
    )
