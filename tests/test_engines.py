"""A distributed engine beside a local process pool (lab.results.engines and its report): the
handovers read from the job records, the intercept and slope, start-up, memory and the job
size from which the engine pays, on results built by hand."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lab_builders import MIB, cell, results, run_of

from lab.boundary.measurement import Measurement
from lab.jobs import JobRecord
from lab.records import Records
from lab.report.engines import ENGINES_TITLE, engine_rows, render_engines
from lab.report.html.content import results_content
from lab.report.markdown_csv import to_markdown
from lab.report.table import REMOTE_LEGEND
from lab.report.terminal import render
from lab.report.verdict import verdict_rows
from lab.results.analysis import analyse
from lab.results.engines import engine_costs, handovers
from lab.results.journal import load
from lab.results.model import Cell, Results, Sample
from lab.run.supervisor import others_peak
from lab.runner import PROCESSES, Layout


def record(index: int, pid: int, start: float, end: float, host: str = "") -> JobRecord:
    return JobRecord(index, pid, f"P{pid}", "MainThread", 1, start, end, None, host=host)


def run(jobs: list[tuple[int, float, float]], wall: float, peak: int = 40 * MIB) -> Sample:
    """A run whose jobs ran (worker pid, start, end) and that took ``wall`` in all."""
    return run_of(
        [record(i, pid, start, end) for i, (pid, start, end) in enumerate(jobs)], wall, peak
    )


def on_two_workers(gap: float, job: float = 0.1) -> list[tuple[int, float, float]]:
    """Four jobs on two workers, each worker waiting ``gap`` between its two jobs."""
    return [
        (1, 0.0, job),
        (2, 0.0, job),
        (1, job + gap, 2 * job + gap),
        (2, job + gap, 2 * job + gap),
    ]


def with_runs(base: Cell, *runs: Sample, startup: float = 0.2) -> Cell:
    return replace(base, samples=[replace(r, startup=startup) for r in runs])


def engine_results(
    engine_gap: float = 0.004,
    pool_gap: float = 0.001,
    engine_peak: int = 140 * MIB,
    distributed: bool = True,
    bound: str = "cpu",
    outside: bool = False,
    task: str = "cpu",
) -> Results:
    """The baseline, a process pool of 2 workers and an engine of 2 (``grid``)."""
    single = cell("single", Layout(), [0.4, 0.4, 0.4], bound=bound, task=task)
    pool = with_runs(
        cell("processes", Layout(processes=2), [0.2], bound=bound, task=task),
        *[
            replace(
                run(on_two_workers(pool_gap), 0.2 + pool_gap + 0.01), others_peak_memory=5 * MIB
            )
            for _ in range(3)
        ],
    )
    runs = [
        replace(
            run(on_two_workers(engine_gap), 0.2 + engine_gap + 0.05, engine_peak),
            others_peak_memory=35 * MIB,
        )
        for _ in range(3)
    ]
    if outside:
        runs = [replace(r, outside_tree=True) for r in runs]
    grid = with_runs(
        cell("grid", Layout(processes=2), [0.2], bound=bound, kind=PROCESSES, task=task),
        *runs,
        startup=3.0,
    )
    grid = replace(grid, distributed=distributed)
    return results([single, pool, grid])


def test_handovers_are_each_workers_wait_between_its_jobs() -> None:
    records = Records.of(
        [
            record(0, 1, 0.0, 1.0),
            record(1, 2, 0.0, 1.5),
            record(2, 1, 1.25, 2.0),  # worker 1 waited 0.25
            record(3, 2, 1.5, 2.5),  # worker 2 did not wait
            record(4, 1, 2.5, 3.0),  # worker 1 waited 0.5
        ]
    )
    assert sorted(handovers(records)) == [0.0, 0.25, 0.5]


def test_workers_on_two_hosts_are_told_apart() -> None:
    records = Records.of([record(0, 1, 0.0, 1.0, "a"), record(1, 1, 0.0, 1.0, "b")])
    assert handovers(records) == []


@given(
    st.lists(
        st.tuples(st.integers(1, 3), st.floats(0, 100), st.floats(0, 10)), min_size=1, max_size=30
    )
)
def test_a_handover_is_never_negative_and_each_later_job_of_a_worker_has_one(
    jobs: list[tuple[int, float, float]],
) -> None:
    records = Records.of(
        [record(i, pid, start, start + d) for i, (pid, start, d) in enumerate(jobs)]
    )
    found = handovers(records)
    assert all(gap >= 0 for gap in found)
    assert len(found) == len(jobs) - len({pid for pid, _, _ in jobs})


def test_an_engine_is_set_beside_the_pool_of_as_many_workers() -> None:
    (found,) = engine_costs(analyse(engine_results()))
    assert found.engine.cell.runner == "grid"
    assert found.pool.cell.runner == "processes"
    assert found.handover == pytest.approx(0.004)
    assert found.per_job == pytest.approx(0.003)
    assert found.per_run == pytest.approx(0.04)
    assert found.memory == 100 * MIB
    assert found.own_memory == 30 * MIB
    assert found.parallel == 2
    assert found.pays_from == pytest.approx(0.004)


def test_a_runner_that_is_not_distributed_gets_no_engine_row() -> None:
    assert engine_costs(analyse(engine_results(distributed=False))) == ()


def test_an_engine_without_a_pool_of_its_concurrency_gets_no_row() -> None:
    found = engine_results()
    found.cells[:] = [c for c in found.cells if c.runner != "processes"]
    assert engine_costs(analyse(found)) == ()


def test_an_engine_on_a_remote_cluster_has_no_memory_beside_the_pool() -> None:
    (found,) = engine_costs(analyse(engine_results(outside=True)))
    assert found.memory is None
    assert found.own_memory is None


def test_remote_is_explained_in_the_terminal_and_markdown_legends() -> None:
    built = engine_results(outside=True)
    assert REMOTE_LEGEND in render(built, "simple", None)
    assert REMOTE_LEGEND in to_markdown(built)
    assert REMOTE_LEGEND not in to_markdown(engine_results())


def test_a_transfer_is_not_judged_against_one_job_at_a_time() -> None:
    (found,) = engine_costs(analyse(engine_results(bound="transfer")))
    assert found.pays_from is None
    assert found.per_job == pytest.approx(0.003)


def test_an_engine_does_not_speak_for_its_kind_in_the_verdict() -> None:
    """The engine is the faster of the two 2-process cells here; the verdict's "processes"
    row still cites the local pool."""
    built = engine_results()
    for c in built.cells:
        if c.runner == "grid":
            c.samples[:] = [replace(s, job_span=0.19) for s in c.samples]
    rows = dict(verdict_rows(analyse(built)))
    assert "grid" not in rows["processes on CPU-bound work"]


def test_the_engines_table_is_in_the_terminal_markdown_and_page_reports() -> None:
    built = engine_results()
    analysis = analyse(built)
    (row,) = engine_rows(engine_costs(analysis))
    assert row[:3] == ["grid 2", "cpu", "processes 2"]
    assert row[3] == "+3.00 ms"
    assert row[8] == "4.00 ms"
    assert row[6] == "+30.0 MiB"
    assert row[7] == "+100.0 MiB"
    text = render_engines(analysis, "simple", 100)
    assert text.startswith(ENGINES_TITLE)
    assert all(len(line) <= 100 for line in text.splitlines())
    assert "## Distributed engines beside a process pool" in to_markdown(built)
    titles = [v["title"] for v in results_content(built)["verdicts"]]
    assert ENGINES_TITLE.rstrip(":") in titles


@pytest.mark.parametrize("width", [80, 100])
def test_the_engines_table_fits_the_terminal_with_a_long_task_name(width: int) -> None:
    built = engine_results(task="examples/own-work/work.py:parse")
    text = render_engines(analyse(built), "simple", width)
    assert max(len(line) for line in text.splitlines()) <= width


def test_without_an_engine_no_table_is_shown() -> None:
    analysis = analyse(engine_results(distributed=False))
    assert render_engines(analysis, "simple", 100) == ""


def test_a_distributed_cell_is_saved_and_read_back_as_one(tmp_path: Path) -> None:
    built = engine_results()
    path = tmp_path / "run.json"
    path.write_text(built.to_json())
    cells = json.loads(path.read_text())["cells"]
    assert [c.get("distributed") for c in cells] == [None, None, True]
    assert [c.distributed for c in load(path).cells] == [False, False, True]


def measurement(pids: list[int], host: str = "", **fields: Any) -> Measurement:
    records = [record(i, pid, 0.0, 1.0, host) for i, pid in enumerate(pids)]
    return Measurement(records=records, **fields)


def test_the_engines_own_memory_is_its_processes_that_ran_no_job() -> None:
    """The processes that ran jobs (11, 12) are left out, and the task's server (13); what
    remains (the cell's own 10, a raylet 20, a nanny 21) is the engine's own."""
    samples = [{10: 5, 11: 100, 12: 100, 13: 7, 20: 40, 21: 2}, {10: 5, 20: 30, 21: 30}]
    assert others_peak(samples, measurement([11, 12, 11], session_pids=[13])) == 65
    assert others_peak(samples, measurement([10, 11, 12])) == 60  # 13: not the session here


def test_no_own_memory_where_the_jobs_ran_outside_the_tree() -> None:
    samples = [{10: 5, 20: 40}]
    assert others_peak(samples, measurement([11], outside_tree=True)) is None
    assert others_peak(samples, measurement([11], host="elsewhere")) is None
    assert others_peak(samples, measurement([])) is None
