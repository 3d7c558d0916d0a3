"""Results as CSV (one row per cell, every figure) and as Markdown."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from lab.report.table import BASELINE, LEGEND, render_task
from lab.report.text import render_header
from lab.report.verdict import render_verdict
from lab.results.analysis import figures, ideal_speedup

if TYPE_CHECKING:
    from lab.results.model import Results

CSV_COLUMNS = (
    "task", "runner", "workers", "processes", "threads", "tasks", "jobs", "size", "status",
    "samples", "startup_s", "job_s_median", "job_s_q1", "job_s_q3", "job_s_mean", "job_s_sd",
    "job_s_min", "job_s_max", "wall_s", "cpu_s", "cores_used", "speedup", "speedup_ci_low",
    "speedup_ci_high", "ideal_speedup", "efficiency", "peak_memory_bytes",
    "memory_per_worker_bytes", "unstable",
)  # fmt: skip


def to_csv(results: Results) -> str:
    """Every cell with every figure; empty fields where a cell has no such figure."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    cpus = results.metadata.cpus
    for cell in results.cells:
        same_task = [c for c in results.cells if c.task == cell.task]
        baseline = next((c for c in same_task if c.runner == BASELINE), None)
        siblings = [c for c in same_task if c.runner == cell.runner]
        fig = figures(cell, baseline, cpus, siblings)
        row: list[object] = [
            cell.task, cell.runner, cell.workers, cell.layout.processes, cell.layout.threads,
            cell.layout.tasks, cell.jobs, cell.size, cell.status, len(cell.samples),
        ]  # fmt: skip
        if fig is None:
            row += [""] * (len(CSV_COLUMNS) - len(row))
        else:
            jobs, interval = fig.jobs, fig.interval
            row += [
                fig.startup, jobs.median, jobs.q1, jobs.q3, jobs.mean, jobs.stdev, jobs.low,
                jobs.high, fig.total, fig.cpu, fig.cores, _blank(fig.speedup),
                _blank(interval.low if interval else None),
                _blank(interval.high if interval else None),
                _blank(ideal_speedup(cell, cpus)), _blank(fig.efficiency), fig.peak_memory,
                _blank(fig.memory_per_worker), fig.unstable or "",
            ]  # fmt: skip
        writer.writerow(row)
    return out.getvalue()


def to_markdown(results: Results) -> str:
    """The report as Markdown: the facts as a list, a GitHub table per task, the verdict."""
    header = "\n".join(f"- {line}" for line in render_header(results).splitlines())
    parts = ["# concurrency-lab results", header]
    for task in results.tasks:
        cells = [c for c in results.cells if c.task == task.name]
        table = render_task(cells, results.metadata.cpus, "github")
        parts.append(f"## {task.name}\n\n{task.description}\n\n{table}")
    parts.append(f"```text\n{LEGEND}\n```")
    verdict = render_verdict(results, "github")
    if verdict:
        parts.append(f"## Threads or processes?\n\n{verdict}")
    if not results.complete:
        parts.append("This run was interrupted; the tables show what was measured.")
    return "\n\n".join(parts) + "\n"


def _blank(value: float | None) -> object:
    return "" if value is None else value
