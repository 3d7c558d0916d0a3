"""Figures a plugin cannot bend: runners that lie about what they measured, one way each
(``tests/support/lab_dishonest_runners``), are error cells in ``lab matrix`` and fail the
conformance kit, and the checks behind that, one by one, on records built by hand."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pytest
from conftest import LabProcess, finish_side_by_side
from lab_dishonest_runners import LIARS

from lab import PROCESSES, THREADS
from lab.boundary.measurement import Measurement
from lab.jobs import JobRecord
from lab.results.analysis import analyse
from lab.results.journal import load
from lab.results.model import Results
from lab.results.status import Kind
from lab.run import validate
from lab.runner import Layout
from lab.task import Size, Task
from lab.testing import RunnerConformance

Failed = pytest.fail.Exception
NAMES = [liar.name for liar in LIARS]
#: A 10 % cut of a CPU-bound job's time shows only while its thread had a CPU to itself: on a
#: busy machine its thread's CPU falls below its wall time by as much, so the matrix test does
#: not count on it there (the record-level test below checks the rule itself).
LOAD_DEPENDENT = {("cpu", "liar-shorter")}
#: The liars' matrix, as runs side by side (they measure nothing), each with its countdown: jobs
#: of about 30 ms here are long enough for every check that catches the liars on threads (beside
#: the honest threads runner, so that the verdict has a runner of their kind to cite) and the
#: one that runs each job twice on processes; the liars that report their jobs 10 % short run
#: jobs of about 0.3 s, 0.6 s on each of their pool's processes, so that the cut is past the
#: kernel's two clock ticks of rounding on each thread.
SHORT_CPU = "liar-shorter-cpu"
CUT_SHORT = {"liar-shorter", SHORT_CPU}
LIAR_RUNS = [
    ("1000000", ["threads", *(liar.name for liar in LIARS if liar.kind == THREADS)]),
    ("1000000", [x.name for x in LIARS if x.kind == PROCESSES and x.name not in CUT_SHORT]),
    ("10000000", [liar.name for liar in LIARS if liar.name in CUT_SHORT]),
]


#: The conformance kit's checks each liar must fail: the first for every liar; the one of
#: CPU-bound timings for the liar that reports its jobs' CPU short, which the first names by
#: its naps' records, shorter than a nap.
KIT_CHECKS = {name: ["test_every_job_runs_once_and_records_come_back_in_order"] for name in NAMES}
KIT_CHECKS[SHORT_CPU].append("test_cpu_bound_timings_agree_with_the_kernel")


@dataclass
class Liars:
    """What each of the :data:`LIAR_RUNS` printed, and its results; and what each of the
    :data:`KIT_CHECKS` raised for each liar (``None``: it passed), run meanwhile."""

    runs: list[tuple[str, Results]]
    kit: dict[str, dict[str, BaseException | None]]


def kit(name: str) -> RunnerConformance:
    class Kit(RunnerConformance):
        runner = name
        plugins = ("lab_dishonest_runners",)

    return Kit()


def _kit_checks(name: str) -> dict[str, BaseException | None]:
    checks, raised = kit(name), {}
    for check in KIT_CHECKS[name]:
        try:
            getattr(checks, check)()
            raised[check] = None
        except (Failed, Exception) as exc:  # a failed check's Failed, or what broke it
            raised[check] = exc
    return raised


@pytest.fixture(scope="module")
def liars(tmp_path_factory: pytest.TempPathFactory) -> Liars:
    """The liars' matrix, side by side (it measures nothing) with the kit's checks of them."""
    folder = tmp_path_factory.mktemp("liars")
    runs = []
    for i, (count, runners) in enumerate(LIAR_RUNS):
        lab = LabProcess(folder / str(i))
        process = lab.start(
            "matrix", "-p", "lab_dishonest_runners", "--tasks", "cpu,io",
            "--runners", ",".join(runners), "--count", count, "--sleep", "0.05",
            "--workers", "2", "--fast", "-q", "--json", str(lab.folder / "run.json"),
        )  # fmt: skip
        runs.append((lab, process))
    try:
        checked = {name: _kit_checks(name) for name in NAMES}
    finally:
        # a hang guard for a busy machine
        results = finish_side_by_side(runs, timeout=300)
    found = []
    for (lab, _), result in zip(runs, results, strict=True):
        assert result.returncode == 1, result.stderr  # error cells
        found.append((result.stdout, load(lab.folder / "run.json")))
    return Liars(found, checked)


def test_every_liar_is_an_error_cell_on_cpu_and_io(liars: Liars) -> None:
    statuses = {
        (a.cell.task, a.cell.runner): a.status for _, run in liars.runs for a in analyse(run).cells
    }
    for task in ("cpu", "io"):
        for name in NAMES:
            if (task, name) in LOAD_DEPENDENT:
                continue
            found = statuses[task, name]
            assert found.kind is Kind.ERROR, (task, name, found)


def test_an_installed_liar_cannot_take_over_the_verdict(liars: Liars) -> None:
    """What follows a run's tables (the verdict, where it has cells to speak of) cites no liar
    that its error cells should keep out."""
    assert "threads or processes?" in liars.runs[0][0]  # beside the honest threads runner
    for printed, _ in liars.runs:
        verdict = printed[printed.index("\njobs s: ") :]
        cited = set(re.findall(r"liar-[\w-]+", verdict))
        assert cited <= {"liar-shorter"}, verdict  # see LOAD_DEPENDENT


@pytest.mark.parametrize("name", NAMES)
def test_every_liar_fails_the_conformance_kit(liars: Liars, name: str) -> None:
    raised = liars.kit[name]
    for check in KIT_CHECKS[name]:
        assert isinstance(raised[check], Failed), (check, raised[check])
    if name == SHORT_CPU:
        naps = raised["test_every_job_runs_once_and_records_come_back_in_order"]
        assert "it slept 0.05 s" in str(naps)
        timings = raised["test_cpu_bound_timings_agree_with_the_kernel"]
        assert "the records cannot be true: thread" in str(timings)


# The checks one by one, on measurements built by hand.

CPU = Task(
    name="cpu",
    description="a countdown",
    bound="cpu",
    forms={"sync": abs},
    size=Size(name="count", kind=int, default=1, soft_limit=10),
)
IO = Task(
    name="io",
    description="a sleep",
    bound="io",
    forms={"sync": abs},
    size=Size(name="seconds", kind=float, default=0.1, soft_limit=10),
)


def record(index: int, start: float, end: float, cpu: float | None, thread: int = 11) -> JobRecord:
    return JobRecord(index, 10, "p", "t", thread, start, end, cpu, None, None, "here")


def measurement(records: list[JobRecord], **fields: object) -> Measurement:
    return Measurement(
        startup=0.0, wall=10.0, teardown=0.0, cpu=1.0, run_start=0.0, run_end=10.0,
        records=records, host="here", cpu_tick=0.01, **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_job_called_more_often_than_its_records_say_is_named() -> None:
    run = measurement([record(0, 1.0, 1.1, None), record(1, 1.2, 1.3, None)], calls=[1, 2])
    found = validate.problems(run, 2, Layout(), IO, 0.1)
    assert found == [
        "job 1 was called 2 times where it ran, but 1 record of it came back: the runner ran"
        " work no record shows"
    ]
    counted = measurement([record(0, 1.0, 1.1, None), record(1, 1.2, 1.3, None)], calls=[1, 1])
    assert validate.problems(counted, 2, Layout(), IO, 0.1) == []


def test_a_job_whose_thread_used_more_cpu_than_its_record_lasted_cannot_be_true() -> None:
    shortened = measurement([record(0, 1.0, 1.9, 1.0)])  # 1 s of CPU in 0.9 s
    (found,) = validate.problems(shortened, 1, Layout(), CPU, 1)
    assert found == (
        "the records cannot be true: job 0 used 1.000 s of CPU in a run its record says"
        " lasted 0.900 s"
    )


def test_the_kernels_count_of_a_threads_cpu_bounds_what_its_records_claim() -> None:
    records = [record(0, 1.0, 2.0, 0.9), record(1, 2.0, 3.0, 0.9)]  # 1.8 s claimed
    understated = measurement(records, thread_cpu=[[10, 11, 2.0]])  # the kernel: 2.0 s
    (found,) = validate.problems(understated, 2, Layout(), CPU, 1)
    assert found == (
        "the records cannot be true: thread 11 of process 10 used 2.000 s of CPU in the run,"
        " more than the 1.800 s its 2 jobs' records say they used"
    )
    overstated = measurement(records, thread_cpu=[[10, 11, 1.5]])
    (found,) = validate.problems(overstated, 2, Layout(), IO, 1)
    assert found == (
        "the records cannot be true: the records of the 2 jobs on thread 11 of process 10 claim"
        " 1.800 s of CPU; the kernel counted 1.500 s for that thread"
    )
    honest = measurement(records, thread_cpu=[[10, 11, 1.81], [10, 12, 5.0]])
    assert validate.problems(honest, 2, Layout(), CPU, 1) == []


def test_a_runners_declared_bookkeeping_a_job_is_allowed_in_its_thread_and_its_tree() -> None:
    """1,000 jobs of 0.2 ms of CPU each: a pool that spends 0.5 ms a job in the job's thread
    and 0.8 ms in the tree handing them out is honest when its runner declares 1 ms a job
    (``Runner.bookkeeping_cpu``), and named where it declares less than it spent."""
    jobs = [record(i, 1.0 + i * 0.001, 1.0003 + i * 0.001, 0.0002) for i in range(1000)]

    def run(bookkeeping: float, thread: float) -> Measurement:
        return measurement(jobs, bookkeeping_cpu=bookkeeping, thread_cpu=[[10, 11, thread]])

    assert validate.problems(run(0.001, thread=0.7), 1000, Layout(), CPU, 1) == []
    (in_thread,) = validate.problems(run(0.0002, thread=0.7), 1000, Layout(), CPU, 1)
    assert in_thread == (
        "the records cannot be true: thread 11 of process 10 used 0.700 s of CPU in the run,"
        " more than the 0.200 s its 1000 jobs' records say they used"
    )
    (in_tree,) = validate.problems(run(0.0002, thread=0.4), 1000, Layout(), CPU, 1)
    assert in_tree == (
        "the run's processes used 1.000 s of CPU, 5.0x the 0.200 s its jobs' records account"
        " for: it ran work that no record shows"
    )
    # a worker's answer past the bounds is held to them: at most 2 ms a job in the thread
    (held,) = validate.problems(run(1.0, thread=2.3), 1000, Layout(), CPU, 1)
    assert held.startswith("the records cannot be true: thread 11 of process 10 used 2.300 s")
    assert validate.problems(run(math.nan, thread=0.7), 1000, Layout(), CPU, 1) == [in_thread]


def test_a_layout_that_was_claimed_but_not_used_is_named_except_in_a_sweep() -> None:
    one_at_a_time = [record(i, 1.0 + i * 0.2, 1.15 + i * 0.2, None) for i in range(4)]
    run = measurement(one_at_a_time)
    assert validate.problems(run, 4, Layout(threads=4), IO, 0.1) == [
        "used at most 1 of 4 workers: its 4 jobs never ran more than 1 at once"
    ]
    assert validate.problems(run, 4, Layout(threads=4), IO, 0.1, uses_layout=False) == []
    too_short = measurement([record(i, 1.0 + i * 0.01, 1.001 + i * 0.01, None) for i in range(4)])
    assert validate.problems(too_short, 4, Layout(threads=4), IO, 0.1) == []


def test_jobs_one_after_another_on_as_many_threads_as_the_layout_are_a_busy_machine() -> None:
    """An honest pool of 2 hands each thread a job; on a busy machine the second may get no CPU
    until the first job has ended: not the runner's doing, and no error. On fewer threads than
    the layout has, it is."""
    starved = [record(i, 1.0 + i * 0.2, 1.15 + i * 0.2, None, thread=11 + i) for i in range(2)]
    assert validate.problems(measurement(starved), 2, Layout(threads=2), IO, 0.1) == []
    one = [record(i, 1.0 + i * 0.2, 1.15 + i * 0.2, None) for i in range(2)]
    assert validate.problems(measurement(one), 2, Layout(threads=2), IO, 0.1) == [
        "used at most 1 of 2 workers: its 2 jobs never ran more than 1 at once"
    ]
