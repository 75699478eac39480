"""The error every reader raises for an input that cannot be used at all."""

from __future__ import annotations

import re

#: DuckDB detail lines that are not the cause: the offending text, hints, a caret, options.
_NOISE = re.compile(r"(Original Line|LINE \d|\^|\w+ = )")
_ADVICE = re.compile(r"[:.,;]?\s*\b(Try |Consider |Possible fixes|HINT:).*$")


class InputError(ValueError):
    """An input that cannot be used at all; ``str()`` is the one-line message for the user."""


def engine_message(exc: BaseException) -> str:
    """DuckDB's error text as one line, keeping the cause, not only its first line.

    DuckDB puts the position first (``CSV Error on Line: 6``) and the cause on the next
    line (``Maximum line size of 2000000 bytes exceeded``); its option dump after a blank
    line and its "Possible fixes" (options of DuckDB, not of kefu) are left out.

    >>> engine_message(ValueError("CSV Error on Line: 6\\nMaximum line size exceeded\\n\\n"))
    'CSV Error on Line: 6: Maximum line size exceeded'
    """
    kept = []
    for line in str(exc).strip().splitlines():
        line = line.strip()
        if not line or line.startswith(
            ("Possible fixes", "Possible Solution", "*", "file =", "The search space")
        ):
            break
        if _NOISE.match(line):
            continue  # the offending input itself, which may be megabytes long
        # DuckDB's advice names DuckDB's options, which kefu does not have.
        line = _ADVICE.sub("", line).strip()
        kept.append(line.rstrip(".:")[:300])
    return ": ".join(kept[:3]) or type(exc).__name__
