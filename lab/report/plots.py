"""The plots of a run as PNG files: a timeline of each measured cell's jobs, and for each task
its speed-up against the workers and its job time per cell.

matplotlib is optional (``pip install 'concurrency-lab[plot]'``) and imported only when a plot
is drawn. Figures are drawn on their own Agg canvas, never through pyplot, so no state is shared
between plots.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.errors import LabError
from lab.jobs import span
from lab.results.analysis import analyse
from lab.results.model import SWEEP

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from lab.jobs import JobRecord
    from lab.results.analysis import Analysis, CellAnalysis
    from lab.results.model import Cell, Results
    from lab.results.stats import Interval

INSTALL_HINT = "pip install 'concurrency-lab[plot]'"
DPI = 120
TIMELINE_WIDTH = 11.0
#: Height of one row of bars in a timeline, and the most a timeline may grow to (inches).
ROW_INCHES = 0.3
TIMELINE_MAX_HEIGHT = 14.0
#: A timeline's height besides its rows: title and time axis (inches).
TIMELINE_MARGIN = 1.4
#: Jobs overlapping on one thread (an event loop's tasks) are stacked in at most this many rows.
MAX_STACKED = 16
#: Space between two threads' lanes, in rows.
LANE_GAP = 0.6
BAR_HEIGHT = 0.8
#: Bars narrower than this (inches) get no white edge, which would hide them.
MIN_EDGED_INCHES = 0.05
LABEL_FONT_SIZE = 7.0
#: Roughly how much of a timeline's width the plotting area takes.
PLOT_AREA_SHARE = 0.68
POINTS_PER_INCH = 72.0
MARKERS = "osD^vP*Xh"
#: How far apart runners at one concurrency are drawn, in doublings of the concurrency.
DODGE = 0.04


class PlotError(LabError):
    """Plots asked for where they cannot be drawn."""


def write_plots(results: Results, folder: Path) -> list[Path]:
    """Write every plot of ``results`` into ``folder`` (created if needed) as PNG files: for
    each task, a timeline per measured cell, all on one time scale, then its speed-up and job
    time plots; for a sweep, its overhead and memory against concurrency. Returns the files'
    paths."""
    require_matplotlib()
    folder.mkdir(parents=True, exist_ok=True)
    analysis = analyse(results)
    if results.kind == SWEEP:
        return [
            save(sweep_figure(analysis, task.name), folder, f"sweep-{task.name}")
            for task in results.tasks
            if measured_cells(analysis, task.name)
        ]
    written = []
    for task in results.tasks:
        cells = [a.cell for a in measured_cells(analysis, task.name)]
        if not cells:
            continue
        seconds = max(timeline_seconds(c) for c in cells)
        for cell in cells:
            python = f"-{cell.interpreter}" if cell.interpreter else ""
            name = f"timeline-{cell.task}{python}-{cell.runner}-{cell.workers}"
            written.append(save(timeline_figure(cell, seconds), folder, name))
        if speedup_points(analysis, task.name):
            figure = speedup_figure(analysis, task.name)
            written.append(save(figure, folder, f"speedup-{task.name}"))
        written.append(save(wall_figure(analysis, task.name), folder, f"wall-{task.name}"))
    return written


def save(figure: Figure, folder: Path, name: str) -> Path:
    path = folder / f"{safe_name(name)}.png"
    figure.savefig(path, dpi=DPI)
    return path


def safe_name(name: str) -> str:
    """``name`` with anything but letters, digits, ``.``, ``_`` and ``-`` replaced by ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def series(cell: Cell) -> str:
    """A line's name in a plot: the runner, and its interpreter when the run has several."""
    return f"{cell.runner} ({cell.interpreter})" if cell.interpreter else cell.runner


def measured_cells(analysis: Analysis, task: str) -> list[CellAnalysis]:
    """The task's cells that have figures, in table order."""
    return [a for a in analysis.task(task) if a.figures is not None]


def require_matplotlib() -> None:
    """Raise :class:`PlotError` unless matplotlib can be imported."""
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        raise PlotError(f"plots need matplotlib, which is not installed: {INSTALL_HINT}") from None


def new_figure(width: float, height: float) -> Figure:
    """A blank figure on its own Agg canvas; :class:`PlotError` without matplotlib."""
    require_matplotlib()  # the package first: an imported submodule would hide a blocked one
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


# Timelines


