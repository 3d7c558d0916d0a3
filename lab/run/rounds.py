"""Measuring planned cells round by round, each run in a fresh worker process, every answer
checked before it becomes a sample."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lab.jobs import span
from lab.results import status
from lab.results.model import Cell, Sample
from lab.run import validate
from lab.run.supervisor import WorkerPython, run_cell
from lab.worker.protocol import CellSpec

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from lab.host.manager import PluginOptions
    from lab.task import Task


#: Folders that hold an interpreter's installed packages, wherever they are (a user site, a
#: system Python's): never handed to a worker, which has its own.
INSTALLED = frozenset({"site-packages", "dist-packages"})


def portable_sys_path() -> tuple[str, ...]:
    """The lab's import path less its interpreter's own folders (the standard library,
    site-packages), which a worker on another interpreter must not import from: what is left
    are the folders given through PYTHONPATH or ``-p`` plugins' locations."""
    own = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    folders = [os.path.abspath(entry or os.curdir) for entry in sys.path]
    return tuple(
        folder
        for folder in dict.fromkeys(folders)
        if not any(os.path.realpath(folder).startswith(prefix + os.sep) for prefix in own)
        and not INSTALLED.intersection(Path(folder).parts)
    )


@dataclass(frozen=True)
class Settings:
    """How every cell is run: warm-up and measured rounds, the per-run timeout, the start
    method, the trace, and the plugin options the worker processes load plugins with."""

    repeat: int
    timeout: float
    start_method: str
    warmups: int = 0
    trace: bool = False
    blocked: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    autoload: bool = True
    #: The Python of each interpreter's cells, by label ("" is the lab's own).
    pythons: Mapping[str, WorkerPython] = field(default_factory=dict)
    #: Each runner's values from ``--runner-option``, by runner name.
    runner_options: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: Each task's values from ``--task-option``, by task name.
    task_options: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def of_command(
        cls,
        rounds: tuple[int, int, float],
        start_method: str,
        plugins: PluginOptions,
        pythons: Mapping[str, WorkerPython],
        trace: bool = False,
        runner_options: Mapping[str, Mapping[str, str]] | None = None,
        task_options: Mapping[str, Mapping[str, str]] | None = None,
    ) -> Settings:
        """A measuring command's settings: its (warm-up rounds, measured rounds, timeout),
        start method and trace, the plugins the workers load, and each interpreter's Python."""
        warmups, repeat, timeout = rounds
        return cls(
            repeat=repeat,
            warmups=warmups,
            timeout=timeout,
            start_method=start_method,
            trace=trace,
            blocked=plugins.blocked,
            modules=plugins.modules,
            autoload=plugins.should_autoload(),
            pythons=pythons,
            runner_options=dict(runner_options or {}),
            task_options=dict(task_options or {}),
        )

    def python(self, interpreter: str) -> WorkerPython | None:
        return self.pythons.get(interpreter)

    @property
    def reference(self) -> str:
        """The interpreter sizes are calibrated on: the first one."""
        return next(iter(self.pythons), "")

    def spec(
        self, task: str, runner: str | None, workers: str, jobs: int, size: int | float
    ) -> CellSpec:
        return CellSpec(
            task=task,
            runner=runner,
            workers=workers,
            jobs=jobs,
            size=size,
            start_method=self.start_method,
            trace=self.trace,
            blocked=self.blocked,
            modules=self.modules,
            autoload=self.autoload,
            sys_path=portable_sys_path(),
            runner_options=dict(self.runner_options.get(runner or "", {})),
            task_options=dict(self.task_options.get(task, {})),
        )


def run(
    cells: list[Cell],
    settings: Settings,
    tasks: Mapping[str, Task],
    on_run: Callable[[Cell, Sample | None], None] | None = None,
    on_start: Callable[[Cell], None] | None = None,
) -> None:
    """Measure every runnable cell in rounds: ``settings.warmups`` rounds whose samples are
    dropped, then ``settings.repeat`` measured ones. Rounds are interleaved (round 1 of every
    cell, then round 2) so a drift of the machine does not favour one runner. A cell that fails
    is not run again. ``on_start`` hears of every run about to start, ``on_run`` of every run
    that ended: its kept sample, or ``None``."""
    for round_number in range(settings.warmups + settings.repeat):
        for cell in cells:
            if cell.runnable:
                if on_start is not None:
                    on_start(cell)
                keep = round_number >= settings.warmups
                sample = measure_once(cell, settings, tasks[cell.task], keep=keep)
                if on_run is not None:
                    on_run(cell, sample)


def measure_once(cell: Cell, settings: Settings, task: Task, keep: bool = True) -> Sample | None:
    """One run of ``cell`` in a worker process: a sample (dropped unless ``keep``), or the
    cell's failure."""
    spec = settings.spec(cell.task, cell.runner, cell.workers, cell.jobs, cell.size)
    outcome = run_cell(spec, settings.timeout, python=settings.python(cell.interpreter))
    measurement = outcome.measurement
    if outcome.failure is not None or measurement is None:
        cell.failure = outcome.failure or status.error("no measurement")
        return None
    if measurement.error is not None:
        cell.failure = status.error(measurement.error)
        return None
    found = validate.problems(measurement, cell.jobs, cell.layout, task, cell.size)
    if found:
        extra = len(found) - 1
        more = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else ""
        cell.failure = status.error(f"{found[0]}{more}")
        return None
    if not keep:
        return None
    records = measurement.records
    sample = Sample(
        startup=measurement.startup or 0.0,
        wall=measurement.wall or 0.0,
        teardown=measurement.teardown or 0.0,
        cpu=measurement.cpu or 0.0,
        cpu_resolution=measurement.cpu_resolution or 0.0,
        job_span=span(records),
        peak_memory=outcome.peak_memory,
        gil_enabled=measurement.gil_enabled,
        records=records,
        outside_tree=measurement.outside_tree,
        session_cpu=measurement.session_cpu,
        session_peak_memory=outcome.session_peak_memory,
    )
    cell.samples.append(sample)
    return sample
