"""Figures a plugin cannot bend: runners that lie about what they measured, one way each
(``tests/support/lab_dishonest_runners``), are error cells in ``lab matrix`` and fail the
conformance kit, and the checks behind that, one by one, on records built by hand."""

from __future__ import annotations

import pytest
from conftest import LabProcess
from lab_dishonest_runners import LIARS

from lab.boundary.measurement import Measurement
from lab.jobs import JobRecord
from lab.results.journal import load
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
#: Jobs long enough (about 0.5 s here) that a 10 % cut of their CPU is past the kernel's two
#: clock ticks of rounding on each thread.


@pytest.fixture(scope="module")
def liars_matrix(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, object]:
    folder = tmp_path_factory.mktemp("liars")
    lab = LabProcess(folder / "lab")
    result = lab.run(
        "matrix", "-p", "lab_dishonest_runners", "--tasks", "cpu,io",
        "--runners", ",".join(["threads", "processes", *NAMES]),
        "--count", "10000000", "--sleep", "0.05", "--workers", "2", "--fast", "-q",
        "--json", str(folder / "run.json"), timeout=300,  # a hang guard for a busy machine
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # error cells
    return result.stdout, load(folder / "run.json")


def test_every_liar_is_an_error_cell_on_cpu_and_io(liars_matrix: tuple[str, object]) -> None:
    _, run = liars_matrix
    from lab.results.analysis import analyse

    analysis = analyse(run)  # type: ignore[arg-type]
    statuses = {(a.cell.task, a.cell.runner): a.status for a in analysis.cells}
    for task in ("cpu", "io"):
        for name in NAMES:
            if (task, name) in LOAD_DEPENDENT:
                continue
            found = statuses[task, name]
            assert found.kind is Kind.ERROR, (task, name, found)


def test_an_installed_liar_cannot_take_over_the_verdict(liars_matrix: tuple[str, object]) -> None:
    printed, _ = liars_matrix
    verdict = printed[printed.index("threads or processes?") :]
    cited = [line for line in verdict.splitlines() if "liar-" in line]
    assert all("liar-shorter " in line for line in cited), cited  # see LOAD_DEPENDENT


def kit(name: str) -> RunnerConformance:
    class Kit(RunnerConformance):
        runner = name
        plugins = ("lab_dishonest_runners",)

    return Kit()


@pytest.mark.parametrize("name", NAMES)
def test_every_liar_fails_the_conformance_kit(name: str) -> None:
    checks = kit(name)
    with pytest.raises(Failed) as naps:
        checks.test_every_job_runs_once_and_records_come_back_in_order()
    if name != "liar-shorter-cpu":  # its naps' records are shorter than a nap: named there
        return
    assert "it slept 0.05 s" in str(naps.value)
    with pytest.raises(Failed, match="the records cannot be true: thread"):
        checks.test_cpu_bound_timings_agree_with_the_kernel()


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


def test_a_layout_that_was_claimed_but_not_used_is_named_except_in_a_sweep() -> None:
    one_at_a_time = [record(i, 1.0 + i * 0.2, 1.15 + i * 0.2, None) for i in range(4)]
    run = measurement(one_at_a_time)
    assert validate.problems(run, 4, Layout(threads=4), IO, 0.1) == [
        "used at most 1 of 4 workers: its 4 jobs never ran more than 1 at once"
    ]
    assert validate.problems(run, 4, Layout(threads=4), IO, 0.1, uses_layout=False) == []
    too_short = measurement([record(i, 1.0 + i * 0.01, 1.001 + i * 0.01, None) for i in range(4)])
    assert validate.problems(too_short, 4, Layout(threads=4), IO, 0.1) == []
