"""What a job records on the lean per-job path: the CPU clock only where a thread runs one job at
a time, and the identity of the thread and process that ran it, looked up once per thread.

No timing here: how much a job costs is `make bench`'s to check (``--check``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from lab.boundary.measurement import Measurement
from lab.jobs import Job, JobRecord, error_line, error_traceback
from lab.run.validate import problems
from lab.runner import Layout
from lab.task import Size, Task

if TYPE_CHECKING:
    from multiprocessing.connection import Connection


def count(n: int) -> int:
    while n > 0:
        n -= 1
    return n


async def acount(n: int) -> int:
    await asyncio.sleep(0)
    return count(n)


def fail(_: int) -> int:
    raise ValueError("no  such\njob")


async def afail(_: int) -> int:
    raise ValueError("no such job")


async def cancelled(_: int) -> int:
    raise asyncio.CancelledError


def identity(record: JobRecord) -> tuple[int, str, str, int]:
    return record.pid, record.process, record.thread, record.thread_id


def here() -> tuple[int, str, str, int]:
    return (
        os.getpid(),
        multiprocessing.current_process().name,
        threading.current_thread().name,
        threading.get_native_id(),
    )


def test_a_sync_job_records_its_threads_cpu_time() -> None:
    record = Job(index=3, func=count, size=200_000)()
    assert record.index == 3 and record.result == 0 and record.error is None
    assert isinstance(record.cpu, float) and record.cpu > 0
    assert record.cpu <= record.duration + 0.01  # the job's thread ran nothing else
    assert identity(record) == here()


def test_an_event_loop_job_records_no_cpu_time() -> None:
    async def both() -> list[JobRecord]:
        jobs = [Job(index=i, func=acount, size=1000) for i in range(3)]
        return list(await asyncio.gather(*(job.arun() for job in jobs)))

    records = asyncio.run(both())
    assert [r.index for r in records] == [0, 1, 2]
    assert all(r.cpu is None and r.result == 0 and r.error is None for r in records)
    assert all(r.end >= r.start for r in records)
    assert {identity(r) for r in records} == {here()}


def test_an_event_loop_record_is_whole_though_built_without_its_init() -> None:
    record = asyncio.run(Job(index=5, func=acount, size=10).arun())
    values = [getattr(record, f.name) for f in dataclasses.fields(JobRecord)]  # all set
    assert JobRecord(*values) == record
    assert not hasattr(JobRecord, "__post_init__")  # skipping __init__ skips nothing else


def test_failures_are_recorded_in_both_forms() -> None:
    sync = Job(index=0, func=fail, size=0)()
    assert sync.error is not None and sync.result is None
    assert error_line(sync.error) == "ValueError: no such job"
    assert "in fail" in error_traceback(sync.error)  # the job's own frames, the lab's left out
    assert "__call__" not in error_traceback(sync.error)
    assert isinstance(sync.cpu, float)
    awaited = asyncio.run(Job(index=1, func=afail, size=0).arun())
    assert awaited.error is not None and awaited.result is None
    assert error_line(awaited.error) == "ValueError: no such job"
    assert "in afail" in error_traceback(awaited.error)
    assert awaited.cpu is None


def test_cancellation_is_not_a_job_failure() -> None:
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(Job(index=0, func=cancelled, size=0).arun())


def test_each_thread_records_its_own_identity() -> None:
    jobs = [Job(index=i, func=count, size=1000) for i in range(8)]
    barrier = threading.Barrier(4)

    def run(job: Job) -> tuple[JobRecord, tuple[int, str, str, int]]:
        barrier.wait(10)  # four threads, each with two jobs
        return job(), here()

    with ThreadPoolExecutor(4, thread_name_prefix="costs") as pool:
        found = list(pool.map(run, jobs))
    assert all(identity(record) == actual for record, actual in found)
    assert len({record.thread_id for record, _ in found}) == 4
    assert all(record.thread.startswith("costs") for record, _ in found)


def test_a_new_thread_never_inherits_an_ended_threads_identity() -> None:
    # Thread idents are reused once a thread ends: the identity is per thread, not per ident.
    for name in ("first", "second", "third"):
        found: list[JobRecord] = []
        thread = threading.Thread(target=_run_into, args=(found,), name=name)
        thread.start()
        thread.join()
        assert found[0].thread == name
        assert found[0].thread_id == thread.native_id


def _run_into(found: list[JobRecord]) -> None:
    found.append(Job(index=0, func=count, size=10)())


def _job_in_child(connection: Connection) -> None:
    connection.send((Job(index=0, func=count, size=10)(), here()))
    connection.close()


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform"
)
def test_a_forked_child_records_its_own_pid_and_name() -> None:
    parent = Job(index=0, func=count, size=10)()  # the parent's thread knows its identity now
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_job_in_child, args=(sending,), name="forked-child")
    child.start()
    record, actual = receiving.recv()
    child.join(30)
    assert child.exitcode == 0
    assert identity(record) == actual
    assert record.pid == child.pid != parent.pid
    assert record.process == "forked-child"


def test_event_loop_records_travel_and_validate() -> None:
    jobs = [Job(index=i, func=acount, size=100) for i in range(4)]

    async def all_jobs() -> list[JobRecord]:
        return list(await asyncio.gather(*(job.arun() for job in jobs)))

    run = Measurement(
        startup=0.0,
        wall=0.0,
        teardown=0.0,
        cpu=10.0,  # far beyond the jobs': checked only where records carry their CPU time
        run_start=0.0,
        run_end=sys.float_info.max,
        records=asyncio.run(all_jobs()),
    )
    back = Measurement.from_json(run.to_json())
    assert back == run and all(r.cpu is None for r in back.records)
    assert problems(back, 4, Layout(tasks=4), _cpu_task(), 100) == []


def test_sync_records_keep_the_cpu_check_working() -> None:
    records = [Job(index=i, func=count, size=100_000)() for i in range(2)]
    jobs_cpu = sum(r.cpu for r in records if r.cpu is not None)
    assert jobs_cpu > 0
    run = Measurement(
        startup=0.0,
        wall=0.0,
        teardown=0.0,
        cpu=jobs_cpu + 1.0,  # a second of CPU that no record accounts for
        run_start=0.0,
        run_end=sys.float_info.max,
        records=records,
    )
    found = problems(Measurement.from_json(run.to_json()), 2, Layout(), _cpu_task(), 100_000)
    assert len(found) == 1 and "no record shows" in found[0]


def _cpu_task() -> Task:
    return Task(
        name="costs",
        description="countdowns",
        bound="cpu",
        forms={"sync": count, "asyncio": acount},
        size=Size(name="count", kind=int, default=1000, soft_limit=10**9),
    )


def test_a_trace_still_prints_both_lines(capsys: pytest.CaptureFixture[str]) -> None:
    Job(index=0, func=count, size=10, trace=("go", "done"))()
    asyncio.run(Job(index=1, func=acount, size=10, trace=("ago", "adone")).arun())
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" ---> ")[1] for line in lines] == ["go", "done", "ago", "adone"]
    assert all(line.startswith(f"{os.getpid()} * ") for line in lines)
