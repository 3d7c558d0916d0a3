"""The conformance kit: one pytest run tells a plugin author whether a runner is correct and
measurable, through the same worker processes that ``lab matrix`` uses.

Subclass :class:`RunnerConformance` in a test module, name the subclass ``Test…`` and set
``runner`` (and ``plugins`` when the runner is not installed through an entry point)::

    from lab.testing import RunnerConformance

    class TestMyRunner(RunnerConformance):
        runner = "my-runner"

Each failed check says what went wrong, in the words ``lab matrix`` uses for an error cell.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, ClassVar, NoReturn

import psutil

from lab.boundary.requests import WorkerOptions
from lab.errors import LabError
from lab.host.manager import PluginSelection
from lab.host.registry import load_catalog
from lab.jobs import error_line
from lab.markers import hookimpl
from lab.results.status import Kind
from lab.run import validate
from lab.run.rounds import Rounds
from lab.run.supervisor import run_cell
from lab.runner import Workers
from lab.task import WARM_UP_CALLS, Task
from lab.testing_tasks import ERROR_MESSAGE, SIZE
from lab.timing import clock

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from lab.boundary.measurement import Measurement
    from lab.host.manager import LoadReport
    from lab.host.registry import Catalog
    from lab.jobs import JobRecord
    from lab.run.supervisor import CellRun
    from lab.runner import Layout, Runner

__all__ = ["RunnerConformance"]

TASKS_MODULE = "lab.testing_tasks"
#: This module, a plugin too: it registers the task that tells when each worker was ready.
KIT_MODULE = __name__
#: The kit's tasks whose records ``lab matrix``'s checks apply to as they are.
CHECKED_TASKS = ("nap", "ready", "spin")


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
        return self.loaded()[0]

    def loaded(self) -> tuple[Catalog, LoadReport]:
        """The catalog of the plugins the kit loads, and what loading them said."""
        catalog, report, _ = load_catalog(self.plugin_options())
        return catalog, report

    def plugin_options(self) -> PluginSelection:
        return PluginSelection(
            blocked=self.blocked, modules=(*self.plugins, TASKS_MODULE, KIT_MODULE)
        )

    def runner_under_test(self) -> Runner:
        """The runner; a failure, with the plugins' load warnings, when it is unknown or
        unavailable here (a misspelt hook leaves it unknown, say)."""
        catalog, report = self.loaded()
        try:
            runner = catalog.runners.get(self.runner)
        except LabError as exc:
            fail(str(exc), report.warnings)
        why = runner.unavailable()
        if why is not None:
            fail(f"runner {self.runner!r} is not available here: {why}", report.warnings)
        return runner

    def layout(self) -> Layout:
        """The runner's layout for :attr:`workers`."""
        runner = self.runner_under_test()
        try:
            return runner.layout(Workers.parse(self.workers))
        except LabError as exc:
            fail(str(exc))

    def run_cell(
        self, task: str, jobs: int, size: float = 0.05, timeout: float | None = None
    ) -> CellRun:
        """One run of the runner on a kit task, in a worker process, as ``lab matrix`` does."""
        rounds = Rounds(
            repeat=1,
            timeout=timeout or self.timeout,
            start_method=self.start_method,
            worker=WorkerOptions.of_lab(self.plugin_options()),
        )
        spec = rounds.spec(f"conformance-{task}", self.runner, self.workers, jobs, size)
        return run_cell(spec, rounds.timeout)

    def measured(self, task: str, jobs: int, size: float = 0.05) -> Measurement:
        """A run that must have worked; for :data:`CHECKED_TASKS`, its records checked as the
        lab checks them, a failure naming every problem."""
        layout = self.layout()
        outcome = self.run_cell(task, jobs, size)
        if outcome.failure is not None or outcome.measurement is None:
            fail(f"the run of {jobs} {task} jobs failed: {outcome.failure or 'no measurement'}")
        measurement = outcome.measurement
        if measurement.error is not None:
            fail(measurement.error)
        if task in CHECKED_TASKS:
            task_ = self.catalog().tasks.get(f"conformance-{task}")
            # "ready" jobs are as short as a pool may take to hand out the next: only the
            # longer naps must use the whole layout
            found = validate.problems(measurement, jobs, layout, task_, size, task == "nap")
            if found:
                fail("; ".join(found))
        return measurement

    def test_the_runner_is_registered_and_available(self) -> None:
        self.runner_under_test()

    def test_every_job_runs_once_and_records_come_back_in_order(self) -> None:
        records = self.measured("nap", 7).records
        wrong = [r for r in records if r.result != 0.05]
        if wrong:
            fail(f"job {wrong[0].index} returned {wrong[0].result!r}; its function returned 0.05")

    def test_the_worker_count_is_respected(self) -> None:
        concurrency = self.layout().concurrency
        jobs = 2 * concurrency
        most = most_at_once(self.measured("nap", jobs, self.nap))
        if most != min(concurrency, jobs):
            fail(
                f"at most {most} of {jobs} jobs ran at once; its layout allows {concurrency},"
                " and a run should use them all"
            )

    def test_cpu_bound_timings_agree_with_the_kernel(self) -> None:
        """CPU-bound jobs' records agree with the CPU the kernel counted for the threads that
        ran them, and no job was called more often than its records say: a runner that
        reports jobs shorter than they ran, or runs work no record shows, fails here."""
        self.measured("spin", 2 * self.layout().concurrency, 0.3)

    def test_zero_jobs_and_one_job(self) -> None:
        self.measured("nap", 0)  # a record too many, or too few, is a problem it names
        self.measured("nap", 1)

    def test_a_failing_job_comes_back_as_data(self) -> None:
        expect_errors(self.measured("fail", 3).records, 3, f"ValueError: {ERROR_MESSAGE}")

    def test_system_exit_in_a_job_does_not_kill_the_host(self) -> None:
        expect_errors(self.measured("exit", 2).records, 2, "SystemExit: 3")

    def test_every_worker_is_warmed_up_before_its_first_job(self) -> None:
        """Each process that runs jobs made the task's warm-up calls before them (in its
        pool's start-up, through ``lab.pools.prepare_worker``)."""
        jobs = 2 * self.layout().concurrency
        for r in self.measured("warm", jobs).records:
            if not (isinstance(r.result, int) and r.result > WARM_UP_CALLS):
                made = (
                    f"was call number {r.result} of the task's function"
                    if isinstance(r.result, int)
                    else f"returned {r.result!r}, not how many calls of the task's function"
                    " its process had made"
                )
                fail(
                    f"job {r.index} {made} in process {r.pid}: the process had not made the"
                    f" {WARM_UP_CALLS} warm-up calls of context.warm_up before its first job"
                    " (lab.pools.prepare_worker makes them)"
                )

    def test_every_worker_is_running_before_the_run(self) -> None:
        """``start`` returned a pool whose workers were all running, in processes that had
        imported ``context.preload``: no worker that runs several jobs was started, or imported
        the jobs' module, after the run began (a lazily started pool's start-up is timed as the
        run's). A thread or process started for a single job, as ``thread-per-job`` does, is
        the runner's way of running, not a lazy start.

        Twice as many jobs as the layout's concurrency: a pool started on its first jobs has
        at most that many workers, so one of them runs two jobs. The signal is the order of
        events on the shared clock (see :func:`ready_at`), not how long anything took."""
        jobs = 2 * self.layout().concurrency
        measurement = self.measured("ready", jobs, 0.01)
        run_start = measurement.run_start
        if run_start is None:
            fail("the measurement has no run start")
        workers: dict[tuple[int, int, float], list[int]] = {}
        for r in measurement.records:
            workers.setdefault((r.pid, r.thread_id, r.result), []).append(r.index)
        late = [done for (*_, ready), done in workers.items() if ready > run_start and done[1:]]
        if late:
            fail(
                f"{len(late)} of its workers started during the run, not in start: the one that"
                f" ran jobs {', '.join(map(str, late[0]))} was started, or imported the jobs'"
                " module, after the run began, so its start-up is timed as the run's; start"
                " must return workers that are all running and have imported context.preload"
                " (lab.pools.started_thread_pool and started_process_pool do)"
            )

    def test_a_hung_run_ends_at_its_timeout_and_leaves_nothing(self) -> None:
        self.runner_under_test()
        before = {p.pid for p in psutil.Process().children(recursive=True)}
        started = clock()
        outcome = self.run_cell("hang", 2, timeout=self.hang_timeout)
        elapsed = clock() - started
        if outcome.failure is None or outcome.failure.kind is not Kind.TIMEOUT:
            ended = outcome.failure or "it came back without waiting for its jobs"
            fail(f"a run of jobs that never return should time out; it ended as: {ended}")
        if elapsed >= self.hang_timeout + 10:
            fail(f"the hung run took {elapsed:.1f} s to end; its timeout was {self.hang_timeout} s")
        left = [
            p.pid
            for p in psutil.Process().children(recursive=True)
            if p.pid not in before and p.status() != psutil.STATUS_ZOMBIE
        ]
        if left:
            fail(f"the hung run left processes running: {', '.join(map(str, left))}")


