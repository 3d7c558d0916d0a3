"""A table as the HTML page takes it: headers, which columns are numbers, rows of text, and
whether it is long enough to be paged."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lab.report.fit import Column

#: Past this many rows a table is handed to the page as data and shown a page at a time (its
#: first this many rows written out for reading without scripts and for paper), rather than
#: written out row by row (a run of 10,000 cells stays quick to open).
PAGED_FROM = 200


def table(columns: list[Column]) -> dict[str, Any]:
    """The table of ``columns`` (numeric ones right-aligned)."""
    rows = [list(row) for row in zip(*(c.values for c in columns), strict=True)]
    return _table([c.header for c in columns], [c.numeric for c in columns], rows)


def text_table(headers: list[str], rows: list[list[str]]) -> dict[str, Any]:
    """A table of words (no numbers to right-align)."""
    return _table(headers, [False] * len(headers), rows)


def _table(headers: list[str], numeric: list[bool], rows: list[list[str]]) -> dict[str, Any]:
    return {"headers": headers, "numeric": numeric, "rows": rows, "paged": len(rows) > PAGED_FROM}
