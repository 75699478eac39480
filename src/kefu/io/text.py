"""Text inputs as DuckDB's CSV and JSON readers need them: UTF-8, a CR only before an LF.

Chinese workbench exports are often GB18030/GBK, and DuckDB reads UTF-8 only; a bare
carriage return inside a field (twcs tweet 3399 holds two) is taken for a line end by every
CSV reader, so one record would be read as two. :func:`readable_text` gives the path of a
version without either problem: the file itself when it has none (the common case, no
copy), otherwise a temporary UTF-8 copy written by streaming — fixed-size chunks through an
incremental decoder, so memory does not grow with the file — where each bare CR is replaced
by a private-use stand-in that the caller turns back into ``chr(13)`` after reading. The
copy is deleted when the ``with`` block ends.

>>> with readable_text(Path("messages.csv")) as text:  # doctest: +SKIP
...     text.path, text.stand_in
(PosixPath('messages.csv'), None)
"""

from __future__ import annotations

import codecs
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kefu.io.errors import InputError

_CHUNK = 1 << 24
_LONE_CR = re.compile(r"\r(?!\n)")
_INNER_CR = re.compile(r"\r(?=[^\n])")
#: Stand-ins for a bare carriage return inside a record (private-use characters).
_STAND_INS = tuple(chr(0xE000 + i) for i in range(16))


@dataclass(frozen=True)
class TextSource:
    """What to read: ``path`` (UTF-8); ``stand_in`` replaced each bare CR, if any was found."""

    path: Path
    stand_in: str | None


def _chunks(path: Path, encoding: str) -> Iterator[str]:
    """The file's text in chunks; a multi-byte character is never split between two."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            yield decoder.decode(chunk)
        yield decoder.decode(b"", final=True)


def _scan(path: Path) -> tuple[str, bool, set[str]]:
    """(encoding, holds a bare CR, stand-ins already present), in one streaming pass."""
    for encoding in ("utf-8", "gb18030"):
        lone, seen, tail = False, set(), ""
        try:
            for text in _chunks(path, encoding):
                window = tail + text
                # A CR at the window's end is judged with the next chunk (its tail).
                lone = lone or _INNER_CR.search(window) is not None
                seen |= {s for s in _STAND_INS if s in window}
                tail = window[-1:]
        except UnicodeDecodeError:
            continue
        return encoding, lone, seen
    raise InputError(f"{path}: text is neither UTF-8 nor GB18030/GBK")


def _write_copy(path: Path, encoding: str, stand_in: str | None) -> Path:
    """A temporary UTF-8 copy of ``path``, bare CRs replaced by ``stand_in``."""
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", newline="", suffix=path.suffix, prefix="kefu-utf8-", delete=False
    ) as tmp:
        carry = ""
        for text in _chunks(path, encoding):
            window = carry + text
            carry = "\r" if window.endswith("\r") else ""
            window = window[: len(window) - len(carry)]
            tmp.write(_LONE_CR.sub(stand_in, window) if stand_in else window)
        tmp.write(carry)
    return Path(tmp.name)


@contextmanager
def readable_text(path: Path) -> Iterator[TextSource]:
    """The path of a UTF-8 version of ``path`` without bare CRs, for the ``with`` block.

    A file that is neither UTF-8 nor GB18030 raises :class:`InputError`.
    """
    encoding, lone, seen = _scan(path)
    free = [s for s in _STAND_INS if s not in seen]
    if lone and not free:
        raise InputError(f"{path}: cannot read bare carriage returns in this file")
    stand_in = free[0] if lone else None
    if encoding == "utf-8" and stand_in is None:
        yield TextSource(path, None)
        return
    copy = _write_copy(path, encoding, stand_in)
    try:
        yield TextSource(copy, stand_in)
    finally:
        copy.unlink(missing_ok=True)