@dataclass(frozen=True)
class Lane:
    """One thread that ran jobs, and the row each of its jobs is drawn in; ``crowded`` when
    more jobs overlapped than rows could hold, so that some bars in a row overlap."""

    pid: int
    process: str
    thread: str
    records: list[JobRecord]
    rows: list[int]
    crowded: bool

    @property
    def label(self) -> str:
        return f"pid {self.pid} {self.process} / {self.thread}"

    @property
    def depth(self) -> int:
        return max(self.rows) + 1


def lanes(records: Sequence[JobRecord]) -> list[Lane]:
    """A lane per (pid, thread): processes in the order they started jobs, and each one's
    threads in that order too."""
    by_thread: dict[tuple[int, str], list[JobRecord]] = {}
    for record in sorted(records, key=lambda r: r.start):
        by_thread.setdefault((record.pid, record.thread), []).append(record)
    pids = list(dict.fromkeys(pid for pid, _ in by_thread))
    found = []
    for pid, thread in sorted(by_thread, key=lambda key: pids.index(key[0])):
        group = by_thread[(pid, thread)]
        rows, crowded = stack_rows(group)
        found.append(Lane(pid, group[0].process, thread, group, rows, crowded))
    return found


def stack_rows(records: Sequence[JobRecord]) -> tuple[list[int], bool]:
    """The row of each record (sorted by start) so that overlapping jobs, as an event loop
    runs them, sit one above the other; past :data:`MAX_STACKED` rows a job shares the row
    that frees up first, and the rows are crowded."""
    ends: list[float] = []
    rows = []
    crowded = False
    for record in records:
        free = next((i for i, end in enumerate(ends) if end <= record.start), None)
        if free is None and len(ends) < MAX_STACKED:
            ends.append(record.end)
            free = len(ends) - 1
        elif free is None:
            free = min(range(len(ends)), key=ends.__getitem__)
            crowded = True
        ends[free] = max(ends[free], record.end)
        rows.append(free)
    return rows, crowded


@dataclass(frozen=True)
class Scale:
    """Where a timeline's time starts, how many seconds it shows, and how tall a row is."""

    origin: float
    seconds: float
    row_inches: float

    def inches(self, seconds: float) -> float:
        """About how wide ``seconds`` are drawn."""
        return seconds * TIMELINE_WIDTH * PLOT_AREA_SHARE / self.seconds


def timeline_seconds(cell: Cell) -> float:
    """From the first job's start to the last job's end in the cell's first sample."""
    return span(cell.samples[0].records)


