"""A run as text: the header, one table per task, the legend, the verdict and notes. The same
for a run just measured and for one loaded from a file."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from lab.machine import metadata
from lab.report.classic import render_classic
from lab.report.engines import render_engines
from lab.report.fit import join_fitting, wrap_lines
from lab.report.own_verdict import render_own_verdict
from lab.report.sweep_table import render_sweep
from lab.report.table import matrix_legend, render_task
from lab.report.verdict import render_verdict
from lab.results.analysis import analyse
from lab.results.model import SWEEP, UNSIZED
from lab.results.own_verdict import is_own

if TYPE_CHECKING:
    from lab.machine.metadata import Metadata
    from lab.results.model import Results, TaskInfo


#: The heading of the classic comparison's table.
CLASSIC_TITLE = "the classic comparison of threads and processes, measured here:"


def _call_text(task: TaskInfo) -> str:
    """A user's function's call as written: ``mod:f(0.1, sep=+)``, its async twin beside it."""
    try:
        args = list(json.loads(task.options.get("args", "[]")))
        kwargs = dict(json.loads(task.options.get("kwargs", "{}")))
    except (ValueError, TypeError):
        return task.name
    items = task.options.get("items") or task.options.get("items_file")
    if not items and "items_literals" in task.options:
        items = "the items given in Python"
    given = ", ".join(
        [*(["ITEM"] if items else []), *map(str, args), *(f"{k}={v}" for k, v in kwargs.items())]
    )
    twin = task.options.get("async")
    return (
        f"{task.name}({given})"
        + (f" for each ITEM of {items}" if items else "")
        + (f", async twin {twin}" if twin else "")
    )


def sizes_line(results: Results) -> str:
    settings = results.settings
    notes = [
        _call_text(t)
        if t.size_name == UNSIZED
        else f"{t.name}: {t.size_name} {t.size_text}{t.how}"
        + (f", {t.options_text}" if t.options else "")
        for t in results.tasks
    ]
    repeat = settings["repeat"]
    runs = f"{repeat} measured run{'s' * (repeat > 1)}"
    warm = f"{settings['warmups']} warm-up" if settings["warmups"] else "no warm-up"
    if results.kind == SWEEP:
        levels = ", ".join(f"{level:,}" for level in settings["levels"])
        return " · ".join([*notes, f"levels {levels}", f"{warm} and {runs} a level"])
    counts = sorted({cell.jobs for cell in results.cells}) or [settings["jobs"]]
    jobs = ", ".join(f"{count:,}" for count in counts)
    return " · ".join([*notes, f"{jobs} jobs a cell", f"{warm} and {runs} a cell"])


def run_lines(results: Results) -> list[str]:
    """What the run measures on and with: its interpreters (when ``--python`` named some),
    then its sizes and rounds."""
    lines = []
    if results.interpreters:
        described = []
        for number, found in enumerate(results.interpreters):
            gil = {"0": ", GIL off", "1": ", GIL forced on"}.get(str(found.get("gil")), "")
            role = ", the reference" if number == 0 and len(results.interpreters) > 1 else ""
            described.append(f"{found['label']}: {found['description']}{gil}{role}")
        lines.append("python " + " · ".join(described))
    return [*lines, sizes_line(results)]


def header_lines(facts: Metadata, width: int | None = None) -> list[str]:
    """The machine's facts, ``·``-separated, in as few lines of ``width`` as they fit."""
    return [line for group in metadata.header(facts) for line in join_fitting(group, width)]


def render_header(results: Results, width: int | None = None) -> str:
    """The facts, what the run measured with, and the warnings it gave when it ran."""
    lines = [*header_lines(results.metadata, width), *warning_lines(results.warnings)]
    return wrap_lines("\n".join([*lines, *run_lines(results)]), width)


def warning_lines(warnings: list[str]) -> list[str]:
    """The run's warnings, as the header shows them."""
    return [f"warning: {warning}" for warning in warnings]


def render_body(
    results: Results, tablefmt: str, width: int | None = None, wide: bool = False
) -> str:
    """Everything after the header: the tables (and for a matrix, the legend and the verdict),
    then notes; within ``width`` columns where it can be, every column when ``wide``."""
    analysis = analyse(results)
    if results.kind == SWEEP:
        parts = [render_sweep(analysis, tablefmt, width, wide)]
    else:
        parts = [
            wrap_lines(f"{task.name}: {task.description}", width)
            + "\n"
            + render_task(analysis, task.name, tablefmt, width, wide)
            + (f"\n{wrap_lines(said, width)}" if (said := analysis.answers.get(task.name)) else "")
            for task in results.tasks
        ]
        parts += [wrap_lines(paragraph, width) for paragraph in matrix_legend(analysis, wide)]
        compared = analysis.compared
        own = render_own_verdict(compared, tablefmt, width)
        if own:
            parts.append(own)
        if not all(is_own(t) for t in results.tasks):  # the classic claims are on the lab's work
            verdict = render_verdict(compared, tablefmt, width)
            if verdict:
                parts.append(verdict)
            classic = render_classic(compared, tablefmt, width)
            if classic:
                parts.append(f"{wrap_lines(CLASSIC_TITLE, width)}\n{classic}")
        engines = render_engines(analysis, tablefmt, width)
        if engines:
            parts.append(engines)
    notes = [n for n in (gil_note(results),) if n]
    if not results.complete:
        notes.append("note: this run was interrupted; the tables show what was measured")
    if notes:
        parts.append(wrap_lines("\n".join(notes), width))
    return "\n\n".join(parts)


def render(results: Results, tablefmt: str, width: int | None = None, wide: bool = False) -> str:
    return render_header(results, width) + "\n\n" + render_body(results, tablefmt, width, wide)


def gil_note(results: Results) -> str | None:
    """A note when cells saw another GIL state than their interpreter was to give them (an
    import re-enabled it): the lab's own, or the one ``--python`` asked for."""
    expected = {"": results.metadata.gil_enabled}
    for found in results.interpreters:
        expected[str(found["label"])] = found.get("gil") != "0"
    differing = sorted(
        {
            f"{c.task}/{c.runner}" + (f" on {c.interpreter}" if c.interpreter else "")
            for c in results.cells
            for s in c.samples
            if s.gil_enabled is not None
            and s.gil_enabled != expected.get(c.interpreter, results.metadata.gil_enabled)
        }
    )
    if not differing:
        return None
    return f"note: the GIL was not as expected in these cells' workers: {', '.join(differing)}"
