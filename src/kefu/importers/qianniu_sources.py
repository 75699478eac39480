"""Where Qianniu exports come from, and which day a dateless time is on.

- ``json_sources``: the files ``kefu import qianniu-json`` is given, expanded: a JSON file
  is itself; a ZIP (the exporter's ``千牛聊天记录_<date>.zip`` of per-buyer JSON files) and
  a folder give each of their files, named ``export.zip:buyer1.json`` / ``folder/b.json``
  so a quarantined chat tells where to look.
- ``relative_day``: ``今天`` / ``昨天`` / ``前天`` in a chat's ``date``, resolved against
  the export's ``exportTime`` (T1: local days).
- ``FileDay``: the day of the Excel form's dateless times (``10:01:15``): ``--date``, else
  the file name (``千牛聊天记录_5月9日.xlsx`` with ``--year 2024``,
  ``千牛聊天记录_2024-05-09.xlsx``).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kefu.io.readers import InputError

#: Relative day headers of the exporter and how many days before the export they mean.
RELATIVE_DAYS = {"今天": 0, "昨天": 1, "前天": 2}
_FULL_DATE = re.compile(r"(?P<y>\d{4})[-_.年](?P<m>\d{1,2})[-_.月](?P<d>\d{1,2})日?")
_MONTH_DAY = re.compile(r"(?<!\d)(?P<m>\d{1,2})月(?P<d>\d{1,2})日")


def decode(raw: bytes, name: str) -> str:
    """UTF-8 (with or without BOM) or GB18030/GBK text; one line naming ``name`` if neither."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{name}: text is neither UTF-8 nor GB18030/GBK")


@dataclass(frozen=True)
class Source:
    """One JSON text to read: its name for the quarantine, its bytes, and whether it came
    from a ZIP or folder (then a broken one is quarantined, not an error for the whole run).
    """

    name: str
    raw: bytes
    member: bool


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name; a GBK name written without the UTF-8 flag is decoded as GBK."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _zip_members(path: Path) -> Iterator[Source]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = sorted((i for i in archive.infolist() if not i.is_dir()), key=_member_name)
            for info in infos:
                yield Source(f"{path}:{_member_name(info)}", archive.read(info), True)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read as ZIP: {exc}") from None


def json_sources(paths: list[Path]) -> Iterator[Source]:
    """The JSON texts of ``paths``: files, ZIP members and the files of folders, in order.

    >>> [s.name for s in json_sources([Path("千牛聊天记录_2024-05-09.zip")])]  # doctest: +SKIP
    ['千牛聊天记录_2024-05-09.zip:buyer1.json', ...]
    """
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.suffix.lower() == ".zip":
                    yield from _zip_members(child)
                else:
                    yield Source(str(child), child.read_bytes(), True)
        elif not path.is_file():
            raise InputError(f"{path}: no such file or folder")
        elif zipfile.is_zipfile(path):
            yield from _zip_members(path)
        else:
            yield Source(str(path), path.read_bytes(), False)


def parse_export_time(value: object) -> dt.datetime | None:
    """``exportTime`` as a local time: ``2024-05-09 18:00:00``, ISO 8601, or ``None``."""
    from kefu.importers.qianniu import parse_time

    text = str(value or "").strip()
    if not text:
        return None
    found = parse_time(text)
    if found is not None:
        return found
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        return None


def relative_day(word: str, export_time: dt.datetime | None) -> dt.date | None:
    """The date ``今天`` / ``昨天`` / ``前天`` means in an export made at ``export_time``.

    >>> relative_day("昨天", dt.datetime(2024, 5, 9, 18, 0))
    datetime.date(2024, 5, 8)
    """
    if export_time is None or word not in RELATIVE_DAYS:
        return None
    return export_time.date() - dt.timedelta(days=RELATIVE_DAYS[word])


@dataclass(frozen=True)
class FileDay:
    """The day of dateless times in one Excel file: ``--date``, else its file name.

    ``千牛聊天记录_5月9日.xlsx`` needs ``--year``; ``千牛聊天记录_2024-05-09.xlsx`` does not.
    """

    date: dt.date | None = None
    year: int | None = None

    def of(self, path: Path) -> dt.date:
        """The day, or one line naming the file when neither option nor name tells it."""
        if self.date is not None:
            return self.date
        full = _FULL_DATE.search(path.stem)
        short = _MONTH_DAY.search(path.stem)
        try:
            if full:
                return dt.date(int(full["y"]), int(full["m"]), int(full["d"]))
            if short and self.year is not None:
                return dt.date(self.year, int(short["m"]), int(short["d"]))
        except ValueError:
            raise InputError(f"{path}: the file name's date does not exist") from None
        need = "give --year (the name has no year)" if short else "give --date YYYY-MM-DD"
        raise InputError(f"{path}: its times have no date (e.g. 10:01:15); {need}")


def file_day(date: str | None, year: int | None) -> FileDay:
    """``--date`` / ``--year`` checked: ``file_day("2024-05-09", None).date`` is 2024-05-09."""
    if date is None:
        return FileDay(None, year)
    try:
        return FileDay(dt.date.fromisoformat(date), year)
    except ValueError:
        raise InputError(f"--date {date}: expected a day YYYY-MM-DD") from None
