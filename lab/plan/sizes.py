"""Each task's size for a matrix: given on the command line, preset by the profile, calibrated
to a job time here, or the task's default, and how it was chosen."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lab.errors import UsageError
from lab.plan.runs import task_info
from lab.run.calibrate import calibrate

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from lab.results.model import TaskInfo
    from lab.run.rounds import Rounds
    from lab.task import Task


@dataclass(frozen=True)
class Sizing:
    """How a matrix's sizes are chosen: the sizes the options gave, the profile's, the time
    one job of a calibrated task should take, and whether a calibrated size may pass its
    task's soft limit."""

    job_time: float
    given: Mapping[str, int | float] = field(default_factory=dict)
    preset: Mapping[str, float] = field(default_factory=dict)
    allow_large: bool = False

    def check(self, tasks: Sequence[Task], jobs: int, timeout: float) -> None:
        """Refuse, before anything runs, a job time whose jobs cannot end within ``timeout``:
        the baseline runs a cell's jobs one after another, in one run."""
        calibrated = next((t for t in tasks if self._calibrates(t)), None)
        if calibrated is None or jobs < timeout / self.job_time:
            return
        total = jobs * self.job_time if jobs < 2**1000 else math.inf  # a float cannot hold more
        raise UsageError(
            f"--job-time {self.job_time:g} s: a run of {calibrated.name} on the baseline, its"
            f" {jobs:,} jobs one after another, would take {total:,.6g} s, not less than"
            f" --timeout {timeout:g} s; lower --job-time or --jobs, or raise --timeout"
        )

    def _calibrates(self, task: Task) -> bool:
        return task.calibrated and task.name not in self.given and task.name not in self.preset

    def choose(
        self, tasks: Sequence[Task], rounds: Rounds, quiet: bool = False
    ) -> tuple[dict[str, int | float], list[TaskInfo]]:
        """Each task's size, calibrated now where neither given nor preset, and each task as
        the run uses it."""
        sizes: dict[str, int | float] = {}
        infos = []
        for task in tasks:
            sizes[task.name], how = self._size(task, rounds, quiet)
            infos.append(task_info(task, sizes[task.name], how))
        return sizes, infos

    def _size(self, task: Task, rounds: Rounds, quiet: bool) -> tuple[int | float, str]:
        """The task's size, and how it was chosen when calibrated."""
        if task.name in self.given:
            return self.given[task.name], ""
        if task.name in self.preset:
            return task.size.kind(self.preset[task.name]), ""
        if not task.calibrated:
            return task.size.default, ""
        if not quiet:
            print(f"calibrating {task.name} to {self.job_time:g} s a job...", file=sys.stderr)
        on = f" on {rounds.reference}" if len(rounds.interpreters) > 1 else ""
        how = f" (calibrated to {self.job_time:g} s a job{on})"
        size = calibrate(task, self.job_time, rounds)
        if size > task.size.soft_limit and not self.allow_large:
            raise UsageError(
                f"--job-time {self.job_time:g} s: {task.name} {task.size.name} {size:,}{how} is"
                f" above the limit of {task.size.format(task.size.soft_limit)}; pass"
                " --allow-large to run it anyway"
            )
        return size, how
