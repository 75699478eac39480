"""Wangwang / Qianniu PC message manager (旺旺/千牛 消息管理器) text export → canonical messages.

The export, usually GBK/GB18030 (UTF-8 is read too), looks like::

    消息记录（此消息记录为文本格式，不支持重新导入）

    ================================================================
    消息分组:我的好友
    ================================================================
    消息对象:晴天小猪88
    ================================================================

    2024-03-05 09:58:02 晴天小猪88
    在吗？这款收纳柜有白色的吗
    2024-03-05 09:59:40 青禾家居旗舰店:阿明(cntaobao青禾家居旗舰店:阿明)
    亲，在的，白色有现货哦

- ``消息对象`` (the contact) is the buyer of the block's messages; ``消息分组`` is only the
  contact's group in the exporter's friend list.
- A message starts with a line ``YYYY-MM-DD HH:MM:SS nick(userid)`` or ``… nick``; its
  content is the lines that follow, up to the next message line or block. The sender is
  the ``userid`` when given, else the nick.
- Who sent it is told as for Qianniu (``ShopAccounts``, rules R2, R3): the contact is the
  buyer; the shop's main account (``--account``) and its sub-accounts ``shop:name`` are the
  shop's (the ``cntaobao`` prefix removed), bot messages by their marker; 系统 is a system
  message; any other sender is quarantined.
- Unusable lines are quarantined with the line: a date-time that does not exist, a
  date-time without a sender, a message line without a date (a clock time followed by one
  of the chat's own senders), content before any message line. The content of a
  quarantined message line goes with it (one record).

The unit counted is the message (a message line with its content); times are local and
naive (T1); ``seq`` is the input order (T3); ``msg_id`` is made from the buyer, time, sender
and text, so a chat exported twice gets the same ids (a duplicate for the loader).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kefu.importers.common import (
    EXCLUDED,
    ImportReport,
    Problem,
    read_text,
    write_import,
)
from kefu.importers.qianniu import ShopAccounts, parse_time, resolve_accounts
from kefu.io.readers import InputError

HEADER = "消息记录（此消息记录为文本格式，不支持重新导入）"
_HEADER = re.compile(r"^消息记录[（(]此消息记录为文本格式，不支持重新导入[)）]$")
_RULE = re.compile(r"^[=＝]{3,}$")
_FIELD = re.compile(r"^(?P<k>消息分组|消息对象)\s*[:：]\s*(?P<v>.*)$")
_STAMP = r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\s+\d{1,2}:\d{2}:\d{2}"
#: A message line: date, clock time and sender.
_MESSAGE = re.compile(rf"^(?P<ts>{_STAMP})(?:\s+(?P<who>\S.*))?$")
#: Looks like a message line but its date or time cannot be read (``2024-02-30 10:00:00``).
_GARBLED = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\s+\d{1,2}:\d{1,2}")
#: A clock time without a date, then a sender: a message line with its date lost.
_DATELESS = re.compile(r"^\d{1,2}:\d{2}:\d{2}\s+(?P<who>\S.*)$")
#: ``nick(userid)``; the last bracketed part is the id (a nick may hold brackets itself).
_WHO = re.compile(r"^(?P<nick>.*?)\s*[(（](?P<uid>[^()（）]+)[)）]$")

REASONS = {
    "time": "unparseable time",
    "no_sender": "no sender: expected `YYYY-MM-DD HH:MM:SS nick(userid)`",
    "dateless": "message line without a date",
    "orphan": "content with no message line above it",
    "no_contact": "message before any 消息对象 line: no buyer",
    "stranger": "unknown sender: neither the 消息对象 nor one of the shop's accounts (--account)",
}


@dataclass(frozen=True)
class Who:
    """A sender or contact as written: ``nick(userid)`` or ``nick``."""

    nick: str
    uid: str | None = None

    @classmethod
    def parse(cls, text: str) -> Who:
        match = _WHO.match(text.strip())
        if match and match["nick"]:
            return cls(match["nick"].strip(), match["uid"].strip())
        return cls(text.strip())

    def names(self, accounts: ShopAccounts) -> tuple[str, ...]:
        """The ids this sender may be known by, prefix removed: userid first, then nick."""
        return tuple(accounts.bare(n) for n in (self.uid, self.nick) if n)


@dataclass
class Block:
    """The 消息分组 / 消息对象 a message line belongs to."""

    group: str = ""
    contact: Who | None = None


@dataclass
class Message:
    """A message line with its content lines (one record of the export)."""

    file: str
    line: int
    head: str
    block: Block
    ts: dt.datetime | None = None
    who: Who | None = None
    reason: str | None = None  # why the record is quarantined
    content: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.content).strip("\n")

    def record(self) -> dict[str, Any]:
        contact = self.block.contact
        return {"消息分组": self.block.group, "消息对象": contact.nick if contact else None,
                "line": self.head, "content": self.text}  # fmt: skip

    def problem(self, reason: str, kind: str = "invalid") -> Problem:
        field_ = "消息对象" if reason == REASONS["no_contact"] else "message line"
        return Problem(self.file, self.line, field_, reason, self.head, self.record(), kind)


def _is_party(who: Who, block: Block, accounts: ShopAccounts) -> bool:
    """Is ``who`` one of the chat's own senders: the contact, the shop, or 系统?"""
    contact = block.contact.names(accounts) if block.contact else ()
    return any(
        n in contact or accounts.is_shop(n) or n.lower() == "系统" for n in who.names(accounts)
    )


