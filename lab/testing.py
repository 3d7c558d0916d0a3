"""The conformance kit: one pytest run tells a plugin author whether a runner is correct and
measurable, through the same worker processes that ``lab matrix`` uses.

Subclass :class:`RunnerConformance` in a test module, name the subclass ``Test…`` and set
``runner`` (and ``plugins`` when the runner is not installed through an entry point)::

    from lab.testing import RunnerConformance

    class TestMyRunner(RunnerConformance):
        runner = "my-runner"
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import psutil

from lab.host.manager import PluginOptions
from lab.host.registry import load_catalog
from lab.results.status import Kind
from lab.run import validate
from lab.run.rounds import Settings
from lab.run.supervisor import run_cell
from lab.runner import Workers
from lab.task import WARM_UP_CALLS
from lab.testing_tasks import ERROR_MESSAGE
from lab.timing import clock

if TYPE_CHECKING:
    from lab.host.registry import Catalog
    from lab.run.supervisor import CellRun
    from lab.worker.protocol import Measurement

TASKS_MODULE = "lab.testing_tasks"


class RunnerConformance:
    """The checks every runner must pass; pytest collects them from ``Test…`` subclasses.

    :cvar runner: the runner's name.
    :cvar plugins: modules to load as with ``-p MODULE`` (installed plugins load by themselves).
    :cvar blocked: plugins not to load, as with ``-p no:NAME`` (one that registers a name the
        runner under test has, say).
    :cvar workers: the worker setting to check with.
    :cvar start_method: the multiprocessing start method.
    :cvar timeout: seconds a run may take before its process tree is killed.
    :cvar hang_timeout: the timeout for the check that a hung job is killed in time.
    """

    runner: ClassVar[str]
    plugins: ClassVar[tuple[str, ...]] = ()
    blocked: ClassVar[tuple[str, ...]] = ()
    workers: ClassVar[str] = "2"
    start_method: ClassVar[str] = "spawn"
    timeout: ClassVar[float] = 60.0
    hang_timeout: ClassVar[float] = 2.0
    nap: ClassVar[float] = 0.2

    def catalog(self) -> Catalog:
        return load_catalog(self.plugin_options())[0]

    def plugin_options(self) -> PluginOptions:
        return PluginOptions(blocked=self.blocked, modules=(*self.plugins, TASKS_MODULE))

    def run_cell(
        self, task: str, jobs: int, size: float = 0.05, timeout: float | None = None
    ) -> CellRun:
        """One run of the runner on a kit task, in a worker process, as ``lab matrix`` does."""
        settings = Settings(
            repeat=1,
            timeout=timeout or self.timeout,
            start_method=self.start_method,
            blocked=self.blocked,
            modules=(*self.plugins, TASKS_MODULE),
        )
        spec = settings.spec(f"conformance-{task}", self.runner, self.workers, jobs, size)
        return run_cell(spec, settings.timeout)

    def measured(self, task: str, jobs: int, size: float = 0.05) -> Measurement:
        """A run that must have worked; its records checked as the lab checks them."""
        outcome = self.run_cell(task, jobs, size)
        assert outcome.failure is None, outcome.failure
        measurement = outcome.measurement
        assert measurement is not None
        assert measurement.error is None, measurement.error
        if task == "nap":
            catalog = self.catalog()
            layout = catalog.runners.get(self.runner).layout(Workers.parse(self.workers))
            task_ = catalog.tasks.get(f"conformance-{task}")
            assert validate.problems(measurement, jobs, layout, task_, size) == []
        return measurement

    def test_the_runner_is_registered_and_available(self) -> None:
        runner = self.catalog().runners.get(self.runner)
        assert runner.unavailable() is None, runner.unavailable()

    def test_every_job_runs_once_and_records_come_back_in_order(self) -> None:
        measurement = self.measured("nap", 7)
        assert [r.index for r in measurement.records] == list(range(7))
        assert [r.result for r in measurement.records] == [0.05] * 7

    def test_the_worker_count_is_respected(self) -> None:
        runner = self.catalog().runners.get(self.runner)
        layout = runner.layout(Workers.parse(self.workers))
        jobs = 2 * layout.concurrency
        measurement = self.measured("nap", jobs, self.nap)
        assert most_at_once(measurement) == min(layout.concurrency, jobs)

    def test_zero_jobs_and_one_job(self) -> None:
        assert self.measured("nap", 0).records == []
        assert len(self.measured("nap", 1).records) == 1

    def test_a_failing_job_comes_back_as_data(self) -> None:
        measurement = self.measured("fail", 3)
        assert [r.error for r in measurement.records] == [f"ValueError: {ERROR_MESSAGE}"] * 3

    def test_system_exit_in_a_job_does_not_kill_the_host(self) -> None:
        measurement = self.measured("exit", 2)
        assert [r.error for r in measurement.records] == ["SystemExit: 3"] * 2

    def test_every_worker_is_warmed_up_before_its_first_job(self) -> None:
        """Each process that runs jobs made the task's warm-up calls before them (in its
        pool's start-up, through ``lab.pools.prepare_worker``)."""
        runner = self.catalog().runners.get(self.runner)
        jobs = 2 * runner.layout(Workers.parse(self.workers)).concurrency
        measurement = self.measured("warm", jobs)
        calls = [r.result for r in measurement.records]
        assert all(isinstance(n, int) and n > WARM_UP_CALLS for n in calls), calls

    def test_a_hung_run_ends_at_its_timeout_and_leaves_nothing(self) -> None:
        before = {p.pid for p in psutil.Process().children(recursive=True)}
        started = clock()
        outcome = self.run_cell("hang", 2, timeout=self.hang_timeout)
        elapsed = clock() - started
        assert outcome.failure is not None
        assert outcome.failure.kind is Kind.TIMEOUT, outcome.failure
        assert elapsed < self.hang_timeout + 10
        left = [
            p
            for p in psutil.Process().children(recursive=True)
            if p.pid not in before and p.status() != psutil.STATUS_ZOMBIE
        ]
        assert left == []


def most_at_once(measurement: Measurement) -> int:
    """The most jobs that were running at one instant."""
    return validate.peaks(measurement.records).jobs
