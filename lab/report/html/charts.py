"""The charts of the HTML report as data: what each draws, taken from the one analysis (the
points the PNG plots draw), for the page's script to hand to Chart.js.

A chart is a plain dict the page embeds as JSON:

- ``{"kind": "lines", "x": AXIS, "y": AXIS, "series": [...], "ideal": [...]}``: a line per
  series (a runner, with its interpreter when the run has several), each point ``{"x", "y"}``
  and, where it has one, its interval ``{"low", "high"}`` (``"past"`` when the interval
  reached beyond what the machine can do and is drawn stopped there); ``style`` numbers a
  series the same in every chart of a page, which gives it its colour, marker and dashes.
- ``{"kind": "timeline", "rows": [...], "jobs": [...]}``: each job a bar from its start to its
  end on the row of the process and thread that ran it.

Each chart also has its ``table``: the same figures as text, for the page to show beside it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from lab.report.html.tables import text_table
from lab.report.plots import (
    error_bar,
    ideal_points,
    lanes,
    latency_points,
    measured_cells,
    memory_points,
    series,
    speedup_points,
    sweep_points,
    timeline_cells,
    timeline_summary,
    timeline_title,
)
from lab.report.plots import (
    styles as plot_styles,
)
from lab.report.units import times
from lab.results.model import span

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from lab.results.analysis import Analysis, Figures
    from lab.results.model import Cell

Chart = dict[str, Any]

#: A timeline shows at most this many jobs: a bar a job, each one a thing the page draws.
MOST_TIMELINE_JOBS = 2000
#: At most this many timelines a task: the PNG plots (``--plot``) draw every one.
MOST_TIMELINES = 12
#: An axis is logarithmic where its values span at least this factor.
LOG_SPAN = 10.0


def styles(analysis: Analysis) -> dict[str, int]:
    """A style number for each series, as the PNG plots order their styles: the same series
    looks the same in every chart of the page."""
    return {name: number for number, name in enumerate(plot_styles(analysis))}


def axis(title: str, values: Sequence[float], zero: bool = False) -> dict[str, Any]:
    """An axis titled ``title``: logarithmic where the positive ``values`` span decades."""
    positive = [v for v in values if v > 0]
    log = (
        bool(positive)
        and len(positive) == len(values)
        and max(positive) / min(positive) >= LOG_SPAN
    )
    return {"title": title, "log": log, "zero": zero and not log}


def speedup_chart(analysis: Analysis, task: str, style: dict[str, int]) -> Chart | None:
    """The task's speed-up against the workers, a line per series with each point's 95%
    interval, and the ideal; ``None`` when no cell has a speed-up (a transfer task)."""
    points = speedup_points(analysis, task)
    if not points:
        return None
    xs, ideals = ideal_points(analysis, task)
    lines: list[dict[str, Any]] = []
    for name, found in points.items():
        drawn = []
        for point in found:
            shown: dict[str, Any] = {"x": point.concurrency, "y": point.speedup}
            bar = error_bar(point)
            if bar is not None:
                shown.update(low=bar.low, high=bar.high, past=bar.past)
            drawn.append(shown)
        lines.append({"name": name, "style": style[name], "points": drawn})
    every_x = [p["x"] for line in lines for p in line["points"]]
    return {
        "kind": "lines",
        "title": f"{task}: speed-up against the workers",
        "x": axis("workers (jobs at once)", every_x),
        "y": axis("speed-up over one worker (x)", [], zero=True),
        "series": lines,
        "ideal": [{"x": x, "y": y} for x, y in zip(xs, ideals, strict=True)],
        "table": text_table(
            ["series", "workers", "speed-up", "95% interval", "past what the machine can do"],
            [
                [line["name"], str(p["x"]), times(p["y"]), _interval_text(p), _past_text(p)]
                for line in lines
                for p in line["points"]
            ],
        ),
    }


def job_time_chart(analysis: Analysis, task: str, style: dict[str, int]) -> Chart | None:
    """The task's median job time against the workers, a line per series: for a task without
    a speed-up (a transfer), what the speed-up chart would show."""
    lines: dict[str, list[dict[str, Any]]] = {}
    for analysed in measured_cells(analysis, task):
        found = analysed.figures
        if found is not None:
            point = {"x": analysed.cell.layout.concurrency, "y": found.jobs.median}
            lines.setdefault(series(analysed.cell), []).append(point)
    if not lines:
        return None
    every = [p for found in lines.values() for p in found]
    return {
        "kind": "lines",
        "title": f"{task}: median job time against the workers",
        "x": axis("workers (jobs at once)", [p["x"] for p in every]),
        "y": axis("median job time (s)", [p["y"] for p in every], zero=True),
        "series": _series(lines, style),
        "ideal": [],
        "table": text_table(
            ["series", "workers", "median job s"],
            [[n, str(p["x"]), f"{p['y']:.4f}"] for n, found in lines.items() for p in found],
        ),
    }


def memory_chart(analysis: Analysis, task: str, style: dict[str, int]) -> Chart | None:
    """The peak memory of the cells' process trees against the workers, a line per series."""
    points = memory_points(analysis, task)
    if not points:
        return None
    lines = {name: [{"x": x, "y": mib} for x, mib in found] for name, found in points.items()}
    metric = analysis.results.metadata.memory_metric
    every = [p for found in lines.values() for p in found]
    return {
        "kind": "lines",
        "title": f"{task}: peak memory ({metric}) against the workers",
        "x": axis("workers (jobs at once)", [p["x"] for p in every]),
        "y": axis(f"peak {metric} (MiB)", [], zero=True),
        "series": _series(lines, style),
        "ideal": [],
        "table": text_table(
            ["series", "workers", f"peak {metric} MiB"],
            [[n, str(p["x"]), f"{p['y']:.1f}"] for n, found in lines.items() for p in found],
        ),
    }


