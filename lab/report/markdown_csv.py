"""Results as CSV (one row per cell, every figure) and as Markdown."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from lab.report.classic import render_classic
from lab.report.engines import ENGINES_TITLE, engine_table, engines_legend, fitted_lines
from lab.report.sweep_table import render_sweep_task, sweep_evidence, sweep_legend
from lab.report.table import gil_state, matrix_legend, render_task
from lab.report.terminal import render_header
from lab.report.verdict import render_verdict
from lab.results.analysis import LATENCY_PERCENTILES, WAKE_UP_PERCENTILES, analyse
from lab.results.engines import engine_costs
from lab.results.model import SWEEP

if TYPE_CHECKING:
    from lab.results.model import Results

CSV_COLUMNS = (
    "task", "python", "gil", "runner", "kind", "workers", "processes", "threads", "tasks",
    "jobs", "size",
    "status", "status_detail", "samples", "startup_s", "job_s_median", "job_s_q1", "job_s_q3",
    "job_s_mean", "job_s_sd", "job_s_min", "job_s_max", "wall_s", "cpu_s", "cores_used",
    "speedup", "speedup_ci_low", "speedup_ci_high", "ideal_speedup", "efficiency",
    "peak_memory_bytes", "memory_per_worker_bytes", "memory_per_worker_resolution_bytes",
    "ideal_job_s", "overhead_s", "wake_up_p50_s", "wake_up_p90_s", "wake_up_p99_s",
    "wake_up_max_s", "jobs_per_second", "vs_reference", "operation", "operation_p50_s",
    "operation_p90_s", "operation_p99_s", "operation_max_s", "operations_per_second",
    "session", "session_cpu_s", "session_peak_memory_bytes",
)  # fmt: skip


def to_csv(results: Results) -> str:
    """Every cell with every figure; empty fields where a cell has no such figure.
    ``memory_per_worker_bytes`` is empty when the rise is within its resolution."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(results))
    return out.getvalue()


def to_rows(results: Results) -> list[dict[str, object]]:
    """The CSV's rows as dicts by its columns (:data:`CSV_COLUMNS`), the figures as numbers,
    ``None`` where the CSV's field is empty."""
    return [
        {
            column: None if value == "" else value
            for column, value in zip(CSV_COLUMNS, row, strict=True)
        }
        for row in csv_rows(results)
    ]


def csv_rows(results: Results) -> list[list[object]]:
    """One row per cell, a value per column of :data:`CSV_COLUMNS` (``""`` for none)."""
    rows = []
    tasks = {t.name: t for t in reversed(results.tasks)}  # the first of a name, as results.task
    for analysed in analyse(results).cells:
        cell, fig, status = analysed.cell, analysed.figures, analysed.status
        operation = tasks[cell.task].operation
        session = tasks[cell.task].session_name
        if fig is None or fig.session_peak_memory is None:
            session = ""
        row: list[object] = [
            cell.task, cell.interpreter, gil_state(cell), cell.runner, cell.kind, cell.workers,
            cell.layout.processes,
            cell.layout.threads, cell.layout.tasks, cell.jobs, cell.size, status.kind.value,
            status.detail, 0 if fig is None else fig.samples,
        ]  # fmt: skip
        if fig is None:
            row += [""] * (len(CSV_COLUMNS) - len(row))
            kept = analysed.kept_peak  # a failed cell's, when it is exact
            if kept is not None and not kept.at_least:
                row[CSV_COLUMNS.index("peak_memory_bytes")] = kept.value
        else:
            jobs, interval, per_worker = fig.jobs, fig.interval, fig.memory_per_worker
            row += [
                fig.startup, jobs.median, jobs.q1, jobs.q3, jobs.mean, jobs.stdev, jobs.low,
                jobs.high, fig.total, "" if fig.outside_tree else fig.cpu, _blank(fig.cores),
                _blank(fig.speedup),
                _blank(interval.low if interval else None),
                _blank(interval.high if interval else None),
                _blank(fig.ideal), _blank(fig.efficiency),
                "" if fig.outside_tree else fig.peak_memory,
                _blank(per_worker.value if per_worker and per_worker.resolved else None),
                _blank(per_worker.resolution if per_worker else None),
                _blank(fig.ideal_job_time), _blank(fig.overhead),
                *(fig.wake_ups or [""] * len(WAKE_UP_PERCENTILES)),
                _blank(fig.jobs_per_second), _blank(fig.vs_reference), operation,
                *(fig.latencies or [""] * len(LATENCY_PERCENTILES)),
                _blank(fig.operations_per_second), session,
                _blank(fig.session_cpu), _blank(fig.session_peak_memory),
            ]  # fmt: skip
        rows.append(row)
    return rows


def to_markdown(results: Results) -> str:
    """The report as Markdown: the facts as a list, a GitHub table per task (a sweep's for a
    sweep), the legend, and for a matrix the verdict."""
    analysis = analyse(results)
    header = "\n".join(f"- {line}" for line in render_header(results).splitlines())
    parts = ["# concurrency-lab results", header]
    sweep = results.kind == SWEEP
    render = render_sweep_task if sweep else render_task
    legend = sweep_legend(analysis, True) if sweep else "\n".join(matrix_legend(analysis, True))
    for task in results.tasks:
        table = render(analysis, task.name, "github", None, True)
        found = sweep_evidence(analysis, task.name) if sweep else []
        shown = "".join(f"\n\n- {line}" for line in found)
        parts.append(f"## {task.name}\n\n{task.description}\n\n{table}{shown}")
    parts.append(f"```text\n{legend}\n```")
    verdict = "" if sweep else render_verdict(analysis.compared, "github")
    if verdict:
        parts.append(f"## Threads or processes?\n\n{verdict}")
    classic = "" if sweep else render_classic(analysis.compared, "github")
    if classic:
        parts.append(f"## The classic comparison, measured\n\n{classic}")
    costs = () if sweep else engine_costs(analysis)
    engines = engine_table(costs, "github")
    fitted = fitted_lines(costs)
    if engines:
        parts.append(
            f"## {ENGINES_TITLE.rstrip(':').capitalize()}\n\n{engines}\n\n"
            + "".join(f"- {line}\n" for line in fitted)
            + ("\n" if fitted else "")
            + engines_legend(analysis)
        )
    if not results.complete:
        parts.append("This run was interrupted; the tables show what was measured.")
    return "\n\n".join(parts) + "\n"


def _blank(value: float | None) -> object:
    return "" if value is None else value
