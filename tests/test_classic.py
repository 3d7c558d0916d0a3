"""The classic comparison restated with a run's figures: each claim holds, is contradicted or
was not measured, by what the cells declare."""

from __future__ import annotations

from dataclasses import replace

import pytest
from lab_builders import cell, results, sample

from lab.report.classic import CONTRADICTED, HOLDS, NOT_MEASURED, classic_rows
from lab.results.analysis import analyse
from lab.results.model import Cell
from lab.runner import (
    EVENT_LOOP,
    INTERPRETERS,
    OTHER,
    PROCESSES,
    PROCESSES_THREADS,
    THREADS,
    Layout,
)


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


def _use_cases(cells: list[Cell]) -> tuple[str, str]:
    """The use-cases row's evidence and verdict, on a run of ``cells``."""
    rows = {r.aspect: (r.evidence, r.verdict) for r in classic_rows(analyse(results(cells)))}
    return rows["use cases"]


def _cpu(fastest: str = "processes", kind: str = PROCESSES, gil: bool = True) -> list[Cell]:
    """A CPU-bound task's baseline, 2 threads (1 s), 2 processes (0.55 s) and 2 workers of
    ``fastest`` (0.5 s; it replaces its namesake)."""
    found = {"threads": (THREADS, 1.0), "processes": (PROCESSES, 0.55), fastest: (kind, 0.5)}
    cells = [cell("single", Layout(), [1.0] * 3)]
    for runner, (of_kind, span) in found.items():
        layout = Layout(threads=2) if of_kind == THREADS else Layout(processes=2)
        cells.append(cell(runner, layout, [span] * 3, kind=of_kind))
    for c in cells:
        for s in c.samples:
            s.gil_enabled = gil
    return cells


def _io(runner: str, kind: str, layout: Layout, span: float) -> list[Cell]:
    """An IO-bound task's baseline and 2 threads (0.5 s), and ``runner`` taking ``span``."""
    return [
        cell("single", Layout(), [1.0] * 3, task="io", bound="io", size=0.25),
        cell("threads", Layout(threads=2), [0.5] * 3, task="io", bound="io", size=0.25),
        cell(runner, layout, [span] * 3, task="io", bound="io", size=0.25, kind=kind),
    ]


@pytest.mark.parametrize(
    ("runner", "kind", "said"),
    [
        ("third-party", OTHER, "third-party (of kind other)"),
        ("processes", PROCESSES, "processes"),
        ("subinterpreters", INTERPRETERS, "subinterpreters"),
    ],
)
def test_io_work_fastest_on_no_thread_or_event_loop_kind_does_not_hold(
    runner: str, kind: str, said: str
) -> None:
    layout = Layout(threads=4) if kind == INTERPRETERS else Layout(processes=4)
    evidence, verdict = _use_cases([*_cpu(), *_io(runner, kind, layout, 0.25)])
    assert verdict == "cpu holds, io does not"
    assert evidence == f"cpu: fastest processes; io: fastest {said}"


def test_cpu_work_fastest_on_free_threaded_threads_contradicts_the_use_cases() -> None:
    evidence, verdict = _use_cases(_cpu("thread-per-job", THREADS, gil=False))
    assert verdict == CONTRADICTED
    assert evidence == "cpu: fastest thread-per-job (threads)"


def test_when_cpu_and_io_disagree_on_one_interpreter_the_verdict_says_which_held() -> None:
    cells = [*_cpu("hash-threads", THREADS), *_io("asyncio", EVENT_LOOP, Layout(tasks=4), 0.25)]
    run = results(cells)
    run.tasks = [replace(t, releases_gil=t.bound == "cpu") for t in run.tasks]  # hashing, say
    rows = {r.aspect: (r.evidence, r.verdict) for r in classic_rows(analyse(run))}
    evidence, verdict = rows["use cases"]
    assert verdict == "io holds, cpu does not"  # was "holds on some interpreters, not all"
    assert evidence == "cpu: fastest hash-threads (threads); io: fastest asyncio"


def test_io_work_fastest_on_threads_or_an_event_loop_holds() -> None:
    for runner, kind, layout in [
        ("asyncio", EVENT_LOOP, Layout(tasks=4)),
        ("threads-in-processes", PROCESSES_THREADS, Layout(processes=2, threads=2)),
    ]:
        assert _use_cases([*_cpu(), *_io(runner, kind, layout, 0.25)])[1] == HOLDS
