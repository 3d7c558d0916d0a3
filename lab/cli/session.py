"""The run sequence every measuring command shares: the machine lock, the journal, the facts
and warnings, the rounds of cells, the report, the files, and the exit code."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.cli.progress import Progress
from lab.errors import LabError, exit_code_of
from lab.machine import metadata
from lab.report.fit import terminal_width, wrap_lines
from lab.report.terminal import header_lines, render_body, run_lines, warning_lines
from lab.results.analysis import analyse, different_answers
from lab.run.lock import machine_lock
from lab.run.rounds import run

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from lab.machine.metadata import Metadata
    from lab.report.output_files import Outputs
    from lab.results.journal import Journal
    from lab.results.model import Cell, Results, Sample
    from lab.run.rounds import Rounds
    from lab.task import Task

#: A cell failed, or a file of the run could not be written.
EXIT_FAILED = 1


@dataclass(frozen=True)
class MeasuringCommand:
    """A measuring command, every option checked: how its cells are measured, where to write
    the run, and how to show it."""

    rounds: Rounds
    outputs: Outputs
    tablefmt: str
    quiet: bool = False
    wide: bool = False
    #: Print nothing but errors (:func:`lab.measure`'s default): no facts, tables, progress
    #: or files written; the caller shows the results it gets back.
    silent: bool = False

    def say(self, text: str, error: bool = False) -> None:
        """Print a line of the report (stdout), or of what became of the run (stderr): errors
        always, the rest unless :attr:`silent`."""
        if error or not self.silent:
            print(text, file=sys.stderr if error else sys.stdout, flush=True)

    def note(self, text: str) -> None:
        """Print what became of the run on stderr, unless :attr:`silent`."""
        if not self.silent:
            print(text, file=sys.stderr)


@dataclass(frozen=True)
class Outcome:
    """What a measuring command came to: its exit code, the results (``None`` when nothing
    was measured: interrupted first) and what interrupted it, if anything did."""

    code: int
    results: Results | None
    interrupted: KeyboardInterrupt | None = None


def measure(
    command: MeasuringCommand,
    plan: Callable[[Metadata], tuple[Results, Mapping[str, Task]]],
    warnings: Callable[[Metadata], list[str]] = lambda facts: [],
) -> int:
    """Measure what ``plan`` builds under the machine lock, print the report and write the
    files the options asked for; the exit code."""
    return measured(command, plan, warnings).code


def measured(
    command: MeasuringCommand,
    plan: Callable[[Metadata], tuple[Results, Mapping[str, Task]]],
    warnings: Callable[[Metadata], list[str]] = lambda facts: [],
) -> Outcome:
    """:func:`measure`, with the results it measured."""
    width = terminal_width()
    with machine_lock():
        journal = command.outputs.journal()  # a file that cannot be written fails before the run
        if journal is not None and journal.earlier:
            command.note(f"lab: {_kept(journal)}")
        try:
            facts = metadata.collect(command.rounds.start_method)
            said = [*metadata.warnings(facts), *warnings(facts)]
            lines = [*header_lines(facts, width), *warning_lines(said)]
            command.say(wrap_lines("\n".join(lines), width))
            results, tasks = plan(facts)  # calibration, which may be interrupted
            results.warnings = said
        except KeyboardInterrupt as stop:
            if journal is not None:
                journal.discard()
            command.note("lab: interrupted before anything was measured")
            return Outcome(exit_code_of(stop), None, stop)
        except LabError:  # a calibrated size refused: nothing was measured
            if journal is not None:
                journal.discard()
            raise
        try:
            command.say(wrap_lines("\n".join(run_lines(results)), width))
            interrupted = measure_rounds(
                results, command.rounds, tasks, journal, command.quiet or command.silent
            )
        finally:
            if journal is not None:
                journal.close()
        if interrupted is not None and not any(c.samples for c in results.cells):
            if journal is not None:
                journal.discard()
            command.note("lab: interrupted before anything was measured")
            return Outcome(exit_code_of(interrupted), None, interrupted)
        command.say("\n" + render_body(results, command.tablefmt, width, command.wide))
        errors = [] if journal is None or journal.error is None else [journal.error]
        if journal is not None:
            failed = journal.finish(results)
            errors += [] if failed is None else [failed]
            if failed:
                command.say(f"lab: error: {failed}", error=True)
            else:
                command.note(f"lab: wrote {journal.path}")
        written = command.outputs.write(results)
        for line in written.lines:
            command.note(line)
        for error in written.errors:
            command.say(f"lab: error: {error}", error=True)
    if interrupted is not None:
        command.note("lab: interrupted; the tables show what was measured")
        return Outcome(exit_code_of(interrupted), results, interrupted)
    # A cell whose answers differ from its baseline's failed too (a fact, not a judgement on
    # timings, which the tables show and the exit code does not depend on).
    cell_failed = any(c.failure is not None for c in results.cells)
    if (
        errors
        or written.errors
        or cell_failed
        or any(map(different_answers, analyse(results).cells))
    ):
        return Outcome(EXIT_FAILED, results)
    return Outcome(0, results)


def _kept(journal: Journal) -> str:
    """What the journal left alone beside its results file, and where this run journals."""
    earlier = journal.earlier
    if len(earlier) == 1:
        found = f"{earlier[0]} is there already (an earlier run's journal) and is kept"
    else:
        found = f"{len(earlier)} journals of earlier runs are there already and are kept"
    return f"{found}; this run journals to {journal.partial}"


def measure_rounds(
    results: Results,
    rounds: Rounds,
    tasks: Mapping[str, Task],
    journal: Journal | None,
    quiet: bool,
) -> KeyboardInterrupt | None:
    """Run the results' cells, journalling every run and showing progress; what stopped it
    (Ctrl-C, SIGTERM), if anything did. ``results.complete`` says whether it ran to the end."""
    cells = results.cells
    if journal is not None:
        journal.begin(results)
        if journal.error is not None:
            print(f"lab: error: {journal.error}", file=sys.stderr, flush=True)
    progress = Progress(results, rounds.warmups + rounds.repeat, quiet)

    def on_run(cell: Cell, sample: Sample | None) -> None:
        if journal is not None and journal.error is None:
            journal.add(cells, cell, sample)
            if journal.error is not None:
                progress.write(f"lab: error: {journal.error}")
        progress.finished(cell, sample)

    interrupted: KeyboardInterrupt | None = None
    try:
        run(cells, rounds, tasks, on_run=on_run, on_start=progress.starting)
    except KeyboardInterrupt as stop:
        interrupted = stop
    finally:
        progress.close()
    results.complete = interrupted is None
    return interrupted
