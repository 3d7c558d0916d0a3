"""``thread-per-job``: a new thread for every job, at most W at a time; nothing to start."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from lab import THREADS, Job, JobRecord, Layout, RunContext, Runner, Workers, hookimpl

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


class ThreadPerJobSession:
    """Starts a thread per job as a slot frees up; creating threads is part of the run."""

    def __init__(self, limit: int) -> None:
        self.slots = threading.BoundedSemaphore(limit)

    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        records: list[JobRecord | None] = [None] * len(jobs)

        def work(position: int, job: Job) -> None:
            try:
                records[position] = job()
            finally:
                self.slots.release()

        threads = []
        for position, job in enumerate(jobs):
            self.slots.acquire()
            thread = threading.Thread(target=work, args=(position, job), name=f"job-{position}")
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        return [record for record in records if record is not None]

    def close(self) -> None:
        pass


class ThreadPerJobRunner(Runner):
    name = "thread-per-job"
    kind = THREADS
    description = "a new thread for every job, W at a time"

    def layout(self, workers: Workers) -> Layout:
        return Layout(threads=workers.total)

    def start(self, layout: Layout, context: RunContext) -> ThreadPerJobSession:
        return ThreadPerJobSession(layout.threads)


@hookimpl
def lab_register_runners(register: Callable[[Runner], None]) -> None:
    register(ThreadPerJobRunner())
