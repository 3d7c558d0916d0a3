"""The classic comparison restated with a run's figures: each claim holds, is contradicted or
was not measured, by what the cells declare."""

from __future__ import annotations

from lab_builders import cell, results, sample

from lab.report.classic import CONTRADICTED, HOLDS, NOT_MEASURED, classic_rows
from lab.results.analysis import analyse
from lab.runner import PROCESSES, THREADS, Layout


def _rows(threads_span: float, gil: bool) -> dict[str, tuple[str, str]]:
    cells = [
        cell("single", Layout(), [1.0, 1.0, 1.0]),
        cell("threads", Layout(threads=2), [threads_span] * 3, kind=THREADS),
        cell("processes", Layout(processes=2), [0.5, 0.5, 0.5], kind=PROCESSES),
    ]
    for c in cells:
        c.samples = [sample(s.job_span) for s in c.samples]
        for s in c.samples:
            s.gil_enabled = gil
    run = results(cells, gil_enabled=gil)
    return {r.aspect: (r.evidence, r.verdict) for r in classic_rows(analyse(run))}


def test_with_the_gil_threads_interleave_and_the_claims_hold() -> None:
    rows = _rows(threads_span=1.0, gil=True)
    assert rows["the GIL"] == ("2 threads 1.00x with the GIL on", HOLDS)  # no label: the lab's
    assert rows["concurrency or parallelism"][1] == HOLDS
    assert rows["use cases"][1] == HOLDS
    assert rows["synchronization"][1] == NOT_MEASURED


def test_without_the_gil_threads_in_parallel_contradict_the_claims() -> None:
    rows = _rows(threads_span=0.5, gil=False)
    assert rows["the GIL"] == ("2 threads 2.00x with the GIL off", CONTRADICTED)
    assert rows["concurrency or parallelism"][1] == CONTRADICTED
