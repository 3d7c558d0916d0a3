"""``single``: every job after the other in the cell's main thread, the baseline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab import INLINE, InlineSession, Layout, RunContext, Runner, Workers, hookimpl

if TYPE_CHECKING:
    from collections.abc import Callable


class SingleRunner(Runner):
    name = "single"
    kind = INLINE
    description = "one job after another in the main thread: the baseline"
    uses_workers = False

    def layout(self, workers: Workers) -> Layout:
        return Layout()

    def start(self, layout: Layout, context: RunContext) -> InlineSession:
        return InlineSession()


@hookimpl
def lab_register_runners(register: Callable[[Runner], None]) -> None:
    register(SingleRunner())
