"""The analysis indexes the cells once: on random small runs, what it finds per cell (its
baseline, its runner's smallest setting, memory per worker, speed-up), per task and per level,
and the bootstrap's interval are what a plain scan of every cell (and plain resampling) finds."""

from __future__ import annotations

import random
import statistics
from typing import TYPE_CHECKING

from hypothesis import given
from hypothesis import strategies as st
from lab_builders import KINDS, MIB, cell, results

from lab.results.analysis import (
    Estimate,
    analyse,
    is_baseline,
    job_times,
    measured,
    peak_spread,
    reached,
)
from lab.results.bootstrap import SEED
from lab.results.model import SWEEP
from lab.results.selection import fastest, jobs_time
from lab.results.stats import Interval, ratio_of_medians
from lab.results.status import timeout
from lab.results.sweep import KEEPING_UP, KeepingUp, keeping_up
from lab.runner import EVENT_LOOP, THREADS, Layout

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from lab.results.analysis import CellAnalysis
    from lab.results.model import Cell, Results

BOUNDS = {"a": "cpu", "b": "io", "c": "transfer"}


@st.composite
def runs(draw: st.DrawFn) -> Results:
    """A run of up to 14 cells over up to three tasks, four runners, two interpreters and four
    worker settings, some failed, n/a or not run, with peaks that vary run to run."""
    labels = draw(st.sampled_from([[""], ["3.11", "3.13t"]]))
    found = []
    for _ in range(draw(st.integers(min_value=1, max_value=14))):
        runner = draw(st.sampled_from(sorted(KINDS)))
        workers = 1 if runner == "single" else draw(st.integers(min_value=1, max_value=4))
        task = draw(st.sampled_from(sorted(BOUNDS)))
        spans = draw(st.lists(st.sampled_from([0.02, 0.05, 0.1, 0.2]), max_size=3))
        made = cell(runner, Layout(threads=workers), spans, task=task, bound=BOUNDS[task])
        made.interpreter = draw(st.sampled_from(labels))
        for run in made.samples:
            run.peak_memory = draw(st.integers(min_value=10, max_value=40)) * MIB
        fate = draw(st.sampled_from(["measured"] * 4 + ["failed", "n/a"]))
        if fate == "failed":
            made.failure = timeout(5)
        elif fate == "n/a":
            made.not_applicable = "not here"
        found.append(made)
    run = results(found)
    if labels != [""]:
        run.interpreters = [{"label": label, "description": label} for label in labels]
    run.settings["kind"] = draw(st.sampled_from(["matrix", SWEEP]))
    run.settings["levels"] = [4]
    return run


def scanned_memory_per_worker(
    cell: Cell, cells: Sequence[Cell], resolution: int, units_of: Callable[[Cell], int]
) -> Estimate | None:
    """Memory per worker as a scan of every cell for each finds it: from the runner's smallest
    measured setting below this one, else from the baseline."""
    siblings = [
        c
        for c in cells
        if (c.task, c.runner, c.interpreter) == (cell.task, cell.runner, cell.interpreter)
    ]
    smaller = [
        c
        for c in siblings
        if c is not cell and measured(c) and c.layout.concurrency < cell.layout.concurrency
    ]
    baseline = scanned_baseline(cell, cells)
    if smaller:
        reference = min(smaller, key=lambda c: c.layout.concurrency)
        units = units_of(cell) - units_of(reference)
    elif baseline is not None and baseline is not cell and cell.layout.concurrency > 0:
        reference, units = baseline, units_of(cell)
    else:
        return None
    if units <= 0:
        return None
    rise = max(s.peak_memory for s in cell.samples) - max(s.peak_memory for s in reference.samples)
    noise = peak_spread(cell) + peak_spread(reference) + resolution
    return Estimate(rise / units, noise / units)


def scanned_baseline(cell: Cell, cells: Sequence[Cell]) -> Cell | None:
    """The first baseline of the cell's task and interpreter, scanning every cell."""
    return next(
        (
            c
            for c in cells
            if c.task == cell.task and c.interpreter == cell.interpreter and is_baseline(c)
        ),
        None,
    )


