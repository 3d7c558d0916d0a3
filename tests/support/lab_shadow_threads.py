"""A runner named ``threads``, loaded with ``-p lab_shadow_threads -p no:threads``: wherever the
built-in ``threads`` plugin is not blocked, the two names clash."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab import THREADS, ExecutorSession, Layout, RunContext, Runner, Workers, hookimpl
from lab.pools import started_thread_pool

if TYPE_CHECKING:
    from collections.abc import Callable


class ShadowThreadsRunner(Runner):
    name = "threads"
    description = "threads, from a plugin that replaces the built-in one"
    kind = THREADS

    def layout(self, workers: Workers) -> Layout:
        return Layout(threads=workers.total)

    def start(self, layout: Layout, context: RunContext) -> ExecutorSession:
        return ExecutorSession(started_thread_pool(layout.threads, prefix="Shadow"))


@hookimpl
def lab_register_runners(register: Callable[[Runner], None]) -> None:
    register(ShadowThreadsRunner())
