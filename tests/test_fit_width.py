"""A table is measured on a few values a column, not rendered whole for each column dropped and
each wrap tried: on random tables it fits as measuring the whole table every time does."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from lab.report.fit import MIN_TEXT_WIDTH, WRAP_STEP, Column, _render, fit_table, widest

#: Characters of the reports' values, and some tabulate measures by more than their length.
PIECES = [*"ab 1.2x%±≤µ→-&_", "  ", "漢", "\n", "\x1b[1m", "\u0301"]
TEXT = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
FORMATS = st.sampled_from(["simple", "github", "grid", "pretty", "plain", "psql", "html", "latex"])


@st.composite
def tables(draw: st.DrawFn) -> list[Column]:
    rows = draw(st.integers(min_value=0, max_value=8))
    return [
        Column(
            draw(st.text(st.sampled_from(list("abc µ")), min_size=1, max_size=8)),
            draw(st.lists(TEXT, min_size=rows, max_size=rows)),
            numeric=draw(st.booleans()),
            drop=draw(st.none() | st.integers(min_value=0, max_value=5)),
            wrap=draw(st.booleans()),
        )
        for _ in range(draw(st.integers(min_value=1, max_value=5)))
    ]


def fit_measuring_every_row(columns: list[Column], width: int | None, tablefmt: str) -> str:
    """:func:`fit_table` as it was: every column dropped and every wrap tried on the whole
    table."""
    shown = list(columns)
    if width is not None:
        droppable = sorted((c for c in columns if c.drop is not None), key=lambda c: c.drop or 0)
        while widest(_render(shown, tablefmt)) > width and droppable:
            shown.remove(droppable.pop(0))
    text = _render(shown, tablefmt)
    if width is None:
        return text
    limits = {i: widest("\n".join([c.header, *c.values])) for i, c in enumerate(shown) if c.wrap}
    while widest(text) > width and limits and max(limits.values()) > MIN_TEXT_WIDTH:
        narrowed = max(limits, key=lambda i: limits[i])
        limits[narrowed] = max(MIN_TEXT_WIDTH, limits[narrowed] - WRAP_STEP)
        text = _render(shown, tablefmt, limits)
    return text


ESCAPED = [Column("a", ["aaaa", "\x1b[1m"]), Column("a", ["a", "a"], drop=0)]
BROKEN = [Column("a", ["aaaa", "b\nb\nb"]), Column("a", ["a", "aa"], drop=0)]


@given(tables(), st.none() | st.integers(min_value=5, max_value=60), FORMATS)
@example(ESCAPED, 9, "simple")  # the longest value is not the widest: an escape is invisible
@example(BROKEN, 8, "simple")  # nor is it broken over lines
def test_a_table_fits_as_when_every_row_is_measured(
    columns: list[Column], width: int | None, tablefmt: str
) -> None:
    assert fit_table(columns, width, tablefmt) == fit_measuring_every_row(columns, width, tablefmt)
