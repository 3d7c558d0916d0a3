"""The tasks where sharing matters (``plugins/sharing.py``): every form of the shared state
keeps every update where its jobs run, ``settle`` catches a lost one, a form that cannot exist
is ``n/a`` with its reason, and a lost update in a real matrix is an error cell."""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import LabProcess
from lab_racy_counter import RACY_COUNTER, racy_count_up

from lab import EVENT_LOOP, ONE_INTERPRETER, OTHER_INTERPRETERS, OTHER_PROCESSES, JobRecord, Task
from lab.errors import UsageError
from lab.host.registry import Catalog
from lab.results.analysis import analyse
from lab.results.journal import load
from lab.results.status import Kind
from lab_plugins import sharing
from lab_plugins.sharing import ALLOC, SHARED_COUNTER, SHARED_DICT, TRANSFER

HEALTHY = (Kind.OK, Kind.UNSTABLE)
JOBS = 4
ALL = [SHARED_COUNTER, SHARED_DICT, TRANSFER, ALLOC]
SIZE = 500


def record(result: Any) -> JobRecord:
    return JobRecord(0, 1, "MainProcess", "MainThread", 1, 0.0, 0.0, None, result)


def test_the_tasks_are_registered(catalog: Catalog) -> None:
    for task in ALL:
        assert catalog.tasks.get(task.name) is task


@pytest.mark.parametrize("task", [SHARED_COUNTER, SHARED_DICT], ids=lambda t: t.name)
def test_threads_share_the_state_and_keep_every_update(task: Task) -> None:
    assert task.settle is not None
    with task.jobs_session(SIZE, ONE_INTERPRETER) as shared, ThreadPoolExecutor(2) as pool:
        results = list(pool.map(task.forms["sync"], [shared] * JOBS))
        assert [task.check(record(r), SIZE) for r in results] == [None] * JOBS
        assert task.settle(shared, JOBS, SIZE) is None
        assert "lost" in str(task.settle(shared, JOBS + 1, SIZE))


@pytest.mark.parametrize("task", [SHARED_COUNTER, SHARED_DICT], ids=lambda t: t.name)
def test_a_running_pool_of_processes_gets_the_state_through_a_pickle(task: Task) -> None:
    """The pool is started before the shared state exists, as a runner's pool is: what reaches
    its workers is only what crosses a pickle (a manager's proxies)."""
    assert task.settle is not None
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=spawn) as pool:
        list(pool.map(abs, range(2)))  # both workers up
        with task.jobs_session(SIZE, OTHER_PROCESSES) as shared:
            results = list(pool.map(task.forms["sync"], [shared] * JOBS))
            assert [task.check(record(r), SIZE) for r in results] == [None] * JOBS
            assert task.settle(shared, JOBS, SIZE) is None
            assert "lost" in str(task.settle(shared, JOBS + 1, SIZE))


def test_a_counter_without_its_lock_loses_updates_on_threads() -> None:
    """The test plugin's racy form reads, yields and writes: two threads lose increments."""
    assert RACY_COUNTER.settle is not None
    with RACY_COUNTER.jobs_session(2000, ONE_INTERPRETER) as shared, ThreadPoolExecutor(2) as pool:
        assert list(pool.map(racy_count_up, [shared] * 2)) == [2000, 2000]
        found = RACY_COUNTER.settle(shared, 2, 2000)
    assert found is not None and found.startswith("the shared counter lost updates: it reads ")
    assert "not 4,000 (2 jobs x 2,000 increments)" in found


