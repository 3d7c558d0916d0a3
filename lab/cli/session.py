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
from lab.results.analysis import analyse
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


def measure(
    command: MeasuringCommand,
    plan: Callable[[Metadata], tuple[Results, Mapping[str, Task]]],
    warnings: Callable[[Metadata], list[str]] = lambda facts: [],
) -> int:
    """Measure what ``plan`` builds under the machine lock, print the report and write the
    files the options asked for; the exit code."""
    width = terminal_width()
    with machine_lock():
        journal = command.outputs.journal()  # a file that cannot be written fails before the run
        if journal is not None and journal.earlier:
            print(f"lab: {_kept(journal)}", file=sys.stderr)
        try:
            facts = metadata.collect(command.rounds.start_method)
            said = [*metadata.warnings(facts), *warnings(facts)]
            lines = [*header_lines(facts, width), *warning_lines(said)]
            print(wrap_lines("\n".join(lines), width), flush=True)
            results, tasks = plan(facts)  # calibration, which may be interrupted
            results.warnings = said
        except KeyboardInterrupt as stop:
            if journal is not None:
                journal.discard()
            print("lab: interrupted before anything was measured", file=sys.stderr)
            return exit_code_of(stop)
        except LabError:  # a calibrated size refused: nothing was measured
            if journal is not None:
                journal.discard()
            raise
        try:
            print(wrap_lines("\n".join(run_lines(results)), width), flush=True)
            interrupted = measure_rounds(results, command.rounds, tasks, journal, command.quiet)
        finally:
            if journal is not None:
                journal.close()
        if interrupted is not None and not any(c.samples for c in results.cells):
            if journal is not None:
                journal.discard()
            print("lab: interrupted before anything was measured", file=sys.stderr)
            return exit_code_of(interrupted)
        print("\n" + render_body(results, command.tablefmt, width, command.wide), flush=True)
        errors = [] if journal is None or journal.error is None else [journal.error]
        if journal is not None:
            failed = journal.finish(results)
            errors += [] if failed is None else [failed]
            outcome = f"lab: error: {failed}" if failed else f"lab: wrote {journal.path}"
            print(outcome, file=sys.stderr)
        written = command.outputs.write(results)
        for line in written.lines:
            print(line, file=sys.stderr)
        for error in written.errors:
            print(f"lab: error: {error}", file=sys.stderr)
    if interrupted is not None:
        print("lab: interrupted; the tables show what was measured", file=sys.stderr)
        return exit_code_of(interrupted)
    # A cell the analysis judged (its records cannot be true, its answers differ) failed too.
    if errors or written.errors or any(a.status.failed for a in analyse(results).cells):
        return EXIT_FAILED
    return 0


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