@given(runs())
def test_each_cells_baseline_and_memory_per_worker_are_what_a_scan_finds(run: Results) -> None:
    units_of = reached if run.kind == SWEEP else (lambda c: c.layout.concurrency)
    resolution = run.metadata.memory_resolution
    for analysed in analyse(run).cells:
        found = analysed.figures
        if found is None:
            continue
        expected = scanned_memory_per_worker(analysed.cell, run.cells, resolution, units_of)
        assert found.memory_per_worker == expected
        baseline = scanned_baseline(analysed.cell, run.cells)
        if analysed.cell.bound == "transfer" or baseline is None:
            assert found.speedup is None
        elif baseline is analysed.cell:
            assert found.speedup == 1.0
        else:
            times = job_times(analysed.cell)
            speedup = statistics.median(job_times(baseline)) / statistics.median(times)
            assert found.speedup == speedup


@given(runs())
def test_a_tasks_cells_baseline_and_kinds_are_what_a_scan_finds(run: Results) -> None:
    analysis = analyse(run)
    assert [a.cell for a in analysis.cells] == run.cells
    assert analysis.kinds == tuple(dict.fromkeys(c.kind for c in run.cells))
    for task in [*BOUNDS, "none"]:
        cells = [a for a in analysis.cells if a.cell.task == task]
        assert analysis.task(task) == cells
        assert analysis.baseline(task) == next((a for a in cells if is_baseline(a.cell)), None)
        for label in run.interpreter_labels:
            assert analysis.task_on(task, label) == [
                a for a in cells if a.cell.interpreter == label
            ]


@given(runs())
def test_threads_keeping_up_is_what_a_scan_of_each_level_finds(run: Results) -> None:
    for made in run.cells:
        made.jobs = made.layout.concurrency  # a sweep's level: as many jobs as workers
        if made.kind == "processes":
            made.kind = EVENT_LOOP
    cells = [a for a in analyse(run).cells if a.figures is not None]
    assert keeping_up(cells) == scanned_keeping_up(cells)


def scanned_keeping_up(cells: Sequence[CellAnalysis]) -> KeepingUp | None:
    """Threads against the event loops, scanning every cell for each level."""
    levels = sorted({a.cell.jobs for a in cells})
    last: tuple[CellAnalysis, CellAnalysis] | None = None
    for level in levels:
        threads = [a for a in cells if a.cell.jobs == level and a.cell.kind == THREADS]
        loops = [a for a in cells if a.cell.jobs == level and a.cell.kind == EVENT_LOOP]
        if not threads or not loops:
            continue
        last = fastest(threads), fastest(loops)
        if jobs_time(last[0]) > jobs_time(last[1]) * (1 + KEEPING_UP):
            return KeepingUp(False, level, *last)
    return None if last is None else KeepingUp(True, last[0].cell.jobs, *last)


times = st.lists(
    st.sampled_from([0.1, 0.2, 0.25, 1.0]) | st.floats(min_value=0.01, max_value=2.0),
    min_size=1,
    max_size=7,
)


@given(times, times, st.sampled_from([0.95, 0.9, 0.5]), st.sampled_from([2000, 100, 7]))
def test_the_interval_is_that_of_plain_resampling(
    numerator: list[float], denominator: list[float], confidence: float, resamples: int
) -> None:
    expected = resampled_ratio(numerator, denominator, confidence, resamples)
    assert ratio_of_medians(numerator, denominator, confidence, resamples) == expected


def resampled_ratio(
    numerator: list[float], denominator: list[float], confidence: float, resamples: int
) -> Interval | None:
    """The percentile-bootstrap interval, resampling each time and sorting every ratio."""
    if len(numerator) < 2 or len(denominator) < 2:
        return None
    point = statistics.median(numerator) / statistics.median(denominator)
    rng = random.Random(SEED)
    ratios = sorted(
        statistics.median(rng.choices(numerator, k=len(numerator)))
        / statistics.median(rng.choices(denominator, k=len(denominator)))
        for _ in range(resamples)
    )
    tail = (1 - confidence) / 2
    low = ratios[int(tail * (resamples - 1))]
    high = ratios[int((1 - tail) * (resamples - 1) + 0.5)]
    return Interval(point, min(low, point), max(high, point), confidence)
