"""Several job counts a cell in one matrix (``--jobs 4,16,64``): a cell for each, each set
beside the baseline of its own job count, the verdict and charts at the most jobs, the tables
with a jobs column, and each distributed engine's run time fitted across the counts."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from conftest import LabProcess
from lab_builders import cell, results, run_of

from lab.cli.options import job_counts
from lab.errors import UsageError
from lab.jobs import JobRecord
from lab.report.engines import fitted_lines, render_engines
from lab.report.table import render_task
from lab.results.analysis import analyse
from lab.results.engines import engine_costs
from lab.results.model import Cell, Sample
from lab.runner import PROCESSES, Layout

JOB = 0.01


def test_job_counts_are_whole_numbers_from_the_least_each_once() -> None:
    assert job_counts(None, 8) == (8,)
    assert job_counts("64,4,16", 8) == (4, 16, 64)
    with pytest.raises(UsageError, match="--jobs gives '4' and '04' twice"):
        job_counts("4,04", 8)
    with pytest.raises(UsageError, match="--jobs must be at least 1"):
        job_counts("4,0", 8)


def run(jobs: int, wall: float) -> Sample:
    """A run of ``jobs`` jobs of ``JOB`` s, taken in turn by two workers, lasting ``wall``."""
    records = [
        JobRecord(i, 1 + i % 2, "P", "MainThread", 1, (i // 2) * JOB, (i // 2 + 1) * JOB, None)
        for i in range(jobs)
    ]
    return run_of(records, wall)


def at(base: Cell, jobs: int, intercept: float, slope: float) -> Cell:
    """``base`` at ``jobs`` jobs, its three runs lasting ``intercept + slope x jobs``."""
    wall = intercept + slope * jobs
    return replace(base, jobs=jobs, samples=[run(jobs, wall) for _ in range(3)])


def fitted_results(counts: tuple[int, ...] = (4, 16)) -> list[Cell]:
    single = cell("single", Layout(), [1.0], bound="io")
    pool = cell("processes", Layout(processes=2), [0.5], bound="io")
    grid = replace(
        cell("grid", Layout(processes=2), [0.5], bound="io", kind=PROCESSES), distributed=True
    )
    cells = []
    for jobs in counts:
        cells.append(at(single, jobs, 0.0, JOB))
    for jobs in counts:
        cells.append(at(pool, jobs, 0.01, 0.004 + JOB / 2))
    for jobs in counts:
        cells.append(at(grid, jobs, 0.05, 0.006 + JOB / 2))
    return cells


def test_each_cell_is_set_beside_the_baseline_of_its_job_count() -> None:
    analysis = analyse(results(fitted_results()))
    speedups = {
        (a.cell.runner, a.cell.jobs): a.figures.speedup for a in analysis.cells if a.figures
    }
    assert speedups["single", 4] == speedups["single", 16] == 1.0
    assert speedups["processes", 4] == pytest.approx(1.0)  # each against its own count's
    assert speedups["processes", 16] == pytest.approx(1.0)


def test_the_verdict_and_charts_compare_the_cells_of_most_jobs() -> None:
    analysis = analyse(results(fitted_results()))
    assert {a.cell.jobs for a in analysis.compared.cells} == {16}
    one = analyse(results([c for c in fitted_results() if c.jobs == 4]))
    assert one.compared is one


def test_the_table_has_a_jobs_column_where_the_run_has_several_counts() -> None:
    several = render_task(analyse(results(fitted_results())), "cpu", "simple", 100, False)
    assert several.splitlines()[0].split()[:4] == ["runner", "workers", "jobs", "jobs"]
    one = render_task(
        analyse(results([c for c in fitted_results() if c.jobs == 4])), "cpu", "simple", 100, False
    )
    assert one.splitlines()[0].split()[:4] == ["runner", "workers", "jobs", "s"]  # jobs s


def test_an_engine_is_fitted_across_the_job_counts() -> None:
    """Run times on exact lines: the engine's 0.05 + 0.011 N, the pool's 0.01 + 0.009 N, on 2
    workers: 2 x 2 ms more a job, 40 ms more a run; its own cost a job on a worker is
    2 x 0.011 - 0.01 = 12 ms, so it pays from 12 ms on 2 workers."""
    (found,) = engine_costs(analyse(results(fitted_results((4, 16, 64)))))
    assert found.engine.cell.jobs == 64
    fitted = found.fitted
    assert fitted is not None
    assert fitted.counts == (4, 16, 64)
    assert fitted.per_job == pytest.approx(0.004)
    assert fitted.per_run == pytest.approx(0.04)
    assert fitted.spread == pytest.approx(0.0, abs=1e-9)
    assert fitted.pays_from == pytest.approx(0.012)
    (line,) = fitted_lines(engine_costs(analyse(results(fitted_results((4, 16, 64))))))
    assert line.startswith("fitted over 4, 16, 64 jobs, grid 2 on cpu: +4.00 ms a job")
    assert "+40.00 ms a run; pays from 12.00 ms" in line


def test_one_job_count_fits_nothing() -> None:
    analysis = analyse(results(fitted_results((8,))))
    (found,) = engine_costs(analysis)
    assert found.fitted is None
    assert "fitted over" not in render_engines(analysis, "simple", 100)


def test_a_matrix_of_several_job_counts_runs_a_cell_for_each(lab_process: LabProcess) -> None:
    path = lab_process.folder / "run.json"
    result = lab_process.run(
        "matrix", "--tasks", "io", "--sleep", "0.01", "--runners", "single,threads",
        "--workers", "2", "--jobs", "2,4", "--fast", "--json", str(path), timeout=300,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    assert "2, 4 jobs a cell" in result.stdout
    cells = json.loads(path.read_text())["cells"]
    assert sorted((c["runner"], c["jobs"]) for c in cells) == [
        ("single", 2), ("single", 4), ("threads", 2), ("threads", 4),
    ]  # fmt: skip
