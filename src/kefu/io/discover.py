"""Find which input file feeds which canonical table, by its name.

A file belongs to a table when its name starts with the table's name or one of its
Chinese names (``messages-2024-01.csv``, ``聊天记录.xlsx``, ``评价.csv``). A folder is
searched one level deep, and a sub-folder named like a table holds that table's parts
(``messages/part-0.parquet``), also in Hive partition folders
(``messages/day=2024-03-01/part-0.parquet``; see ``kefu.io.partitions``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from kefu.io.readers import SUFFIXES, InputError, file_format
from kefu.io.schema import TABLES

NAMES: dict[str, tuple[str, ...]] = {
    "messages": ("messages", "message", "chats", "chat", "消息", "聊天记录", "聊天"),
    "ratings": ("ratings", "rating", "评价", "满意度"),
    "refusals": ("refusals", "refusal", "拒收"),
    "accounts": ("accounts", "account", "账号", "子账号"),
    "agents": ("agents", "agent", "客服"),
    "shops": ("shops", "shop", "店铺"),
}


def table_of(path: Path) -> str | None:
    stem = path.name.lower()
    for table, names in NAMES.items():
        if any(stem.startswith(n) for n in names):
            return table
    return None


def _entries(folder: Path) -> list[Path]:
    """A folder's entries, sorted; an unreadable folder is an :class:`InputError`."""
    try:
        return sorted(folder.iterdir())
    except OSError as exc:  # PermissionError, or the folder vanished
        raise InputError(f"{folder}: cannot read the folder: {exc.strerror or exc}") from None


def _files_in(folder: Path) -> list[Path]:
    """A table folder's files, and those of its Hive partitions (``day=2024-03-01/``, any
    depth), in name order: an ISO day partition sorts by time."""
    found = []
    for p in _entries(folder):
        if p.is_file() and p.suffix.lower() in SUFFIXES:
            found.append(p)
        elif p.is_dir() and "=" in p.name:
            found += _files_in(p)
    return found


def discover_inputs(paths: str | Path | Iterable[str | Path]) -> dict[str, list[Path]]:
    """Table → files, from files and folders given by the user."""
    items = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    found: dict[str, list[Path]] = {t: [] for t in TABLES}
    for item in items:
        if item.is_dir():
            for sub in _entries(item):
                table = table_of(sub)
                if table is None:
                    continue
                if sub.is_dir():
                    found[table] += _files_in(sub)
                elif sub.suffix.lower() in SUFFIXES:
                    found[table].append(sub)
        elif item.is_file():
            file_format(item)  # an explicit file of an unknown type is an error, not skipped
            table = table_of(item)
            if table is None:
                raise InputError(
                    f"{item}: cannot tell which table it holds; name it messages.*, ratings.*, "
                    "refusals.*, accounts.*, agents.* or shops.* (Chinese names: docs/schema.md)"
                )
            found[table].append(item)
        else:
            raise InputError(f"{item}: no such file or folder")
    if not any(found.values()):
        raise InputError(f"{', '.join(map(str, items))}: no input files found")
    return found
