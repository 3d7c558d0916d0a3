"""A matrix planned: its runners (the baseline always among them), its cells (task x runner
x workers x interpreter, in table order), each checked against the soft limits before anything
runs, and the results they fill."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.plan import limits
from lab.plan.profiles import in_table_order
from lab.plan.runs import availability, new_results
from lab.results.model import MATRIX, Cell
from lab.runner import INLINE, Workers
from lab.task import SYNC

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from lab.host.registry import Catalog
    from lab.machine.metadata import Metadata
    from lab.plan.sizes import Sizing
    from lab.results.model import Results
    from lab.run.rounds import Rounds
    from lab.runner import Runner
    from lab.task import Task


def with_baseline(names: Sequence[str], catalog: Catalog) -> list[Runner]:
    """The runners ``names`` names, with the baseline (the first inline runner, in table
    order) added first when none of them is one."""
    runners = [catalog.runners.get(n) for n in names]
    every = in_table_order(list(catalog.runners.items.values()))
    baseline = next((r for r in every if r.kind == INLINE), None)
    if baseline is not None and not any(r.kind == INLINE for r in runners):
        runners.insert(0, baseline)
    return runners


def default_runners(catalog: Catalog) -> list[str]:
    """Every runner's name, in table order."""
    return [r.name for r in in_table_order(list(catalog.runners.items.values()))]


@dataclass(frozen=True)
class MatrixPlan:
    """A matrix as asked for, every option checked: its tasks (their options in force), its
    runners, worker settings and jobs a cell (one count or several, each a cell of its own),
    and how its sizes are chosen."""

    tasks: list[Task]
    runners: list[Runner]
    workers: list[Workers]
    jobs: tuple[int, ...]
    sizing: Sizing

    def check(self, cpus: int, allow_large: bool) -> None:
        """Refuse, before anything runs, a layout or a job count above the soft limits."""
        for runner in self.runners:
            for setting in self.workers if runner.uses_workers else []:
                layout = runner.layout(setting)
                limits.check_layout(runner.name, str(setting), layout, cpus, allow_large)
        limits.check_jobs(max(self.jobs), allow_large)

    def results(self, facts: Metadata, rounds: Rounds, quiet: bool = False) -> Results:
        """The sizes chosen (calibrated now where need be) and every cell planned, n/a where
        its interpreter says its runner cannot run."""
        sizes, infos = self.sizing.choose(self.tasks, rounds, quiet)
        labels = [i.label for i in rounds.interpreters] or [""]
        cells = plan(
            self.tasks, self.runners, self.workers, self.jobs, sizes, labels, availability(rounds)
        )
        return new_results(MATRIX, facts, rounds, infos, cells, jobs=max(self.jobs))

    def oversubscribed(self, cpus: int, gil: bool) -> list[str]:
        """Warnings for CPU-bound cells with more workers computing at once than usable CPUs
        (with the GIL on, a process's threads compute one at a time)."""
        if not any(task.bound == "cpu" for task in self.tasks):
            return []
        found = []
        for runner in self.runners:
            for setting in self.workers if runner.uses_workers else []:
                layout = runner.layout(setting)
                parallel = layout.processes * (1 if gil else layout.threads)
                if parallel > cpus and runner.job_form == SYNC:
                    found.append(
                        f"{runner.name} with workers {setting} computes on {parallel} workers"
                        f" at once with {cpus} usable CPUs: CPU-bound speed-up cannot exceed"
                        f" {cpus}"
                    )
        return found


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
    return Cell(
        task=task.name,
        bound=task.bound,
        runner=runner.name,
        kind=runner.kind,
        distributed=runner.distributed,
        workers=str(workers),
        layout=runner.layout(workers),
        jobs=jobs,
        size=size,
        not_applicable=not_applicable(task, runner, interpreter, unavailable),
        interpreter=interpreter,
    )


def not_applicable(
    task: Task,
    runner: Runner,
    interpreter: str = "",
    unavailable: Mapping[str, Mapping[str, str | None]] | None = None,
) -> str | None:
    """Why ``runner`` cannot run ``task`` on ``interpreter``, if it cannot: the runner's own
    answer on the lab's interpreter, the other interpreter's in ``unavailable``, or the task's
    missing form or state that cannot reach the runner's jobs."""
    away = (unavailable or {}).get(interpreter)
    reason = runner.unavailable() if away is None else away.get(runner.name)
    return reason or task.unsupported(runner.job_form, runner.isolation)


def plan(
    tasks: Iterable[Task],
    runners: Iterable[Runner],
    workers: Iterable[Workers],
    jobs: Sequence[int],
    sizes: Mapping[str, int | float],
    interpreters: Sequence[str] = ("",),
    unavailable: Mapping[str, Mapping[str, str | None]] | None = None,
) -> list[Cell]:
    """Every cell in table order, task by task and interpreter by interpreter, each runner's
    worker settings and for each its job counts; runners that ignore workers get one cell per
    task, interpreter and job count."""
    worker_list = list(workers)
    runner_list = list(runners)
    return [
        new_cell(task, runner, setting, count, sizes[task.name], interpreter, unavailable)
        for task in tasks
        for interpreter in interpreters
        for runner in runner_list
        for setting in (worker_list if runner.uses_workers else [Workers(1)])
        for count in jobs
    ]
