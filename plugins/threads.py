"""``threads``: a pool of W threads in the cell's process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab import THREADS, ExecutorSession, Layout, RunContext, Runner, Workers, hookimpl
from lab.pools import started_thread_pool

if TYPE_CHECKING:
    from collections.abc import Callable


class ThreadsRunner(Runner):
    name = "threads"
    kind = THREADS
    description = "a pool of W threads in one process (one GIL)"

    def layout(self, workers: Workers) -> Layout:
        return Layout(threads=workers.total)

    def start(self, layout: Layout, context: RunContext) -> ExecutorSession:
        return ExecutorSession(started_thread_pool(layout.threads))


@hookimpl
def lab_register_runners(register: Callable[[Runner], None]) -> None:
    register(ThreadsRunner())
