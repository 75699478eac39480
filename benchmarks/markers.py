"""A benchmark's table in its doc: the text between ``<!-- NAME-results:start -->`` and
``<!-- NAME-results:end -->`` is replaced by the latest run's."""

from __future__ import annotations

from pathlib import Path


def write_results(doc: Path, name: str, markdown: str) -> None:
    """Put ``markdown`` between ``doc``'s ``name`` markers (which must be there)."""
    start, end = f"<!-- {name}-results:start -->", f"<!-- {name}-results:end -->"
    text = doc.read_text("utf-8")
    if start not in text or end not in text:
        raise SystemExit(f"{doc}: no {start} … {end} markers to write the table between")
    head, rest = text.split(start, 1)
    doc.write_text(head + f"{start}\n{markdown}\n{end}" + rest.split(end, 1)[1], "utf-8")
