"""The cells of a matrix: task x runner x workers, in table order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.results.model import Cell
from lab.runner import Workers

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from lab.runner import Runner
    from lab.task import Task


def new_cell(
    task: Task,
    runner: Runner,
    workers: Workers,
    jobs: int,
    size: int | float,
    interpreter: str = "",
    unavailable: Mapping[str, Mapping[str, str | None]] | None = None,
) -> Cell:
    """An unmeasured cell, ``n/a`` with the reason when the runner cannot run the task on its
    interpreter (``unavailable``: each runner's reason on each other interpreter, as that
    interpreter answered; the runner's own answer for the lab's)."""
    away = (unavailable or {}).get(interpreter)
    reason = runner.unavailable() if away is None else away.get(runner.name)
    return Cell(
        task=task.name,
        bound=task.bound,
        runner=runner.name,
        kind=runner.kind,
        workers=str(workers),
        layout=runner.layout(workers),
        jobs=jobs,
        size=size,
        not_applicable=reason or task.unsupported(runner.job_form, runner.isolation),
        interpreter=interpreter,
    )


def plan(
    tasks: Iterable[Task],
    runners: Iterable[Runner],
    workers: Iterable[Workers],
    jobs: int,
    sizes: Mapping[str, int | float],
    interpreters: Sequence[str] = ("",),
    unavailable: Mapping[str, Mapping[str, str | None]] | None = None,
) -> list[Cell]:
    """Every cell in table order, task by task and interpreter by interpreter; runners that
    ignore workers get one cell per task and interpreter."""
    worker_list = list(workers)
    runner_list = list(runners)
    return [
        new_cell(task, runner, setting, jobs, sizes[task.name], interpreter, unavailable)
        for task in tasks
        for interpreter in interpreters
        for runner in runner_list
        for setting in (worker_list if runner.uses_workers else [Workers(1)])
    ]
