"""The cells of a sweep: one IO task at rising concurrency, every level's jobs all at once."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.errors import UsageError
from lab.plan import limits
from lab.plan.matrix import new_cell, not_applicable
from lab.plan.runs import availability, new_results, task_info
from lab.results.model import SWEEP
from lab.runner import EVENT_LOOP, PROCESSES_THREADS, THREADS, Workers

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from lab.host.registry import Catalog
    from lab.machine.metadata import Metadata
    from lab.results.model import Cell, Results
    from lab.run.rounds import Rounds
    from lab.runner import Runner
    from lab.task import Task

DEFAULT_LEVELS = (1, 10, 100, 1000, 10_000)
#: The kinds of runner a sweep measures unless told otherwise: those that can hold thousands
#: of waiters (a process per waiter cannot).
DEFAULT_KINDS = (EVENT_LOOP, THREADS, PROCESSES_THREADS)


def default_runners(catalog: Catalog) -> list[str]:
    """The names of every runner of the default kinds, event loops first."""
    runners = catalog.runners.items.values()
    return [r.name for kind in DEFAULT_KINDS for r in runners if r.kind == kind]


def workers_at(runner: Runner, level: int, cpus: int) -> Workers:
    """The workers for ``level`` jobs at once: ``level``, or for a processes-threads runner the
    level spread over the usable CPUs as processes, with the threads to hold the rest."""
    if runner.kind != PROCESSES_THREADS:
        return Workers(level)
    processes = min(cpus, level)
    return Workers(processes, math.ceil(level / processes))


@dataclass(frozen=True)
class SweepPlan:
    """A sweep as asked for: ``task`` at ``size`` on each runner at each level, every level's
    jobs all at once; ``allow_large`` goes past the soft limits."""

    task: Task
    runners: list[Runner]
    levels: list[int]
    size: int | float
    cpus: int
    allow_large: bool = False

    def above_limit(self, runner: Runner, level: int) -> str | None:
        """Why ``runner`` is not swept at ``level``: above its own sweep limit."""
        limit = runner.sweep_limit
        if not limit or level <= limit or self.allow_large:
            return None
        return (
            f"{runner.name} is swept up to {limit:,} jobs at once; pass --allow-large to run"
            " it at more"
        )

    def beyond_threads(self, runner: Runner, level: int) -> str | None:
        """Why this machine cannot start the threads of ``runner`` at ``level``, whatever
        ``--allow-large`` says (the OS's thread limit): its cell is ``n/a``, saying so, while
        runners that wait without a thread a job go on to that level."""
        layout = runner.layout(workers_at(runner, level, self.cpus))
        return limits.thread_limit(runner.name, level, layout)

    def check(self) -> None:
        """Every level a runner is swept at, checked against the sweep's soft limits (unless
        ``allow_large``) and the machine's before anything starts (or is set up): a usage
        error names the first limit passed (the memory available, descriptors for sockets),
        or the OS's thread limit when no cell is left below it."""
        beyond: list[str] = []
        held = 0
        for level in self.levels:
            for runner in self.runners:
                if not_applicable(self.task, runner) or self.above_limit(runner, level):
                    continue
                layout = runner.layout(workers_at(runner, level, self.cpus))
                limits.check_sweep_soft_limits(runner.name, level, layout, self.allow_large)
                why = limits.thread_limit(runner.name, level, layout)
                if why is not None:
                    beyond.append(why)
                    continue
                held += 1
                sockets = level * self.task.sockets_per_job
                no_room = limits.room_limit(runner.name, level, layout, sockets)
                if no_room is not None:
                    raise UsageError(no_room)
        if beyond and not held:
            raise UsageError(beyond[0])

    def cells(
        self,
        interpreters: Sequence[str] = ("",),
        unavailable: Mapping[str, Mapping[str, str | None]] | None = None,
    ) -> list[Cell]:
        """A cell per interpreter, level and runner: ``level`` jobs, all at once; ``n/a``
        above a runner's own sweep limit, and past the OS's thread limit."""
        cells = []
        for interpreter in interpreters:
            for level in self.levels:
                for runner in self.runners:
                    workers = workers_at(runner, level, self.cpus)
                    cell = new_cell(
                        self.task, runner, workers, level, self.size, interpreter, unavailable
                    )
                    cell.not_applicable = (
                        cell.not_applicable
                        or self.above_limit(runner, level)
                        or self.beyond_threads(runner, level)
                    )
                    cells.append(cell)
        return cells

    def results(self, facts: Metadata, rounds: Rounds) -> Results:
        """Every cell planned, n/a where its interpreter says its runner cannot run."""
        labels = [i.label for i in rounds.interpreters] or [""]
        cells = self.cells(labels, availability(rounds))
        info = task_info(self.task, self.size)
        return new_results(
            SWEEP, facts, rounds, [info], cells, jobs=max(self.levels), levels=self.levels
        )


def task_limit(task: Task, cpus: int) -> int | None:
    """The most jobs at once ``task`` is swept at without ``--allow-large`` here, if it says."""
    return task.sweep_limit_per_cpu * cpus if task.sweep_limit_per_cpu > 0 else None


def levels_for(task: Task, text: str | None, cpus: int, allow_large: bool) -> list[int]:
    """The levels written as ``text`` (``None``: the default ones up to the task's limit, all
    of them with ``allow_large``); a level above the task's limit needs ``allow_large``."""
    limit = None if allow_large else task_limit(task, cpus)
    if text is None:
        return [level for level in DEFAULT_LEVELS if limit is None or level <= limit]
    levels = parse_levels(text)
    if limit is not None and levels[-1] > limit:
        raise UsageError(
            f"{task.name} at {levels[-1]:,} jobs at once is above its soft limit of {limit:,}"
            f" here ({task.sweep_limit_per_cpu:,} per usable CPU); pass --allow-large to run"
            " it anyway"
        )
    return levels


def parse_levels(text: str) -> list[int]:
    """The levels written as ``text``: comma-separated whole numbers in the digits 0-9, in
    rising order; a level given twice is an error (as an interpreter is, for ``--python``)."""
    levels: list[int] = []
    for part in text.split(","):
        level = limits.whole_number(part)
        if level is None:
            raise UsageError(
                f"--levels must be whole numbers{limits.spelling(part.strip())},"
                f" not {part.strip()!r}"
            )
        if level < 1:
            raise UsageError(f"--levels must be at least 1, not {level}")
        if level in levels:
            raise UsageError(f"--levels names level {level:,} twice: {text!r}")
        levels.append(level)
    return sorted(levels)
