"""Every runner, measured in-process on tiny sizes: placement, countdowns, phases.

The conformance kit (``tests/test_conformance.py``) checks the rest, in worker processes.
"""

from __future__ import annotations

import math
from collections import defaultdict

import pytest

from lab.boundary.measurement import Measurement
from lab.boundary.requests import WorkerOptions
from lab.host.manager import PluginSelection
from lab.host.registry import Catalog, load_catalog
from lab.run import validate
from lab.run.rounds import Rounds
from lab.run.supervisor import run_cell
from lab.runner import Layout, RunContext, Runner, Workers
from lab.task import WARM_UP_CALLS
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


@pytest.mark.parametrize(("name", "workers"), [("single", "1"), ("processes", "2")])
def test_every_process_makes_the_warm_up_calls_once_before_its_first_job(
    name: str, workers: str
) -> None:
    """Each process that runs jobs (the cell's own for ``single``, each of the pool's fresh
    ones for ``processes``) calls the task's function exactly ``WARM_UP_CALLS`` times before its
    first job, and not again between jobs: the kit's ``warm`` task returns how many calls its
    process has made, this one included. Counted, not timed: whether warm jobs run as fast as
    later ones is ``make bench``'s to measure (its warm-up section)."""
    jobs = 8
    settings = Rounds(
        repeat=1,
        timeout=120,
        start_method="spawn",
        worker=WorkerOptions.of_lab(PluginSelection(modules=("lab.testing_tasks",))),
    )
    outcome = run_cell(settings.spec("conformance-warm", name, workers, jobs, 0.0), 120)
    assert outcome.failure is None and outcome.measurement is not None, outcome.failure
    assert outcome.measurement.error is None, outcome.measurement.error
    records = outcome.measurement.records
    assert sorted(r.index for r in records) == list(range(jobs))
    calls: dict[int, list[int]] = defaultdict(list)
    for record in sorted(records, key=lambda r: r.start):  # one thread a process: call order
        calls[record.pid].append(record.result)
    assert 1 <= len(calls) <= int(workers)
    for pid, numbers in calls.items():
        expected = list(range(WARM_UP_CALLS + 1, WARM_UP_CALLS + 1 + len(numbers)))
        assert numbers == expected, (pid, numbers)
