"""Every runner, measured in-process on tiny sizes: placement, countdowns, phases.

The conformance kit (``tests/test_conformance.py``) checks the rest, in worker processes.
"""

from __future__ import annotations

import math

import pytest

from lab.boundary.measurement import Measurement
from lab.host.registry import Catalog, load_catalog
from lab.run import validate
from lab.runner import Layout, RunContext, Runner, Workers
from lab.testing import most_at_once
from lab.worker.measure import make_jobs, measure

CATALOG = load_catalog()[0]
RUNNERS = [r for r in CATALOG.runners.items.values() if r.unavailable() is None]
SLEEP = 0.1
COUNT = 20_000


def run(
    runner: Runner, task_name: str, workers: str, jobs: int, size: float
) -> tuple[Measurement, Layout]:
    task = CATALOG.tasks.get(task_name)
    layout = runner.layout(Workers.parse(workers))
    job_list = make_jobs(task.forms[runner.job_form], size, jobs, None)
    measurement = measure(runner, layout, RunContext.for_jobs("spawn", job_list), job_list)
    assert measurement.error is None
    assert validate.problems(measurement, jobs, layout, task, size) == []
    return measurement, layout


@pytest.fixture(params=RUNNERS, ids=lambda r: r.name)
def runner(request: pytest.FixtureRequest) -> Runner:
    return request.param


def test_every_builtin_runner_is_available_here(catalog: Catalog) -> None:
    names = {r.name for r in RUNNERS}
    assert {"single", "threads", "processes", "threads-in-processes", "asyncio"} <= names
    assert {"uvloop", "anyio-asyncio", "anyio-trio"} <= names  # the Makefile installs them


@pytest.mark.parametrize("workers", ["1", "2", "2x2"])
def test_io_jobs_run_once_in_order_within_the_layout(runner: Runner, workers: str) -> None:
    jobs = 5
    measurement, layout = run(runner, "io", workers, jobs, SLEEP)
    assert [r.index for r in measurement.records] == list(range(jobs))
    assert all(r.duration >= SLEEP - 0.002 for r in measurement.records)
    assert most_at_once(measurement) <= layout.concurrency


def test_placement_matches_the_layout(runner: Runner) -> None:
    """Distinct pids for processes, distinct threads for threads, P x T for both: all of the
    layout busy at once, and no more (a runner may use a fresh thread for each job)."""
    measurement, layout = run(runner, "io", "2x2", 8, SLEEP)
    pids = {r.pid for r in measurement.records}
    assert len(pids) == layout.processes
    assert most_at_once(measurement) == layout.concurrency
    for pid in pids:
        threads = {r.thread_id for r in measurement.records if r.pid == pid}
        assert len(threads) >= layout.threads


def test_cpu_countdowns_reach_zero(runner: Runner) -> None:
    task = CATALOG.tasks.get("cpu")
    if task.unsupported_form(runner.job_form):
        pytest.skip(f"{runner.name} does not run CPU-bound tasks")
    measurement, _ = run(runner, "cpu", "2", 3, COUNT)
    assert [r.result for r in measurement.records] == [0, 0, 0]
    assert all(r.cpu is not None and r.cpu > 0 for r in measurement.records)


def test_start_up_is_not_counted_as_run_time(runner: Runner) -> None:
    measurement, layout = run(runner, "io", "2", 2, SLEEP)
    assert measurement.startup is not None and measurement.wall is not None
    ideal = math.ceil(2 / layout.concurrency) * SLEEP
    assert measurement.run_start is not None
    assert min(r.start for r in measurement.records) >= measurement.run_start
    assert measurement.wall >= ideal - 0.002