def _lines(path: Path) -> list[str]:
    lines = re.split(r"\r\n|\r|\n", read_text(path))
    if not any(_HEADER.match(x.strip()) or _FIELD.match(x.strip()) for x in lines[:200]):
        raise InputError(
            f"{path}: not a Wangwang message-manager export (no {HEADER} header and no "
            "消息对象 line)"
        )
    return lines


def _records(path: Path, accounts: ShopAccounts) -> Iterator[Message]:
    """The messages of one export, in order; quarantined ones carry a ``reason``."""
    block, current = Block(), None
    for n, raw in enumerate(_lines(path), start=1):
        line = raw.strip()
        structure = _HEADER.match(line) or _RULE.match(line) or _FIELD.match(line)
        head = None if structure else _head(str(path), n, line, block, accounts)
        if structure or head:
            if current:
                yield current  # a block or the next message ends the content
            current = head
            if (found := _FIELD.match(line)) is not None:
                block = _next_block(block, found["k"], found["v"])
        elif current is not None:
            current.content.append(raw.rstrip())
        elif line:
            yield Message(str(path), n, line, block, reason=REASONS["orphan"])
    if current:
        yield current


def _next_block(block: Block, key: str, value: str) -> Block:
    if key == "消息分组":
        return Block(value.strip(), None)
    return Block(block.group, Who.parse(value) if value.strip() else None)


def _head(file: str, n: int, line: str, block: Block, accounts: ShopAccounts) -> Message | None:
    """The message a line starts, quarantined or not; ``None`` for any other line."""
    if match := _MESSAGE.match(line):
        ts = parse_time(match["ts"])
        who = Who.parse(match["who"]) if match["who"] else None
        reason = None if ts else REASONS["time"]
        reason = reason or (None if who else REASONS["no_sender"])
        reason = reason or (None if block.contact else REASONS["no_contact"])
        return Message(file, n, line, block, ts, who, reason)
    if _GARBLED.match(line):
        return Message(file, n, line, block, reason=REASONS["time"])
    dateless = _DATELESS.match(line)
    if dateless and _is_party(Who.parse(dateless["who"]), block, accounts):
        return Message(file, n, line, block, reason=REASONS["dateless"])
    return None