def timeline_figure(cell: Cell, seconds: float | None = None) -> Figure:
    """When each job of the cell's first sample ran: a lane per thread, a bar per job from its
    start to its end, in seconds since the first job started; the time axis shows ``seconds``
    (so timelines compare at a glance) or the cell's own job time if that is longer."""
    records = cell.samples[0].records
    found = lanes(records)
    rows = sum(lane.depth for lane in found) + LANE_GAP * max(len(found) - 1, 0)
    height = min(TIMELINE_MAX_HEIGHT, TIMELINE_MARGIN + ROW_INCHES * max(rows, 2))
    figure = new_figure(TIMELINE_WIDTH, height)
    ax = figure.add_subplot()
    scale = Scale(
        origin=min((r.start for r in records), default=0.0),
        seconds=max(seconds or 0.0, timeline_seconds(cell)) or 1.0,
        row_inches=(height - TIMELINE_MARGIN) / max(rows, 2),
    )
    pids = list(dict.fromkeys(lane.pid for lane in found))
    ticks: list[float] = []
    base = 0.0
    for lane in found:
        draw_lane(ax, lane, base, scale, f"C{pids.index(lane.pid) % 10}")
        ticks.append(base + (lane.depth - 1) / 2)
        base += lane.depth + LANE_GAP
    ax.set_yticks(ticks, [lane.label for lane in found])
    ax.set_ylim(max(base - LANE_GAP - 0.4, 0.6), -0.6)
    ax.set_xlim(0, scale.seconds * 1.02)
    ax.set_xlabel("seconds since the first job started")
    ax.set_title(f"{cell.task} on {series(cell)}, workers {cell.workers}", loc="left")
    summary = timeline_summary(records)
    if any(lane.crowded for lane in found):
        summary += f" · over {MAX_STACKED} at once on a thread: bars overlap"
    ax.set_title(summary, loc="right", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    return figure


def timeline_summary(records: Sequence[JobRecord]) -> str:
    """How many jobs ran in how long, and, where jobs timed their CPU, how many cores they kept
    busy: about 1 for threads taking turns under the GIL, up to the CPUs for processes."""
    seconds = span(records)
    text = f"{len(records)} jobs in {seconds:.3f} s"
    cpu = [r.cpu for r in records if r.cpu is not None]
    if records and len(cpu) == len(records) and seconds > 0:
        text += f" · jobs' CPU {sum(cpu):.3f} s = {sum(cpu) / seconds:.2f} cores busy"
    return text


def draw_lane(ax: Axes, lane: Lane, base: float, scale: Scale, color: str) -> None:
    """One lane's bars, a row at a time, each labelled with its job's index where it fits;
    bars too narrow to keep a white edge visible are drawn without one."""
    shortest = min(r.duration for r in lane.records)
    edges = "white" if scale.inches(shortest) >= MIN_EDGED_INCHES else "none"
    for row in range(lane.depth):
        ax.broken_barh(
            [(r.start - scale.origin, r.duration) for r in row_records(lane, row)],
            (base + row - BAR_HEIGHT / 2, BAR_HEIGHT),
            facecolors=color,
            edgecolors=edges,
        )
    tall_enough = scale.row_inches * BAR_HEIGHT >= LABEL_FONT_SIZE * 1.2 / POINTS_PER_INCH
    if lane.crowded or not tall_enough:
        return
    for record, row in zip(lane.records, lane.rows, strict=True):
        text = str(record.index)
        if scale.inches(record.duration) >= label_inches(text):
            ax.text(
                record.start - scale.origin + record.duration / 2,
                base + row,
                text,
                ha="center",
                va="center",
                fontsize=LABEL_FONT_SIZE,
                color="white",
            )


def row_records(lane: Lane, row: int) -> list[JobRecord]:
    return [r for r, at in zip(lane.records, lane.rows, strict=True) if at == row]


def label_inches(text: str) -> float:
    """About how wide ``text`` is at the label font size, with a little room either side."""
    return (len(text) * 0.62 * LABEL_FONT_SIZE + 4) / POINTS_PER_INCH


# Speed-up


@dataclass(frozen=True)
class Point:
    """A cell's speed-up over the baseline at its concurrency."""

    concurrency: int
    speedup: float
    interval: Interval | None


def speedup_points(analysis: Analysis, task: str) -> dict[str, list[Point]]:
    """Each runner's speed-ups against the baseline cell, by concurrency; runners without a
    speed-up are left out."""
    points: dict[str, list[Point]] = {}
    for analysed in measured_cells(analysis, task):
        found, cell = analysed.figures, analysed.cell
        if found is not None and found.speedup is not None:
            point = Point(cell.layout.concurrency, found.speedup, found.interval)
            points.setdefault(series(cell), []).append(point)
    return {runner: sorted(p, key=lambda p: p.concurrency) for runner, p in points.items()}


def concurrencies(analysis: Analysis, task: str) -> list[int]:
    """The concurrencies of the task's measured cells, smallest first."""
    return sorted({a.cell.layout.concurrency for a in measured_cells(analysis, task)})


def ideal_points(analysis: Analysis, task: str) -> tuple[list[int], list[float]]:
    """The best speed-up at each measured concurrency of the task that has one."""
    ideals: dict[int, float] = {}
    for analysed in measured_cells(analysis, task):
        if analysed.figures is not None and analysed.figures.ideal is not None:
            ideals.setdefault(analysed.cell.layout.concurrency, analysed.figures.ideal)
    xs = sorted(ideals)
    return xs, [ideals[x] for x in xs]


def speedup_figure(analysis: Analysis, task: str) -> Figure:
    """Speed-up against concurrency: a line per runner with its 95% intervals, and the ideal.
    Runners at one concurrency are drawn a little apart so that equal ones stay visible."""
    figure = new_figure(9.0, 5.5)
    ax = figure.add_subplot()
    found = speedup_points(analysis, task)
    for number, (runner, points) in enumerate(found.items()):
        style = Style(
            color=f"C{number % 10}",
            marker=MARKERS[number % len(MARKERS)],
            shift=2 ** (DODGE * (number - (len(found) - 1) / 2)),
        )
        draw_speedup(ax, runner, points, style)
    xs, ideal = ideal_points(analysis, task)
    if xs:
        ax.plot(xs, ideal, linestyle="--", color="0.4", label="ideal")
    ax.set_xscale("log", base=2)
    ticks = concurrencies(analysis, task)
    ax.set_xticks(ticks, [str(x) for x in ticks])
    ax.minorticks_off()
    ax.set_ylim(bottom=0)
    ax.set_xlabel("concurrency: processes x threads x tasks")
    baseline = analysis.baseline(task)
    ax.set_ylabel(f"speed-up over {baseline.cell.runner if baseline else 'the baseline'}")
    ax.set_title(f"{task}: speed-up, {analysis.results.metadata.cpus} usable CPUs")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return figure


@dataclass(frozen=True)
class Style:
    """How one runner's line is drawn; ``shift`` multiplies its concurrencies."""

    color: str
    marker: str
    shift: float


def draw_speedup(ax: Axes, runner: str, points: Sequence[Point], style: Style) -> None:
    """A runner's line with markers, and error bars where a point has an interval."""
    ax.plot(
        [p.concurrency * style.shift for p in points],
        [p.speedup for p in points],
        marker=style.marker,
        color=style.color,
        label=runner,
    )
    ranged = [(p, p.interval) for p in points if p.interval is not None]
    if ranged:
        ax.errorbar(
            [p.concurrency * style.shift for p, _ in ranged],
            [p.speedup for p, _ in ranged],
            yerr=[[p.speedup - i.low for p, i in ranged], [i.high - p.speedup for p, i in ranged]],
            fmt="none",
            ecolor=style.color,
            capsize=4,
        )


# Job time


def wall_figure(analysis: Analysis, task: str) -> Figure:
    """The median job time of each measured cell (as the tables give it), with the range of
    its samples."""
    measured = measured_cells(analysis, task)
    cells = [a.cell for a in measured]
    summaries = [a.figures.jobs for a in measured if a.figures is not None]
    figure = new_figure(max(6.0, 1.5 + 0.55 * len(cells)), 5.0)
    ax = figure.add_subplot()
    runners = list(dict.fromkeys(series(c) for c in cells))
    medians = [s.median for s in summaries]
    bars = ax.bar(
        range(len(cells)),
        medians,
        yerr=[[s.median - s.low for s in summaries], [s.high - s.median for s in summaries]],
        capsize=4,
        color=[f"C{runners.index(series(c)) % 10}" for c in cells],
    )
    ax.bar_label(bars, labels=[f"{m:.3g}" for m in medians], label_type="center", fontsize=8)
    ax.set_xticks(
        range(len(cells)), [f"{series(c)} {c.workers}" for c in cells], rotation=30, ha="right"
    )
    ax.set_ylabel("median job time (s)")
    ax.set_title(f"{task}: job time per cell\nwhiskers from the fastest to the slowest run")
    ax.grid(axis="y", alpha=0.3)
    return figure


def sweep_points(analysis: Analysis, task: str) -> dict[str, list[tuple[int, float, float]]]:
    """Per runner, (level, time added to the ideal in seconds, peak memory in MiB) of each
    measured level; without an ideal (a transfer task), the job time itself."""
    points: dict[str, list[tuple[int, float, float]]] = {}
    for analysed in measured_cells(analysis, task):
        found, cell = analysed.figures, analysed.cell
        if found is None:
            continue
        added = found.overhead if found.overhead is not None else found.jobs.median
        points.setdefault(series(cell), []).append((cell.jobs, added, found.peak_memory / 2**20))
    return points


def sweep_figure(analysis: Analysis, task: str) -> Figure:
    """Overhead over the ideal time and peak memory against the number of waiters, log scales."""
    figure = new_figure(12.0, 4.8)
    overhead_axes, memory_axes = figure.subplots(1, 2)
    for number, (runner, points) in enumerate(sweep_points(analysis, task).items()):
        levels = [level for level, _, _ in points]
        style = {"marker": MARKERS[number % len(MARKERS)], "label": runner}
        overhead_axes.plot(levels, [max(o, 0.0) * 1000 for _, o, _ in points], **style)
        memory_axes.plot(levels, [m for _, _, m in points], **style)
    overhead_axes.set_xscale("log")
    overhead_axes.set_yscale("symlog", linthresh=1.0)
    overhead_axes.set_ylim(bottom=0)
    overhead_axes.set_xlabel("jobs waiting at once")
    if analysis.results.task(task).bound == "io":
        overhead_axes.set_ylabel("overhead over one wait, ms")
        overhead_axes.set_title(f"{task}: time added to the ideal")
    else:
        overhead_axes.set_ylabel("job time, ms")
        overhead_axes.set_title(f"{task}: job time")
    memory_axes.set_xscale("log")
    memory_axes.set_yscale("log")
    memory_axes.set_xlabel("jobs waiting at once")
    memory_axes.set_ylabel("peak memory of the cell, MiB")
    memory_axes.set_title(f"{task}: memory")
    for axes in (overhead_axes, memory_axes):
        axes.grid(True, which="major", alpha=0.3)
    memory_axes.legend(loc="upper left", fontsize="small")
    return figure
