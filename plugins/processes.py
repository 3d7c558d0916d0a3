"""``processes``: a pool of W worker processes, started with an explicit start method."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab import PROCESSES, ExecutorSession, Layout, RunContext, Runner, Workers, hookimpl
from lab.pools import started_process_pool

if TYPE_CHECKING:
    from collections.abc import Callable


class ProcessesRunner(Runner):
    name = "processes"
    kind = PROCESSES
    description = "a pool of W worker processes (one GIL each)"

    def layout(self, workers: Workers) -> Layout:
        return Layout(processes=workers.total)

    def start(self, layout: Layout, context: RunContext) -> ExecutorSession:
        return ExecutorSession(started_process_pool(layout.processes, context))


@hookimpl
def lab_register_runners(register: Callable[[Runner], None]) -> None:
    register(ProcessesRunner())
