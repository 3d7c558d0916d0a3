"""What each kind of HTML page shows, as data: the sections, tables, charts and words of a
run (a matrix, a sweep, a user's function) or of a comparison, from the one analysis and the
same tables and sentences the terminal shows (every column, as ``--wide`` gives them)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from lab.report import comparison_table, sweep_table
from lab.report.classic import NOT_MEASURED, classic_rows
from lab.report.engines import (
    ENGINES_TITLE,
    HEADERS,
    engine_rows,
    engines_legend,
    fitted_lines,
)
from lab.report.html import charts
from lab.report.html.tables import table, text_table
from lab.report.own_verdict import own_rows
from lab.report.table import matrix_legend, session_names, task_columns, workers_text
from lab.report.terminal import CLASSIC_TITLE, gil_note, header_lines, run_lines
from lab.report.units import duration
from lab.report.verdict import verdict_rows
from lab.results.analysis import analyse
from lab.results.comparison import Judgement
from lab.results.engines import engine_costs
from lab.results.model import SWEEP
from lab.results.own_verdict import is_own, own_verdicts
from lab.results.sweep import short_of_level

if TYPE_CHECKING:
    from lab.report.comparison_table import Compared
    from lab.results.analysis import Analysis
    from lab.results.comparison import Match
    from lab.results.model import Results

Content = dict[str, Any]

#: A comparison's chart shows at most this many cells, a row each.
MOST_RATIOS = 60
MATRIX, SWEEP_PAGE, OWN, COMPARE = "matrix", "sweep", "own", "compare"
TITLES = {
    MATRIX: "threads, processes, event loops: this machine's matrix",
    SWEEP_PAGE: "IO at rising concurrency: this machine's sweep",
    OWN: "your function, run every way: this machine's verdict",
    COMPARE: "two runs compared",
}


def page_kind(results: Results) -> str:
    if results.kind == SWEEP:
        return SWEEP_PAGE
    return OWN if results.tasks and all(is_own(t) for t in results.tasks) else MATRIX


def results_content(results: Results) -> Content:
    """A run's page: its header, a section a task (words, charts, the table, timelines), the
    verdicts and the legend."""
    analysis = analyse(results)
    kind = page_kind(results)
    style = charts.styles(analysis)
    sweep = kind == SWEEP_PAGE
    section = _sweep_section if sweep else _task_section
    sections = [
        {"name": task.name, "description": task.description, **section(analysis, task.name, style)}
        for task in results.tasks
    ]
    notes = [note for note in (gil_note(results),) if note]
    if not results.complete:
        notes.append("this run was interrupted; the page shows what was measured")
    return {
        "kind": kind,
        "title": TITLES[kind],
        "facts": header_lines(results.metadata),
        "warnings": list(results.warnings),
        "run": run_lines(results),
        "sections": sections,
        "verdicts": [] if sweep else _verdicts(analysis),
        "legend": _legend(analysis),
        "notes": notes,
    }


def _task_section(analysis: Analysis, task: str, style: dict[str, int]) -> Content:
    """A task's charts (at the most jobs a cell where the run has several job counts), its
    table of every cell, and its timelines."""
    columns, below = task_columns(analysis, task, wide=True)
    compared = analysis.compared
    speed = charts.speedup_chart(compared, task, style) or charts.job_time_chart(
        compared, task, style
    )
    memory = charts.memory_chart(compared, task, style)
    timelines, left_out = charts.timeline_charts(compared, task)
    said = analysis.answers.get(task)
    return {
        "evidence": [said] if said else [],
        "charts": [c for c in (speed, memory) if c is not None],
        "table": table(columns) if columns else None,
        "below": below,
        "timelines": timelines,
        "timelines_left_out": left_out,
    }


def _sweep_section(analysis: Analysis, task: str, style: dict[str, int]) -> Content:
    columns, below = sweep_table.sweep_columns(analysis, task, wide=True)
    return {
        "evidence": sweep_table.sweep_evidence(analysis, task),
        "charts": charts.sweep_charts(analysis, task, style),
        "table": table(columns) if columns else None,
        "below": below,
        "timelines": [],
        "timelines_left_out": [],
    }


def _verdicts(analysis: Analysis) -> list[Content]:
    """The verdict on each user function, then (for the lab's own work) the verdict and the
    classic comparison, then the distributed engines beside a process pool, each a titled
    table."""
    found = []
    engines = _engines(analysis)
    analysis = analysis.compared
    for verdict in own_verdicts(analysis):
        rows = own_rows(analysis, verdict)
        found.append(
            {
                "title": f"the verdict on {verdict.task.name}",
                "table": text_table(["which way?", "this run's evidence"], [list(r) for r in rows]),
            }
        )
    if all(is_own(t) for t in analysis.results.tasks):
        return found
    rows = verdict_rows(analysis)
    if rows:
        found.append(
            {
                "title": "the verdict",
                "table": text_table(
                    ["threads or processes?", "this run's evidence"], [list(r) for r in rows]
                ),
            }
        )
    classic = classic_rows(analysis)
    if any(r.verdict != NOT_MEASURED for r in classic):
        found.append(
            {
                "title": CLASSIC_TITLE.rstrip(":"),
                "table": text_table(
                    ["the classic claim", "this run's figures", "verdict"],
                    [[f"{r.aspect}: {r.claim}", r.evidence, r.verdict] for r in classic],
                ),
            }
        )
    return found + engines


def _engines(analysis: Analysis) -> list[Content]:
    """The distributed engines beside a process pool, with what its columns mean, when the
    run set any beside one."""
    costs = engine_costs(analysis)
    rows = engine_rows(costs)
    if not rows:
        return []
    return [
        {
            "title": ENGINES_TITLE.rstrip(":"),
            "table": text_table(list(HEADERS), rows),
            "legend": " ".join([*fitted_lines(costs), engines_legend(analysis)]),
        }
    ]


def _legend(analysis: Analysis) -> list[str]:
    results = analysis.results
    if results.kind != SWEEP:
        return [line for part in matrix_legend(analysis, wide=True) for line in part.splitlines()]
    operations = sorted({t.operation for t in results.tasks if t.operation})
    short = any(short_of_level(a) for a in analysis.cells)
    records = any(sweep_table.records_per_waiter(a) is not None for a in analysis.cells)
    return sweep_table.legend(operations, session_names(results), short, records).splitlines()


def comparison_content(compared: Compared) -> Content:
    """A comparison's page: for each later run against the first, its notes, a chart of each
    matched cell's after / before with its interval (the significant changes first), the
    table in that order, the cells measured on different work, and the headline."""
    runs = []
    for name, found in compared.runs:
        ordered = significant_first(found.matches)
        runs.append(
            {
                "title": f"{name} against {compared.base}",
                "notes": list(found.notes),
                "chart": _ratio_chart(ordered) if ordered else None,
                "table": table(comparison_table.match_columns(ordered)) if ordered else None,
                "nothing": "" if ordered else comparison_table.NOTHING_MATCHED,
                "different": (
                    table(comparison_table.different_columns(found)) if found.different else None
                ),
                "headline": comparison_table.headline(found, name, compared.base),
            }
        )
    return {
        "kind": COMPARE,
        "title": TITLES[COMPARE],
        "facts": [],
        "warnings": [],
        "run": [f"reference: {compared.base}"],
        "runs": runs,
        "sections": [],
        "verdicts": [],
        "legend": [
            "after / before: the later run's median jobs time / the reference's (below 1:"
            " faster) · 95% CI: the ratio's interval; a change is significant when it leaves 1"
        ],
        "notes": [],
    }


def significant_first(matches: list[Match]) -> list[Match]:
    """The matches with the significant changes first (faster or slower), the largest change
    first among them, then the rest in their order."""
    significant = (Judgement.FASTER, Judgement.SLOWER)
    return sorted(
        matches,
        key=lambda m: (
            m.judgement not in significant,
            -abs(math.log(m.ratio)) if m.judgement in significant and m.ratio > 0 else 0.0,
        ),
    )


def _ratio_chart(matches: list[Match]) -> charts.Chart:
    """After / before of the first :data:`MOST_RATIOS` matches (the significant changes come
    first), each with its interval."""
    rows, points = [], []
    for number, match in enumerate(matches[:MOST_RATIOS]):
        cell = match.before
        on = f" on {cell.interpreter}" if cell.interpreter else ""
        rows.append(f"{cell.task} {cell.runner} {workers_text(cell)}{on}")
        point: dict[str, Any] = {
            "row": number,
            "ratio": match.ratio,
            "verdict": comparison_table.verdict_words(match),
            "before": duration(match.before_median),
            "after": duration(match.after_median),
        }
        if match.interval is not None:
            point.update(low=match.interval.low, high=match.interval.high)
        points.append(point)
    shown = (
        "each cell"
        if len(matches) <= MOST_RATIOS
        else f"the first {MOST_RATIOS} of {len(matches):,} cells (all are in the table)"
    )
    return {
        "kind": "ratios",
        "title": f"after / before, {shown}, with its 95% interval (1: no change)",
        "rows": rows,
        "points": points,
    }
