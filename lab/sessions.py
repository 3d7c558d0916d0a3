"""Ready-made :class:`lab.Session` implementations for runner plugins."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from concurrent.futures import Executor

    from lab.jobs import Job, JobRecord


class InlineSession:
    """Runs every job in the calling thread, one after another."""

    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        return [job() for job in jobs]

    def close(self) -> None:
        pass


class ExecutorSession:
    """Submits every job to one ``concurrent.futures`` executor; records come back in order."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        futures = [self.executor.submit(job) for job in jobs]
        return [future.result() for future in futures]

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
