"""Progress of a measuring command on stderr: a bar with the time elapsed and an estimate of
the time left, naming the cell that is running. Quiet when stderr is not a terminal.

Runs differ a hundredfold in length (a process pool's start-up, ten-second sleeps, 10,000
waiters), so the bar counts expected seconds rather than runs: each run is weighted by what it
should take, from its task's size and its layout until it has run once, then by what it took.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tqdm import tqdm

from lab.report.table import workers_text
from lab.runner import PROCESSES, PROCESSES_THREADS

if TYPE_CHECKING:
    from lab.results.model import Cell, Results, Sample

#: What a job that is not a timed wait is taken to cost before it has run: the default
#: calibrated job time.
UNKNOWN_JOB_SECONDS = 0.2
#: A job that moves data (echo, tcp) before it has run.
TRANSFER_JOB_SECONDS = 0.005
#: Starting one worker process (spawn, imports).
PROCESS_START_SECONDS = 0.1


class Progress:
    """The bar of one measuring command's runs."""

    def __init__(self, results: Results, rounds: int, quiet: bool) -> None:
        self.rounds = rounds
        self.sizes = {t.name: (t.size_name, float(t.size), t.bound) for t in results.tasks}
        self.cpus = results.metadata.cpus
        self.took: dict[int, float] = {}
        self.runs_left = {id(c): rounds for c in results.cells if c.runnable}
        cells = [c for c in results.cells if c.runnable]
        #: Expected seconds of the runs done, and of all the runs to do.
        self.done = 0.0
        self.total = sum(self.expected(c) for c in cells) * rounds
        self.bar = tqdm(
            total=self.total,
            disable=quiet or not sys.stderr.isatty(),
            file=sys.stderr,
            leave=False,
            dynamic_ncols=True,
            bar_format="{percentage:3.0f}%|{bar}| {elapsed}<{remaining} {desc}",
        )

    def expected(self, cell: Cell) -> float:
        """Seconds one run of ``cell`` should take: what it took last, else an estimate."""
        if id(cell) in self.took:
            return self.took[id(cell)]
        size_name, size, bound = self.sizes.get(cell.task, ("", 0.0, ""))
        if size_name == "seconds":
            job = size
        else:
            job = TRANSFER_JOB_SECONDS if bound == "transfer" else UNKNOWN_JOB_SECONDS
        layout = cell.layout
        at_once = layout.concurrency
        if bound == "cpu":
            at_once = min(layout.processes * layout.threads, self.cpus)
        start = PROCESS_START_SECONDS * layout.processes
        start *= cell.kind in (PROCESSES, PROCESSES_THREADS)
        return start + cell.jobs * job / max(at_once, 1)

    def starting(self, cell: Cell) -> None:
        """Name the cell about to run."""
        where = f" on {cell.interpreter}" if cell.interpreter else ""
        self.bar.set_description_str(
            f"{cell.task} · {cell.runner} {workers_text(cell)}{where}", refresh=True
        )

    def finished(self, cell: Cell, sample: Sample | None) -> None:
        """Count a run of ``cell``; a cell that failed drops the runs it will not have."""
        expected = self.expected(cell)
        self.runs_left[id(cell)] -= 1
        if sample is not None:
            self.took[id(cell)] = sample.startup + sample.wall + sample.teardown
        remaining = self.runs_left[id(cell)]
        change = (self.expected(cell) - expected) * remaining
        if cell.failure is not None:
            change -= self.expected(cell) * remaining
            self.runs_left[id(cell)] = 0
        self.done += expected
        self.total = max(self.done, self.total + change)
        self.bar.total = self.total
        self.bar.update(expected)

    def write(self, line: str) -> None:
        """Print a line above the bar."""
        self.bar.write(line, file=sys.stderr)

    def close(self) -> None:
        self.bar.close()