def test_the_interpreters_counter_is_shared_memory_under_a_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The subinterpreters' form: a job takes the queue's one token, adds 1 to the count in
    shared memory and puts a token back. Threads stand in for the interpreters, and a stdlib
    queue (the same get_nowait and put) for a cross-interpreter one, where none exists."""
    monkeypatch.setattr(sharing, "create_queue", queue.Queue)
    with SHARED_COUNTER.jobs_session(SIZE, OTHER_INTERPRETERS) as counter:
        assert isinstance(counter, sharing.InterpreterCounter)
        with ThreadPoolExecutor(2) as pool:
            assert list(pool.map(sharing.count_up, [counter] * JOBS)) == [SIZE] * JOBS
        assert sharing.settle_counter(counter, JOBS, SIZE) is None
        assert counter.token.qsize() == 1  # the token is back
        assert "lost" in str(sharing.settle_counter(counter, JOBS + 1, SIZE))


@pytest.mark.parametrize(
    ("form", "backend"), [("asyncio", "asyncio"), ("anyio", "asyncio"), ("anyio", "trio")]
)
def test_the_event_loop_forms_share_one_counter_on_one_loop(form: str, backend: str) -> None:
    function = SHARED_COUNTER.forms[form]

    async def jobs(counter: sharing.LocalCounter) -> list[int]:
        results = [0] * JOBS

        async def one(i: int) -> None:
            results[i] = await function(counter)

        async with anyio.create_task_group() as group:
            for i in range(JOBS):
                group.start_soon(one, i)
        return results

    with SHARED_COUNTER.jobs_session(SIZE, ONE_INTERPRETER) as counter:
        if form == "asyncio":
            assert asyncio.run(jobs(counter)) == [SIZE] * JOBS
        else:
            assert anyio.run(jobs, counter, backend=backend) == [SIZE] * JOBS
        assert sharing.settle_counter(counter, JOBS, SIZE) is None


def test_forms_that_cannot_exist_are_not_applicable_with_the_reason() -> None:
    for isolation in (ONE_INTERPRETER, OTHER_PROCESSES, OTHER_INTERPRETERS):
        for form in ("sync", "asyncio", "anyio"):
            assert SHARED_COUNTER.unsupported(form, isolation) is None
    assert SHARED_DICT.unsupported("sync", ONE_INTERPRETER) is None
    assert SHARED_DICT.unsupported("sync", OTHER_PROCESSES) is None
    assert "share no objects" in str(SHARED_DICT.unsupported("sync", OTHER_INTERPRETERS))
    assert "take turns in one thread" in str(SHARED_DICT.unsupported("asyncio", ONE_INTERPRETER))
    assert "does not say where its jobs run" in str(SHARED_COUNTER.unsupported("sync", None))
    assert TRANSFER.unsupported("asyncio", ONE_INTERPRETER) == (
        "an event loop's tasks share one thread: nothing to send"
    )
    assert ALLOC.unsupported("anyio", EVENT_LOOP) == "CPU-bound work blocks the event loop"
    for task in (TRANSFER, ALLOC):
        for isolation in (ONE_INTERPRETER, OTHER_PROCESSES, OTHER_INTERPRETERS, None):
            assert task.unsupported("sync", isolation) is None  # nothing shared


def test_the_dict_settles_only_when_every_write_is_there() -> None:
    with SHARED_DICT.jobs_session(3, ONE_INTERPRETER) as shared:
        for _ in range(2):
            assert sharing.fill(shared) == 3
        table = shared.table
        assert sharing.settle_entries(shared, 2, 3) is None
        key = next(iter(table))
        table[key] += 1
        assert "holds" in str(sharing.settle_entries(shared, 2, 3))
        del table[key]
        assert str(sharing.settle_entries(shared, 2, 3)).startswith(
            "the shared dict lost writes: it holds 5 entries, not 6 (2 jobs x 3 entries)"
        )
        table["stranger", 0] = 0
        assert "entries of 3 jobs, not 2 jobs of 3 entries each" in str(
            sharing.settle_entries(shared, 2, 3)
        )


def test_a_counter_past_its_jobs_is_wrong_too() -> None:
    counter = sharing.LocalCounter(10, value=21)
    assert sharing.settle_counter(counter, 2, 10) == (
        "the shared counter reads 21, more than the 20 (2 jobs x 10 increments) the jobs made"
    )


@pytest.mark.parametrize("size", [1, 2, 255, 256, 1000, 2**20 + 3])
def test_a_transfer_job_proves_it_has_every_byte(size: int) -> None:
    with TRANSFER.jobs_session(size, ONE_INTERPRETER) as data:
        assert len(data) == size
    assert TRANSFER.check(record(sharing.receive(data)), size) is None
    assert TRANSFER.check(record("<1 bytes>"), size) is not None
    if size > 1:
        assert TRANSFER.check(record(sharing.receive(data[:-1])), size) is not None
        assert TRANSFER.check(record(sharing.receive(bytes(size))), size) is not None


@pytest.mark.parametrize("count", [1, 999, 1000, 1001, 12_345])
def test_an_alloc_job_builds_every_record(count: int) -> None:
    assert sharing.allocate(count) == count
    assert ALLOC.check(record(count), count) is None
    assert ALLOC.check(record(count - 1), count) == f"built {count - 1} records, not {count:,}"


def test_alloc_is_calibrated_and_warmed_up_like_the_countdown(catalog: Catalog) -> None:
    cpu = catalog.tasks.get("cpu")
    assert (ALLOC.bound, ALLOC.calibrated) == (cpu.bound, cpu.calibrated)
    assert ALLOC.warm_up is not None and len(ALLOC.warm_up_jobs()) == len(cpu.warm_up_jobs())
    assert all(job().error is None for job in ALLOC.warm_up_jobs())


@pytest.mark.parametrize(
    "task", [SHARED_COUNTER, SHARED_DICT, TRANSFER, ALLOC], ids=lambda t: t.name
)
def test_sizes_are_checked_against_the_soft_limit(task: Task) -> None:
    limit = int(task.size.soft_limit)
    assert task.size.parse(str(limit), task=task.name) == limit
    with pytest.raises(UsageError, match="pass --allow-large"):
        task.size.parse(str(limit + 1), task=task.name)
    assert task.size.parse(str(limit + 1), task=task.name, allow_large=True) == limit + 1
    with pytest.raises(UsageError, match="greater than 0"):
        task.size.parse("0", task=task.name)
    with pytest.raises(UsageError, match="whole number"):
        task.size.parse("1.5", task=task.name)


def test_a_lost_update_is_an_error_cell_and_kept_updates_are_figures(
    lab_process: LabProcess, tmp_path: Path
) -> None:
    """One tiny matrix: the racy counter on threads is an error saying updates were lost,
    the locked counter and the dict are measured on threads and processes."""
    run = tmp_path / "run.json"
    result = lab_process.run(
        "matrix", "-p", "lab_racy_counter", "--tasks", "racy-counter,shared-counter,shared-dict",
        "--runners", "threads,processes", "--workers", "2", "--jobs", "4",
        "--size", "racy-counter=3000", "--size", "shared-counter=300",
        "--size", "shared-dict=300", "--fast", "-q", "--json", str(run),
        timeout=240,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # a failed cell
    assert "Traceback" not in result.stderr
    statuses = {(a.cell.task, a.cell.runner): a.status for a in analyse(load(run)).cells}
    racy = statuses["racy-counter", "threads"]
    assert racy.kind is Kind.ERROR, racy
    assert racy.detail.startswith("the shared counter lost updates: it reads "), racy
    assert "not 12,000 (4 jobs x 3,000 increments)" in racy.detail
    assert statuses["racy-counter", "single"].kind in HEALTHY  # one job at a time loses none
    assert statuses["racy-counter", "processes"].kind is Kind.NOT_APPLICABLE
    assert "for threads only" in statuses["racy-counter", "processes"].detail
    for task in ("shared-counter", "shared-dict"):
        for runner in ("single", "threads", "processes"):
            assert statuses[task, runner].kind in HEALTHY, (task, runner, statuses[task, runner])
    assert lab_process.leftovers() == []
