"""``loky``: loky's reusable process pool, which survives crashed workers, as a lab runner."""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Callable

import lab
from lab.pools import prepare_worker

#: The start methods loky accepts from the lab; any other becomes loky's own.
LOKY_CONTEXTS = ("spawn", "forkserver")
WARM_UP_TRIES = 20


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


class LokySession(lab.ExecutorSession):
    def close(self) -> None:
        self.executor.shutdown(wait=True)  # loky's shutdown has no cancel_futures


class LokyRunner(lab.Runner):
    name = "loky"
    description = "loky's reusable process pool of W workers"
    kind = lab.PROCESSES

    def unavailable(self) -> str | None:
        if importlib.util.find_spec("loky") is None:
            return "loky is not installed (pip install loky)"
        return None

    def layout(self, workers: lab.Workers) -> lab.Layout:
        return lab.Layout(processes=workers.total)

    def start(self, layout: lab.Layout, context: lab.RunContext) -> LokySession:
        from loky import get_reusable_executor

        method = context.start_method if context.start_method in LOKY_CONTEXTS else "loky"
        executor = get_reusable_executor(
            max_workers=layout.processes,
            context=method,
            initializer=prepare_worker,
            initargs=context.worker_initargs,
        )
        # loky starts its workers on the first submissions: wait until every one has answered.
        for _ in range(WARM_UP_TRIES):
            pids = set(executor.map(_pid_after, [0.02] * layout.processes))
            if len(pids) == layout.processes:
                break
        return LokySession(executor)


@lab.hookimpl
def lab_register_runners(register: Callable[[lab.Runner], None]) -> None:
    register(LokyRunner())