def _senders(paths: list[Path]) -> list[tuple[str, str]]:
    """(sender, contact) of every message line, for finding the shop's main accounts."""
    found: list[tuple[str, str]] = []
    for path in paths:
        contact = ""
        for raw in _lines(path):
            line = raw.strip()
            if (f := _FIELD.match(line)) and f["k"] == "消息对象":
                who = Who.parse(f["v"])
                contact = who.uid or who.nick
            elif (m := _MESSAGE.match(line)) and m["who"]:
                who = Who.parse(m["who"])
                found += [(n, contact) for n in (who.uid, who.nick) if n]
    return found


def _msg_id(buyer: str, message: Message, sender: str, counts: dict[str, int]) -> str:
    """Stable across exports: the same chat exported twice gets the same id."""
    key = "\x1f".join((buyer, str(message.ts), sender, message.text))
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
    counts[digest] = counts.get(digest, 0) + 1
    return f"ww-{digest}-{counts[digest]}"


def _judge(message: Message, accounts: ShopAccounts) -> tuple[str, str, str] | None:
    """(buyer id, sender role, sender id) by R2/R3; ``None`` for a stranger."""
    if message.who is None or message.block.contact is None:
        return None  # not reached: such a line carries a reason
    contact = message.block.contact.names(accounts)
    buyer = contact[0]
    for name in message.who.names(accounts):
        role = "buyer" if name in contact else accounts.role(name, buyer, message.text)
        if role is not None:
            return buyer, role, name
    return None


class _Rows:
    """The canonical rows of an import, and the shop's accounts and agents they show."""

    def __init__(self, accounts: ShopAccounts) -> None:
        self.accounts, self.shop = accounts, str(accounts.shop)
        self.rows: list[dict[str, Any]] = []
        self.own: set[tuple[str, str]] = {(self.shop, m) for m in accounts.main}
        self.agents: dict[tuple[str, str], str | None] = {}
        self._ids: dict[str, int] = {}

    def add(self, message: Message, seq: int) -> Problem | None:
        """Add a message (R2 roles); return the ``Problem`` when it cannot be used."""
        judged = None if message.reason else _judge(message, self.accounts)
        if judged is None:
            if message.reason:
                return message.problem(message.reason)
            return message.problem(REASONS["stranger"], EXCLUDED)
        buyer, role, sender = judged
        shop_side = role in ("agent", "bot")
        if shop_side:
            self.own.add((self.shop, sender))  # R3: the shop's accounts seen
        if role == "agent":
            self.agents[(self.shop, sender)] = sender.split(":")[-1]
        row = {
            "shop_id": self.shop,
            "buyer_id": buyer,
            "agent_id": sender if shop_side else None,
            "sender": role,
            "ts": message.ts,
            "text": message.text,
            "msg_id": _msg_id(buyer, message, sender, self._ids),
            "seq": seq,
        }
        self.rows.append(row)
        return None


def import_wangwang(
    files: list[Path],
    out: Path,
    accounts: ShopAccounts | None = None,
    on_step: Callable[[str], None] | None = None,
) -> ImportReport:
    """Import Wangwang message-manager text exports into ``out``.

    >>> import_wangwang([Path("消息记录.txt")], Path("kefu-import"),
    ...                 ShopAccounts(main=("青禾家居旗舰店",)))  # doctest: +SKIP
    """
    step = on_step or (lambda _: None)
    if not files:
        raise InputError("wangwang-txt: no input files")
    given = accounts or ShopAccounts()
    made = _Rows(resolve_accounts(given, _senders(files), "wangwang-txt"))
    problems: list[Problem] = []
    read = 0
    for path in files:
        step(f"reading {path}")
        for message in _records(path, made.accounts):
            read += 1  # seq: the message's place in the input (T3)
            if (problem := made.add(message, read)) is not None:
                problems.append(problem)
    step("writing")
    return write_import(
        out, "wangwang-txt", "messages", read, made.rows, problems,
        agents=made.agents, accounts=made.own,
    )  # fmt: skip
