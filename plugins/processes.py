"""``processes``: a pool of W worker processes, started with an explicit start method."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab import (
    PROCESSES,
    ExecutorSession,
    Job,
    JobRecord,
    Layout,
    RunContext,
    Runner,
    Workers,
    hookimpl,
)
from lab.pools import check_picklable, started_process_pool

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


class ProcessesSession(ExecutorSession):
    def run(self, jobs: Sequence[Job]) -> list[JobRecord]:
        check_picklable(jobs)
        return super().run(jobs)


class ProcessesRunner(Runner):
    name = "processes"
    kind = PROCESSES
    description = "a pool of W worker processes (one GIL each)"

    def layout(self, workers: Workers) -> Layout:
        return Layout(processes=workers.total)

    def start(self, layout: Layout, context: RunContext) -> ProcessesSession:
        return ProcessesSession(started_process_pool(layout.processes, context))


@hookimpl
def lab_register_runners(register: Callable[[Runner], None]) -> None:
    register(ProcessesRunner())
