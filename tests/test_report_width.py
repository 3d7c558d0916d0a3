"""The report fits the reader's terminal: columns give way in order, long text wraps or becomes
notes, cells that do not apply are one line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from lab_builders import cell, results

from lab.report.fit import Column, fit_table
from lab.report.terminal import render
from lab.results.model import Results
from lab.results.status import Kind, Status
from lab.runner import EVENT_LOOP, PROCESSES_THREADS, Layout


def _run() -> Results:
    cells = [
        cell("single", Layout(), [1.0, 1.0, 1.0]),
        cell("threads", Layout(threads=2), [1.0, 1.1, 0.9]),
        cell("processes", Layout(processes=2), [0.5, 0.5, 0.5]),
        cell("threads-in-processes", Layout(processes=2, threads=2), [0.5, 0.6, 0.5],
             kind=PROCESSES_THREADS),
        cell("asyncio", Layout(tasks=2), [], kind=EVENT_LOOP,
             not_applicable="CPU-bound work blocks the event loop"),
        cell("uvloop", Layout(tasks=2), [], kind=EVENT_LOOP,
             not_applicable="CPU-bound work blocks the event loop"),
    ]  # fmt: skip
    return results(cells)


def test_the_default_report_fits_100_columns_and_wide_has_every_column() -> None:
    run = _run()
    text = render(run, "simple", 100)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "n/a on asyncio, uvloop: CPU-bound work blocks the event loop" in text
    assert "threads-in-processes  2x2" in text
    wide = render(run, "simple", 100, wide=True)
    assert "+ per worker" in wide and "cores used" in wide
    assert "+ per worker" not in text


def test_a_long_status_becomes_a_numbered_note() -> None:
    run = _run()
    run.cells[1].failure = Status(Kind.ERROR, "job 1 never ran (and 2 more problems)")
    text = render(run, "simple", 100)
    assert "error [1]" in text
    assert "[1] threads 2: error: job 1 never ran (and 2 more problems)" in text


@given(st.integers(min_value=40, max_value=200))
def test_columns_give_way_in_their_order_until_the_table_fits(width: int) -> None:
    columns = [
        Column("name", ["threads-in-processes"]),
        Column("a number", ["1.234"], numeric=True),
        Column("first to go", ["x" * 30], drop=1),
        Column("second to go", ["y" * 30], drop=2),
        Column("text", ["words " * 12], wrap=True),
    ]
    table = fit_table(columns, width, "simple")
    widest = max(len(line) for line in table.splitlines())
    assert widest <= max(width, 20 + 2 + 8 + 2 + 16)  # what cannot go: name, number, 16 text
    if "first to go" in table:
        assert "second to go" in table
