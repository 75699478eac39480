"""Per-shop access tokens for the live service, kept in its store, hashed.

A token belongs to one shop and carries scopes: ``ingest`` posts that shop's events,
``read`` reads its figures, waiting buyers and warnings, ``admin`` does both and
acknowledges warnings. The token itself is shown once, when it is made; the store keeps
its SHA-256 only (a token is 32 random bytes, so a plain hash cannot be guessed back).

>>> import tempfile, pathlib
>>> from kefu.live.store import connect
>>> con = connect(pathlib.Path(tempfile.mkdtemp()) / "live.db")
>>> token = create_token(con, "s1", ["read"])
>>> grant = find_token(con, token)
>>> grant.shop_id, grant.allows("read"), grant.allows("ingest")
('s1', True, False)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3
from dataclasses import dataclass

SCOPES = ("ingest", "read", "admin")

_TABLE = """CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY, shop_id TEXT NOT NULL, scopes TEXT NOT NULL, created TEXT NOT NULL)"""


@dataclass(frozen=True)
class Grant:
    """What a token lets its holder do: one shop, some scopes."""

    shop_id: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(con: sqlite3.Connection, shop_id: str, scopes: list[str]) -> str:
    """A new token for ``shop_id`` with ``scopes``; returned once, stored hashed. The shop
    is read as the loader reads an event's (``cntaobao小米`` is ``小米``)."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}; got {', '.join(unknown)}")
    from kefu.live.events import canonical_shop

    shop = canonical_shop(shop_id)
    if shop is None:
        raise ValueError("shop must not be blank")
    token = "kefu_" + secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    con.execute(_TABLE)
    con.execute(
        "INSERT INTO tokens VALUES (?, ?, ?, ?)",
        [_hash(token), shop, ",".join(sorted(set(scopes))), now],
    )
    return token


def find_token(con: sqlite3.Connection, token: str) -> Grant | None:
    """The grant of ``token``, or None if the store does not know it."""
    con.execute(_TABLE)
    row = con.execute(
        "SELECT shop_id, scopes FROM tokens WHERE hash = ?", [_hash(token)]
    ).fetchone()
    return Grant(row[0], frozenset(row[1].split(","))) if row else None