def timeline_charts(analysis: Analysis, task: str) -> tuple[list[Chart], list[str]]:
    """The timelines of the task's cells whose jobs can be seen (as the PNG plots choose them),
    at most :data:`MOST_TIMELINES`, and a line for each cell left out and why."""
    cells, seconds = timeline_cells(analysis, task)
    charts: list[Chart] = []
    left_out: list[str] = []
    for cell in cells:
        records = cell.samples[0].records
        if len(charts) >= MOST_TIMELINES:
            left_out.append(
                f"{timeline_title(cell)}: past the {MOST_TIMELINES} timelines a task shows"
            )
        elif len(records) > MOST_TIMELINE_JOBS:
            left_out.append(
                f"{timeline_title(cell)}: {len(records):,} jobs, past the"
                f" {MOST_TIMELINE_JOBS:,} a timeline shows"
            )
        else:
            charts.append(timeline_chart(cell, seconds))
    return charts, left_out


def timeline_chart(cell: Cell, seconds: float) -> Chart:
    """The jobs of the cell's first measured run on the processes and threads that ran them,
    a row for each set of jobs a thread ran at once; time from the run's first start."""
    records = cell.samples[0].records
    origin = min((r.start for r in records), default=0.0)
    rows: list[str] = []
    jobs: list[dict[str, Any]] = []
    for lane in lanes(records):
        base = len(rows)
        rows += [lane.label, *(f"{lane.label} ({row + 1})" for row in range(1, lane.depth))]
        for record, row in zip(lane.records, lane.rows, strict=True):
            jobs.append(
                {
                    "row": base + row,
                    "start": record.start - origin,
                    "end": record.end - origin,
                    "index": record.index,
                    "cpu": record.cpu,
                    "error": record.error,
                }
            )
    return {
        "kind": "timeline",
        "title": timeline_title(cell),
        "summary": timeline_summary(records),
        "seconds": max(seconds, span(records)),
        "rows": rows,
        "jobs": jobs,
        "table": text_table(
            ["job", "process / thread", "start s", "end s", "CPU s"],
            [
                [
                    str(job["index"]),
                    rows[job["row"]],
                    f"{job['start']:.4f}",
                    f"{job['end']:.4f}",
                    "" if job["cpu"] is None else f"{job['cpu']:.4f}",
                ]
                for job in jobs
            ],
        ),
    }


