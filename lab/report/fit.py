"""Tables and lines that fit the reader's terminal: columns dropped in a stated order, long
text wrapped, numbers right-aligned."""

from __future__ import annotations

import bisect
import shutil
import textwrap
from dataclasses import dataclass, replace

import tabulate as tabulate_module
from tabulate import tabulate

#: The width when the output is not a terminal (a file, a pipe): what a reader's editor or a
#: code review shows without wrapping.
DEFAULT_WIDTH = 100
#: Text columns are never wrapped narrower than this.
MIN_TEXT_WIDTH = 16
#: How many characters a wrapping column loses at each try.
WRAP_STEP = 4
#: The formats whose lines are the values as they are, padded and joined: a table's width then
#: follows from its columns' widest values. Others (HTML, LaTeX) escape what they show.
PADDED_FORMATS = frozenset(
    {"plain", "simple", "github", "pipe", "orgtbl", "psql", "presto", "pretty", "rst", "jira"}
    | {"grid", "simple_grid", "rounded_grid", "heavy_grid", "mixed_grid", "double_grid"}
    | {"fancy_grid", "outline", "simple_outline", "rounded_outline", "heavy_outline"}
    | {"mixed_outline", "double_outline", "fancy_outline", "tsv"}
)


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
    (``None``: every column, nothing wrapped). Each try is measured on a few values a column
    (:func:`_sample`), and the table rendered whole once."""
    if width is None:
        return _render(columns, tablefmt)
    sampled = dict(zip(map(id, columns), _sample(columns, tablefmt), strict=True))
    shown = list(columns)
    droppable = sorted((c for c in columns if c.drop is not None), key=lambda c: c.drop or 0)
    while _width([sampled[id(c)] for c in shown], tablefmt) > width and droppable:
        shown.remove(droppable.pop(0))
    # Narrow the widest wrapping column, a few characters at a time, until the table fits: the
    # first of the narrowings that fits, found by halving (each wraps to at most the widths of
    # the one before it), or the last. Unwrapped, the table may be narrower than wrapped at its
    # widest values (tabulate closes an escape code where it wraps): that is tried first.
    measured = [sampled[id(c)] for c in shown]
    tries = _narrowings(
        {i: widest("\n".join([c.header, *c.values])) for i, c in enumerate(shown) if c.wrap}
    )
    if len(tries) == 1 or _width(measured, tablefmt, None) <= width:
        return _render(shown, tablefmt, None)
    first = bisect.bisect_left(
        range(1, len(tries)), True, key=lambda n: _width(measured, tablefmt, tries[n]) <= width
    )
    return _render(shown, tablefmt, tries[min(first + 1, len(tries) - 1)])


def _narrowings(limits: dict[int, int]) -> list[dict[int, int] | None]:
    """The wrapping widths to try in turn: none, then the widest column narrowed by
    :data:`WRAP_STEP` at each try (the first of equals), down to :data:`MIN_TEXT_WIDTH`."""
    tries: list[dict[int, int] | None] = [None]
    while limits and max(limits.values()) > MIN_TEXT_WIDTH:
        widest = max(limits, key=lambda i: limits[i])
        limits[widest] = max(MIN_TEXT_WIDTH, limits[widest] - WRAP_STEP)
        tries.append(dict(limits))
    return tries


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


def _width(columns: list[Column], tablefmt: str, widths: dict[int, int] | None = None) -> int:
    return widest(_render(columns, tablefmt, widths)) if columns else 0


def _sample(columns: list[Column], tablefmt: str) -> list[Column]:
    """``columns`` with only the values that can set the table's width, blanks filling the
    shorter: tabulate makes a column as wide as its widest value (or header), whichever row
    holds it, and each line as wide as the columns before its last value. Each column keeps its
    longest value, stripped or not (tabulate strips what it aligns), or where it wraps (a
    wrapped value is not as wide as it is long) each distinct value. Where tabulate measures a
    value by more than its length (a line break or an escape code: anything unprintable; a wide
    character), or the format escapes it (not one of :data:`PADDED_FORMATS`), every row is
    kept."""
    text = "".join([c.header for c in columns] + [v for c in columns for v in c.values])
    wide = tabulate_module.WIDE_CHARS_MODE and not text.isascii()
    if tablefmt not in PADDED_FORMATS or not text.isprintable() or wide:
        return columns
    kept = [list(dict.fromkeys(c.values)) if c.wrap else _longest(c.values) for c in columns]
    rows = max(map(len, kept), default=0)
    return [
        replace(c, values=values + [""] * (rows - len(values)))
        for c, values in zip(columns, kept, strict=True)
    ]


def _longest(values: list[str]) -> list[str]:
    """The longest of ``values`` and the longest stripped (the first of equals; one value
    where it is both)."""
    if not values:
        return []
    return list(dict.fromkeys([max(values, key=len), max(values, key=lambda v: len(v.strip()))]))


def widest(text: str) -> int:
    """The length of ``text``'s longest line."""
    return max((len(line) for line in text.splitlines()), default=0)