def most_at_once(measurement: Measurement) -> int:
    """The most jobs that were running at one instant."""
    return validate.peaks(measurement.records).jobs


def expect_errors(records: Sequence[JobRecord], jobs: int, error: str) -> None:
    """Fail unless there is one record per job, in order, each with ``error``."""
    indices = [r.index for r in records]
    if indices != list(range(jobs)):
        fail(f"the records are for jobs {indices}, not {list(range(jobs))}")
    for r in records:
        if r.error is None or error_line(r.error) != error:
            fail(
                f"job {r.index} came back with error {r.error!r}, not {error!r}: a job's"
                " exception must come back as its record's error"
            )


def fail(message: str, warnings: Sequence[str] = ()) -> NoReturn:
    """Fail the check with ``message``, and the plugin-loading warnings that may explain it."""
    import pytest

    if warnings:
        message += "\nloading the plugins warned:\n" + "\n".join(f"  {w}" for w in warnings)
    pytest.fail(message)


# When each worker was ready, for test_every_worker_is_running_before_the_run. The kit loads
# this module in the cell's process, and a pool's worker processes import it with the ready
# task's function (it is in their context.preload): from then on, each thread started in that
# process notes when it was started, in the starting thread, so before start() returns.

_STARTED_AT = "_lab_conformance_started_at"
#: When this process imported this module, or was forked from a process that had.
_imported_at = clock()
_thread_start = threading.Thread.start


def _start_noted(self: threading.Thread) -> None:
    setattr(self, _STARTED_AT, clock())
    _thread_start(self)


def _forked() -> None:
    global _imported_at
    _imported_at = clock()


threading.Thread.start = _start_noted  # type: ignore[method-assign]
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


def ready_at(seconds: float) -> float:
    """Sleep, then say when the calling worker was ready on the shared clock: the later of when
    its thread was started and when its process imported this module (a thread this module
    did not see start was running by then)."""
    time.sleep(seconds)
    started: float | None = getattr(threading.current_thread(), _STARTED_AT, None)
    return _imported_at if started is None else max(started, _imported_at)


async def aready_at(seconds: float) -> float:
    import anyio

    await anyio.sleep(seconds)
    return ready_at(0.0)


READY_TASK = Task(
    name="conformance-ready",
    description="conformance kit: when the worker that ran each job was ready",
    bound="io",
    forms={"sync": ready_at, "asyncio": aready_at, "anyio": aready_at},
    size=SIZE,
)


@hookimpl
def lab_register_tasks(register: Callable[[Task], None]) -> None:
    register(READY_TASK)