def sweep_charts(analysis: Analysis, task: str, style: dict[str, int]) -> list[Chart]:
    """A sweep's charts against the level: the time over the ideal (or the job time), the
    operations' p50 and p99 latency where jobs timed them, operations (or jobs) a second,
    and memory per waiter; log axes where the figures span decades."""
    charts = []
    added = {
        n: [{"x": x, "y": s} for x, s, _ in found]
        for n, found in sweep_points(analysis, task).items()
    }
    transfer = all(
        a.figures is None or a.figures.overhead is None for a in measured_cells(analysis, task)
    )
    what = "median job time (s)" if transfer else "time over the ideal (s)"
    charts.append(_level_chart(task, what, added, style, ".4f"))
    latencies = latency_points(analysis, task)
    operation = analysis.results.task(task).operation
    for number, name in ((1, "p50"), (2, "p99")):
        if latencies:
            lines = {
                n: [{"x": p[0], "y": p[number]} for p in found] for n, found in latencies.items()
            }
            what = f"{operation} {name} latency (ms)"
        else:  # how late each job woke from its wait
            lines = _per_cell(analysis, task, _wake_up(2 * (number - 1)))
            what = f"wake-up {name} (ms)"
        charts.append(_level_chart(task, what, lines, style, ".3f"))
    rates = _per_cell(analysis, task, _rate)
    unit = f"{operation}s" if latencies and operation else "jobs"
    charts.append(_level_chart(task, f"{unit} a second", rates, style, ",.0f"))
    waiter = _per_cell(analysis, task, _waiter_kib)
    charts.append(_level_chart(task, "memory per waiter (KiB)", waiter, style, ".2f"))
    return [chart for chart in charts if chart["series"]]


def _level_chart(
    task: str, what: str, lines: dict[str, list[dict[str, Any]]], style: dict[str, int], fmt: str
) -> Chart:
    lines = {n: sorted(p, key=lambda p: p["x"]) for n, p in lines.items() if p}
    every = [p for found in lines.values() for p in found]
    return {
        "kind": "lines",
        "title": f"{task}: {what} against the level",
        "x": axis("level (waiting jobs)", [p["x"] for p in every]),
        "y": axis(what, [p["y"] for p in every], zero=True),
        "series": _series(lines, style),
        "ideal": [],
        "table": text_table(
            ["series", "level", what],
            [[n, f"{p['x']:,}", format(p["y"], fmt)] for n, found in lines.items() for p in found],
        ),
    }


def _per_cell(
    analysis: Analysis, task: str, figure: Callable[[Figures], float | None]
) -> dict[str, list[dict[str, Any]]]:
    lines: dict[str, list[dict[str, Any]]] = {}
    for analysed in measured_cells(analysis, task):
        value = None if analysed.figures is None else figure(analysed.figures)
        if value is not None and math.isfinite(value):
            point = {"x": analysed.cell.jobs, "y": value}
            lines.setdefault(series(analysed.cell), []).append(point)
    return lines


def _wake_up(number: int) -> Callable[[Figures], float | None]:
    """The ``number``-th percentile of how late the jobs woke (p50, p90, p99, max), in ms."""

    def late(found: Figures) -> float | None:
        shown = found.wake_ups
        return shown[number] * 1000 if len(shown) > number else None

    return late


def _rate(found: Figures) -> float | None:
    if found.operations_per_second is not None:
        return found.operations_per_second
    return found.jobs_per_second


def _waiter_kib(found: Figures) -> float | None:
    estimate = found.memory_per_worker
    if estimate is None or not estimate.resolved or found.outside_tree:
        return None
    return estimate.value / 1024


def _series(lines: dict[str, list[dict[str, Any]]], style: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"name": name, "style": style.get(name, 0), "points": sorted(found, key=lambda p: p["x"])}
        for name, found in lines.items()
    ]


def _interval_text(point: dict[str, Any]) -> str:
    return f"{point['low']:.2f}-{point['high']:.2f}" if "low" in point else ""


def _past_text(point: dict[str, Any]) -> str:
    return "yes: drawn stopped there" if point.get("past") else ""
