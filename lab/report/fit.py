"""Tables and lines that fit the reader's terminal: columns dropped in a stated order, long
text wrapped, numbers right-aligned."""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass

from tabulate import tabulate

#: The width when the output is not a terminal (a file, a pipe): what a reader's editor or a
#: code review shows without wrapping.
DEFAULT_WIDTH = 100
#: Text columns are never wrapped narrower than this.
MIN_TEXT_WIDTH = 16
#: How many characters a wrapping column loses at each try.
WRAP_STEP = 4


def terminal_width() -> int:
    """The terminal's columns (``COLUMNS`` when set), else :data:`DEFAULT_WIDTH`."""
    return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns


@dataclass(frozen=True)
class Column:
    """One column of a table.

    :param numeric: right-aligned.
    :param drop: the order in which columns go when the table is too wide (1 goes first);
        ``None``: never dropped.
    :param wrap: text that may wrap over lines to fit.
    """

    header: str
    values: list[str]
    numeric: bool = False
    drop: int | None = None
    wrap: bool = False


def fit_table(columns: list[Column], width: int | None, tablefmt: str) -> str:
    """The table, within ``width`` columns where dropping and wrapping can make it so
    (``None``: every column, nothing wrapped)."""
    shown = list(columns)
    if width is not None:
        droppable = sorted((c for c in columns if c.drop is not None), key=lambda c: c.drop or 0)
        while _width(shown, tablefmt) > width and droppable:
            shown.remove(droppable.pop(0))
    text = _render(shown, tablefmt)
    if width is None:
        return text
    # Narrow the widest wrapping column, a few characters at a time, until the table fits.
    limits = {i: _widest("\n".join([c.header, *c.values])) for i, c in enumerate(shown) if c.wrap}
    while _widest(text) > width and limits and max(limits.values()) > MIN_TEXT_WIDTH:
        widest = max(limits, key=lambda i: limits[i])
        limits[widest] = max(MIN_TEXT_WIDTH, limits[widest] - WRAP_STEP)
        text = _render(shown, tablefmt, limits)
    return text


def wrap_lines(text: str, width: int | None, indent: str = "  ") -> str:
    """Each line of ``text`` wrapped to ``width`` (continuations indented); as it is for
    ``None``."""
    if width is None:
        return text
    wrapped = [
        textwrap.fill(line, width, subsequent_indent=indent, break_on_hyphens=False)
        if len(line) > width
        else line
        for line in text.splitlines()
    ]
    return "\n".join(wrapped)


def join_fitting(parts: list[str], width: int | None, separator: str = " · ") -> list[str]:
    """``parts`` joined by ``separator`` into as few lines as fit ``width``."""
    if width is None:
        return [separator.join(parts)] if parts else []
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + len(separator) + len(part) <= width:
            lines[-1] += separator + part
        else:
            lines.append(part)
    return lines


def _render(columns: list[Column], tablefmt: str, widths: dict[int, int] | None = None) -> str:
    rows = list(zip(*(c.values for c in columns), strict=True))
    maxcolwidths: list[int | None] | None = None
    if widths:
        maxcolwidths = [widths.get(i) for i in range(len(columns))]
    return tabulate(
        rows,
        headers=[c.header for c in columns],
        tablefmt=tablefmt,
        disable_numparse=True,
        colalign=["right" if c.numeric else "left" for c in columns],
        maxcolwidths=maxcolwidths,
    )


def _width(columns: list[Column], tablefmt: str) -> int:
    return _widest(_render(columns, tablefmt)) if columns else 0


def _widest(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)
