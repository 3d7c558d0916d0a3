"""Measuring planned cells round by round, each run in a fresh worker process, every answer
checked before it becomes a sample."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lab.boundary.requests import CellSpec, WorkerOptions
from lab.records import Records
from lab.results import status
from lab.results.model import Cell, Sample, span
from lab.run import validate
from lab.run.supervisor import run_cell

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from lab.envs.interpreters import Interpreter
    from lab.task import Task


@dataclass(frozen=True)
class Rounds:
    """How every cell of a run is measured: warm-up and measured rounds, the per-run timeout,
    the start method, the trace, the options every worker process is set up with, and the
    interpreters ``--python`` named, the reference first (none: the lab's own)."""

    repeat: int
    timeout: float
    start_method: str
    warmups: int = 0
    trace: bool = False
    worker: WorkerOptions = field(default_factory=WorkerOptions)
    interpreters: tuple[Interpreter, ...] = ()
    #: Whether a cell's jobs must use its whole layout (a matrix); in a sweep, how many of a
    #: level's jobs ran at once is a finding, not a fault.
    uses_layout: bool = True

    def interpreter(self, label: str) -> Interpreter:
        """The interpreter of the cells labelled ``label`` (``""``: the lab's own)."""
        found = (i for i in self.interpreters if i.label == label)
        return next(found, self.worker.interpreter)

    @property
    def reference(self) -> str:
        """The label of the interpreter sizes are calibrated on: the first one."""
        return self.interpreters[0].label if self.interpreters else ""

    def spec(
        self,
        task: str,
        runner: str | None,
        workers: str,
        jobs: int,
        size: int | float,
        interpreter: str = "",
    ) -> CellSpec:
        """What a worker on ``interpreter`` is asked to measure for one run of a cell."""
        return CellSpec(
            task=task,
            runner=runner,
            workers=workers,
            jobs=jobs,
            size=size,
            start_method=self.start_method,
            trace=self.trace,
            worker=self.worker.on(self.interpreter(interpreter)),
        )


def run(
    cells: list[Cell],
    rounds: Rounds,
    tasks: Mapping[str, Task],
    on_run: Callable[[Cell, Sample | None], None] | None = None,
    on_start: Callable[[Cell], None] | None = None,
) -> None:
    """Measure every runnable cell in rounds: ``rounds.warmups`` rounds whose samples are
    dropped, then ``rounds.repeat`` measured ones. Rounds are interleaved (round 1 of every
    cell, then round 2) so a drift of the machine does not favour one runner. A cell that fails
    is not run again. ``on_start`` hears of every run about to start, ``on_run`` of every run
    that ended: its kept sample, or ``None``."""
    for round_number in range(rounds.warmups + rounds.repeat):
        for cell in cells:
            if cell.runnable:
                if on_start is not None:
                    on_start(cell)
                keep = round_number >= rounds.warmups
                sample = measure_once(cell, rounds, tasks[cell.task], keep=keep)
                if on_run is not None:
                    on_run(cell, sample)


def measure_once(cell: Cell, rounds: Rounds, task: Task, keep: bool = True) -> Sample | None:
    """One run of ``cell`` in a worker process: a sample (dropped unless ``keep``), or the
    cell's failure."""
    spec = rounds.spec(cell.task, cell.runner, cell.workers, cell.jobs, cell.size, cell.interpreter)
    outcome = run_cell(spec, rounds.timeout)
    measurement = outcome.measurement
    failure = None
    if outcome.failure is not None or measurement is None:
        failure = outcome.failure or status.error("no measurement")
    elif measurement.error is not None:
        failure = status.error(measurement.error)
    else:
        found = validate.problems(
            measurement, cell.jobs, cell.layout, task, cell.size, rounds.uses_layout
        )
        failure = None
        if found:
            failure = status.error(validate.summary(found), validate.first_traceback(measurement))
    if failure is not None or measurement is None:
        cell.failure = failure
        cell.failed_peak_memory = outcome.peak_memory or None  # no sample of the tree: unknown
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
        records=Records.of(records),
        outside_tree=measurement.outside_tree,
        session_cpu=measurement.session_cpu,
        session_peak_memory=outcome.session_peak_memory,
        records_memory=measurement.records_memory,
        others_peak_memory=outcome.others_peak_memory,
    )
    cell.samples.append(sample)
    return sample
