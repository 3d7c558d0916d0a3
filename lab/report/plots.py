"""The plots of a run as PNG files, a handful of them: an overview of every task's speed-up
against the workers, the peak memory against the workers, and timelines of the cells whose
jobs are long enough to see; a sweep gets its overhead and memory per task.

Every figure carries the run's warnings (a busy machine, imprecise sleeps) as a line of text,
and no error bar reaches past what the machine can do without a mark.

matplotlib is optional (``pip install 'concurrency-lab[plot]'``) and imported only when a plot
is drawn. Figures are drawn on their own Agg canvas, never through pyplot, so no state is shared
between plots.
"""

from __future__ import annotations

import importlib
import re
import statistics
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.errors import LabError
from lab.machine import metadata
from lab.report.table import workers_text
from lab.results.analysis import IDEAL_TOLERANCE, analyse
from lab.results.model import SWEEP, span

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path

    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from lab.jobs import JobRecord
    from lab.results.analysis import Analysis, CellAnalysis
    from lab.results.model import Cell, Results
    from lab.results.stats import Interval

INSTALL_HINT = "pip install 'concurrency-lab[plot]'"
DPI = 120
TIMELINE_WIDTH = 11.0
#: Height of one row of bars in a timeline (inches).
ROW_INCHES = 0.3
#: The most one timeline figure may grow to (inches); a task's further cells go to another.
TIMELINE_MAX_HEIGHT = 16.0
#: A timeline figure's height besides its panels: its title, the time axis and a warning line
#: (inches).
TIMELINE_MARGIN = 1.3
#: A timeline panel's summary line (how many jobs in how long, the cores they kept busy): its
#: font size, and the room between it and the axes below it, in points.
SUMMARY_FONT_SIZE = 9.0
SUMMARY_GAP = 3.0
#: The ``gid`` of a timeline panel's summary, to find it among the panel's texts.
SUMMARY_GID = "summary"
#: How far a timeline panel's title stands above its axes (points): over the summary line, so
#: that however long the cell's name and the summary are, they are never on one line.
TIMELINE_TITLE_PAD = 3 * SUMMARY_GAP + 1.5 * SUMMARY_FONT_SIZE
#: A timeline panel's title (a plugin's task, a runner, an interpreter) wraps past this many
#: characters: about what the plotting area's width holds at the title's size.
TIMELINE_TITLE_CHARS = 70
#: A timeline panel's height besides its rows: its title and summary lines (inches).
PANEL_MARGIN = 0.7
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
#: A cell gets a timeline only when its median job is drawn at least this many pixels wide
#: on the time axis its task's timelines share, which spans the task's longest cell over about
#: 900 pixels (:data:`TIMELINE_WIDTH` x :data:`PLOT_AREA_SHARE` x :data:`DPI`): its median job
#: at least 1/200 of that span. Narrower bars merge into a smear that shows no job, and a cell
#: with no jobs recorded has nothing to show.
MIN_BAR_PIXELS = 4.5
MARKERS = "osD^vP*Xh"
#: How far apart runners at one concurrency are drawn, in doublings of the concurrency.
DODGE = 0.04
#: Width and height of one task's panel in the overview and the memory figure (inches).
PANEL_WIDTH = 4.2
PANEL_HEIGHT = 4.4
#: About how wide a panel's plotting area is, its axis labels aside (inches).
PANEL_PLOT_WIDTH = 3.3
TITLE_FONT_SIZE = 10.0
HEADLINE_FONT_SIZE = 12.0
#: Room for the legend beside the panels (inches).
LEGEND_WIDTH = 2.4
#: The mark on an error bar stopped at what the machine can do, and its legend entry.
PAST_MARKER = r"$\uparrow$"
PAST_COLOR = "black"
PAST_LABEL = "interval past what\nthe machine can do"
IDEAL_LABEL = "ideal"
NOTE_FONT_SIZE = 9.0
NOTE_COLOR = "firebrick"


class PlotError(LabError):
    """Plots asked for where they cannot be drawn."""


def write_plots(results: Results, folder: Path) -> list[Path]:
    """Write the plots of ``results`` (:func:`plot_figures`) into ``folder`` (created if needed) as
    PNG files, in that order. Returns the files' paths."""
    require_matplotlib()
    folder.mkdir(parents=True, exist_ok=True)
    return [save(figure, folder, name) for name, figure in plot_figures(results)]


def plot_figures(results: Results) -> Iterator[tuple[str, Figure]]:
    """The plots of ``results``, each with its file name (no suffix), drawn one at a time: for
    a matrix, ``overview`` (every task's speed-up against the workers), ``memory`` (peak memory
    against the workers) and for each task the timelines of its cells whose jobs can be seen
    (:data:`MIN_BAR_PIXELS`), on one time scale; for a sweep, overhead and memory per task.
    Nothing when no cell was measured. With several job counts a cell, at the most jobs."""
    analysis = analyse(results).compared
    notes = run_warnings(results)
    tasks = [t.name for t in results.tasks if measured_cells(analysis, t.name)]
    if not tasks:
        return
    if results.kind == SWEEP:
        for task in tasks:
            yield f"sweep-{task}", noted(sweep_figure(analysis, task), notes)
        return
    yield "overview", noted(overview_figure(analysis), notes)
    yield "memory", noted(memory_figure(analysis), notes)
    for task in tasks:
        cells, seconds = timeline_cells(analysis, task)
        pages = timeline_pages(cells)
        for number, page in enumerate(pages, 1):
            name = f"timelines-{task}" + (f"-{number}" if len(pages) > 1 else "")
            yield name, noted(timelines_figure(page, seconds), notes)


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


# Warnings


def run_warnings(results: Results) -> list[str]:
    """What spoils the run's figures: the warnings it gave when it ran, and those its machine's
    facts give now (a busy machine, imprecise sleeps), each once."""
    return list(dict.fromkeys([*results.warnings, *metadata.warnings(results.metadata)]))


def noted(figure: Figure, notes: Sequence[str]) -> Figure:
    """``figure`` with ``notes`` as warning lines along its bottom edge, wrapped to its width."""
    if not notes:
        return figure
    width = int(figure.get_figwidth() * POINTS_PER_INCH / (NOTE_FONT_SIZE * 0.55))
    lines = [line for note in notes for line in textwrap.wrap(f"warning: {note}", width)]
    figure.supxlabel("\n".join(lines), x=0.01, ha="left", fontsize=NOTE_FONT_SIZE, color=NOTE_COLOR)
    return figure


# Styles and legends


@dataclass(frozen=True)
class Style:
    """How one runner's line is drawn, the same in every figure of a run."""

    color: str
    marker: str


def styles(analysis: Analysis) -> dict[str, Style]:
    """A style for each series with measured cells, in table order."""
    names = dict.fromkeys(series(a.cell) for a in analysis.cells if a.figures is not None)
    return {
        name: Style(f"C{number % 10}", MARKERS[number % len(MARKERS)])
        for number, name in enumerate(names)
    }


def dodged(lines: Mapping[str, Sequence[int]]) -> dict[tuple[str, int], float]:
    """Where each line's point at each concurrency is drawn: the lines with a point at one
    concurrency a little apart around it, in order, so that equal ones stay visible."""
    at: dict[int, list[str]] = {}
    for runner, xs in lines.items():
        for x in xs:
            at.setdefault(x, []).append(runner)
    return {
        (runner, x): x * 2 ** (DODGE * (number - (len(runners) - 1) / 2))
        for x, runners in at.items()
        for number, runner in enumerate(runners)
    }


def concurrency_axis(ax: Axes, ticks: Sequence[int]) -> None:
    """A log2 axis of concurrencies, labelled at ``ticks``."""
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(ticks), [str(x) for x in ticks])
    ax.minorticks_off()
    ax.set_xlabel("workers: processes x threads x tasks")
    ax.grid(alpha=0.3)


def figure_legend(figure: Figure, order: Sequence[str]) -> None:
    """One legend for every panel of ``figure`` beside them: each label once, in ``order``
    (labels not in it last)."""
    found: dict[str, Artist] = {}
    for ax in figure.axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            found.setdefault(label, handle)
    rank = {label: number for number, label in enumerate(order)}
    labels = sorted(found, key=lambda label: rank.get(label, len(rank)))
    if labels:
        figure.legend([found[label] for label in labels], labels, loc="outside right upper")


def panel_title(analysis: Analysis, task: str) -> str:
    """The task and its description in at most two lines as wide as a panel's plotting area."""
    text = analysis.results.task(task).description
    chars = int(PANEL_PLOT_WIDTH * POINTS_PER_INCH / (TITLE_FONT_SIZE * 0.55))
    return "\n".join(textwrap.wrap(f"{task}: {text}", chars, max_lines=2, placeholder=" …"))


def headline(figure: Figure, count: int, parts: Sequence[str]) -> None:
    """The figure's title over its ``count`` panels, left of the legend: ``parts`` joined by
    `` · `` and wrapped between them, where the panels are too narrow for one line."""
    chars = int(PANEL_WIDTH * count * POINTS_PER_INCH / (HEADLINE_FONT_SIZE * 0.55))
    lines: list[str] = []
    for part in parts:
        joined = f"{lines[-1]} · {part}" if lines else part
        if lines and len(joined) <= chars:
            lines[-1] = joined
        else:
            lines += textwrap.wrap(part, chars)
    figure.suptitle("\n".join(lines), x=0.01, ha="left", fontsize=HEADLINE_FONT_SIZE)


def panels(count: int) -> tuple[Figure, list[Axes]]:
    """A figure with ``count`` panels side by side and room for a legend beside them."""
    figure = new_figure(PANEL_WIDTH * count + LEGEND_WIDTH, PANEL_HEIGHT)
    found = figure.subplots(1, count, squeeze=False)
    return figure, list(found[0])


# Overview: speed-up against workers


@dataclass(frozen=True)
class Point:
    """A cell's speed-up over the baseline at its concurrency, and the most this machine can
    give it (:attr:`lab.results.analysis.Figures.possible`)."""

    concurrency: int
    speedup: float
    interval: Interval | None
    possible: float | None = None


@dataclass(frozen=True)
class Bar:
    """An error bar as drawn: the speed-up's interval, never past what the machine can do;
    ``past`` when the interval reached beyond that, and the bar is marked."""

    low: float
    high: float
    past: bool


def error_bar(point: Point) -> Bar | None:
    """The point's interval as drawn, stopped at its possible speed-up; ``None`` without one.
    It counts as past what the machine can do, and is marked, where the analysis says so: its
    top beyond the possible speed-up by more than timer noise
    (:data:`lab.results.analysis.IDEAL_TOLERANCE`), which makes the cell unstable. Within
    that, it is only stopped at the limit."""
    if point.interval is None:
        return None
    low, high, limit = point.interval.low, point.interval.high, point.possible
    if limit is None or high <= limit:
        return Bar(low, high, past=False)
    return Bar(min(low, limit), limit, past=high > limit * (1 + IDEAL_TOLERANCE))


def speedup_points(analysis: Analysis, task: str) -> dict[str, list[Point]]:
    """Each runner's speed-ups against the baseline cell, by concurrency; runners without a
    speed-up are left out."""
    points: dict[str, list[Point]] = {}
    for analysed in measured_cells(analysis, task):
        found, cell = analysed.figures, analysed.cell
        if found is not None and found.speedup is not None:
            point = Point(cell.layout.concurrency, found.speedup, found.interval, found.possible)
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


def overview_figure(analysis: Analysis) -> Figure:
    """Every measured task side by side: its speed-up against the workers, a line per runner
    with its 95% intervals, and the ideal; a task without a speed-up (a transfer) shows its
    job time instead. One legend for all."""
    tasks = [t.name for t in analysis.results.tasks if measured_cells(analysis, t.name)]
    figure, axes = panels(len(tasks))
    found = styles(analysis)
    for ax, task in zip(axes, tasks, strict=True):
        if speedup_points(analysis, task):
            draw_speedup_panel(ax, analysis, task, found)
        else:
            draw_job_time_panel(ax, analysis, task, found)
        ax.set_title(panel_title(analysis, task), loc="left", fontsize=TITLE_FONT_SIZE)
    meta = analysis.results.metadata
    headline(
        figure,
        len(tasks),
        ["Speed-up against workers", f"{meta.cpus} usable CPUs", f"{meta.python}, GIL "
         f"{'on' if meta.gil_enabled else 'off'}"],
    )  # fmt: skip
    figure_legend(figure, [*found, IDEAL_LABEL, PAST_LABEL])
    return figure


def draw_speedup_panel(ax: Axes, analysis: Analysis, task: str, found: dict[str, Style]) -> None:
    """Speed-up against concurrency: a line per runner with its intervals, and the ideal."""
    points = speedup_points(analysis, task)
    at = dodged({runner: [p.concurrency for p in line] for runner, line in points.items()})
    for runner, line in points.items():
        draw_speedup(ax, runner, line, found[runner], [at[runner, p.concurrency] for p in line])
    ideal_xs, ideal = ideal_points(analysis, task)
    if ideal_xs:
        ax.plot(ideal_xs, ideal, linestyle="--", color="0.4", label=IDEAL_LABEL)
    concurrency_axis(ax, concurrencies(analysis, task))
    ax.set_ylim(bottom=0)
    baseline = analysis.baseline(task)
    ax.set_ylabel(f"speed-up over {baseline.cell.runner if baseline else 'the baseline'}")


def draw_speedup(
    ax: Axes, runner: str, points: Sequence[Point], style: Style, xs: Sequence[float]
) -> None:
    """A runner's line with markers at ``xs``, and error bars where a point has an interval:
    stopped at what the machine can do, with a mark where the interval went past it."""
    ax.plot(xs, [p.speedup for p in points], marker=style.marker, color=style.color, label=runner)
    bars = [(x, error_bar(p)) for x, p in zip(xs, points, strict=True)]
    drawn = [(x, bar) for x, bar in bars if bar is not None]
    if not drawn:
        return
    ax.vlines(
        [x for x, _ in drawn],
        [b.low for _, b in drawn],
        [b.high for _, b in drawn],
        colors=style.color,
    )
    caps = [(x, b.low) for x, b in drawn] + [(x, b.high) for x, b in drawn if not b.past]
    ax.plot(
        [x for x, _ in caps],
        [y for _, y in caps],
        marker="_",
        markersize=8,
        linestyle="none",
        color=style.color,
    )
    past = [(x, b.high) for x, b in drawn if b.past]
    if past:
        ax.plot(
            [x for x, _ in past],
            [y for _, y in past],
            marker=PAST_MARKER,
            markersize=12,
            linestyle="none",
            color=PAST_COLOR,
            label=PAST_LABEL,
        )


def draw_job_time_panel(ax: Axes, analysis: Analysis, task: str, found: dict[str, Style]) -> None:
    """The median job time against concurrency, a line per runner with the range of its runs,
    on a log scale: for a task whose speed-up means nothing (a transfer's baseline moves no
    data)."""
    lines: dict[str, list[tuple[int, float, float, float]]] = {}
    for analysed in measured_cells(analysis, task):
        if analysed.figures is None or analysed.figures.jobs.low <= 0:
            continue  # nothing to place on a log scale
        jobs, cell = analysed.figures.jobs, analysed.cell
        point = (cell.layout.concurrency, jobs.median, jobs.low, jobs.high)
        lines.setdefault(series(cell), []).append(point)
    at = dodged({runner: [x for x, _, _, _ in points] for runner, points in lines.items()})
    for runner, points in lines.items():
        points.sort()
        xs = [at[runner, x] for x, _, _, _ in points]
        style = found[runner]
        ax.plot(
            xs, [m * 1000 for _, m, _, _ in points], marker=style.marker, color=style.color,
            label=runner,
        )  # fmt: skip
        ranges = [(low * 1000, high * 1000) for _, _, low, high in points]
        ax.vlines(xs, [lo for lo, _ in ranges], [hi for _, hi in ranges], colors=style.color)
    concurrency_axis(ax, concurrencies(analysis, task))
    ax.set_yscale("log")
    ax.set_ylabel("median job time, ms (log scale)")


# Memory


def memory_points(analysis: Analysis, task: str) -> dict[str, list[tuple[int, float]]]:
    """Per runner, (concurrency, peak memory in MiB) of each measured cell, by concurrency."""
    points: dict[str, list[tuple[int, float]]] = {}
    for analysed in measured_cells(analysis, task):
        if analysed.figures is not None and not analysed.figures.outside_tree:
            point = (analysed.cell.layout.concurrency, analysed.figures.peak_memory / 2**20)
            points.setdefault(series(analysed.cell), []).append(point)
    return {runner: sorted(p) for runner, p in points.items()}


def memory_figure(analysis: Analysis) -> Figure:
    """Peak memory of the process tree against the workers: a panel per measured task, a line
    per runner, from zero."""
    tasks = [t.name for t in analysis.results.tasks if measured_cells(analysis, t.name)]
    figure, axes = panels(len(tasks))
    found = styles(analysis)
    meta = analysis.results.metadata
    for ax, task in zip(axes, tasks, strict=True):
        points = memory_points(analysis, task)
        at = dodged({runner: [x for x, _ in line] for runner, line in points.items()})
        for runner, line in points.items():
            style = found[runner]
            ax.plot(
                [at[runner, x] for x, _ in line], [m for _, m in line], marker=style.marker,
                color=style.color, label=runner,
            )  # fmt: skip
        concurrency_axis(ax, concurrencies(analysis, task))
        ax.set_ylim(bottom=0)
        ax.set_ylabel(f"peak memory ({meta.memory_metric}), MiB")
        ax.set_title(panel_title(analysis, task), loc="left", fontsize=TITLE_FONT_SIZE)
    headline(figure, len(tasks), ["Peak memory of the process tree against workers"])
    figure_legend(figure, list(found))
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
    return span(cell.samples[0].records) if cell.samples else 0.0


def bar_pixels(cell: Cell, seconds: float) -> float:
    """How wide the median job of the cell's first sample is drawn on a time axis of
    ``seconds``, in pixels; 0 without jobs."""
    records = cell.samples[0].records if cell.samples else []
    if not records or seconds <= 0:
        return 0.0
    median = statistics.median(r.duration for r in records)
    return median * TIMELINE_WIDTH * PLOT_AREA_SHARE * DPI / seconds


def timeline_cells(analysis: Analysis, task: str) -> tuple[list[Cell], float]:
    """The task's measured cells whose jobs can be seen (:data:`MIN_BAR_PIXELS`) on the time
    axis of its longest cell, and the seconds their timelines show: the longest of theirs."""
    cells = [a.cell for a in measured_cells(analysis, task)]
    longest = max((timeline_seconds(c) for c in cells), default=0.0)
    shown = [c for c in cells if bar_pixels(c, longest) >= MIN_BAR_PIXELS]
    return shown, max((timeline_seconds(c) for c in shown), default=0.0)


def timeline_rows(cell: Cell) -> float:
    """How many rows of bars the cell's timeline has, the gaps between lanes counted."""
    found = lanes(cell.samples[0].records)
    return sum(lane.depth for lane in found) + LANE_GAP * max(len(found) - 1, 0)


def panel_inches(cell: Cell) -> float:
    """How tall the cell's timeline panel is: a row's height a row, at most what a figure
    holds."""
    wanted = PANEL_MARGIN + ROW_INCHES * max(timeline_rows(cell), 2)
    return min(wanted, TIMELINE_MAX_HEIGHT - TIMELINE_MARGIN)


def timeline_pages(cells: Sequence[Cell]) -> list[list[Cell]]:
    """The cells in figures of at most :data:`TIMELINE_MAX_HEIGHT`, in order."""
    pages: list[list[Cell]] = []
    height = TIMELINE_MAX_HEIGHT
    for cell in cells:
        inches = panel_inches(cell)
        if height + inches > TIMELINE_MAX_HEIGHT - TIMELINE_MARGIN:
            pages.append([])
            height = 0.0
        pages[-1].append(cell)
        height += inches
    return pages


def timelines_figure(cells: Sequence[Cell], seconds: float | None = None) -> Figure:
    """When each job of each cell's first sample ran, a panel per cell one above the other on
    one time axis: a lane per thread, a bar per job from its start to its end, in seconds since
    the cell's first job started. The axis shows ``seconds`` (so timelines compare at a glance)
    or the longest cell's job time if that is longer."""
    heights = [panel_inches(c) for c in cells]
    figure = new_figure(TIMELINE_WIDTH, TIMELINE_MARGIN + sum(heights))
    axes = figure.subplots(
        len(cells), 1, sharex=True, squeeze=False, gridspec_kw={"height_ratios": heights}
    )
    shown = max([seconds or 0.0, *(timeline_seconds(c) for c in cells)]) or 1.0
    for ax, cell, inches in zip(axes[:, 0], cells, heights, strict=True):
        records = cell.samples[0].records
        scale = Scale(
            origin=min((r.start for r in records), default=0.0),
            seconds=shown,
            row_inches=(inches - PANEL_MARGIN) / max(timeline_rows(cell), 2),
        )
        draw_timeline(ax, cell, scale)
    axes[-1, 0].set_xlabel("seconds since the cell's first job started")
    tasks = ", ".join(dict.fromkeys(c.task for c in cells))
    figure.suptitle(
        f"{tasks}: when each job ran, in each cell's first measured run", x=0.01, ha="left"
    )
    return figure


def draw_timeline(ax: Axes, cell: Cell, scale: Scale) -> None:
    """One cell's timeline: its lanes, titled with the cell, and a line below the title with
    what its jobs did."""
    records = cell.samples[0].records
    found = lanes(records)
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
    lines = textwrap.wrap(timeline_title(cell), TIMELINE_TITLE_CHARS, break_on_hyphens=False)
    ax.set_title("\n".join(lines), loc="left", pad=TIMELINE_TITLE_PAD)
    summary = timeline_summary(records)
    if any(lane.crowded for lane in found):
        summary += f" · over {MAX_STACKED} at once on a thread: bars overlap"
    # On a line of its own between the title and the axes, at the right: a title is as long
    # as its task's, runner's and interpreter's names, and would run into it on one line.
    ax.annotate(
        summary,
        xy=(1, 1),
        xycoords="axes fraction",
        xytext=(0, SUMMARY_GAP),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize=SUMMARY_FONT_SIZE,
        gid=SUMMARY_GID,
    )
    ax.grid(axis="x", alpha=0.3)


def timeline_title(cell: Cell) -> str:
    """What a timeline shows: the task, the runner (with its interpreter) and the workers."""
    return f"{cell.task} on {series(cell)}, workers {workers_text(cell)}"


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


# Sweeps


def sweep_points(analysis: Analysis, task: str) -> dict[str, list[tuple[int, float, float]]]:
    """Per runner, (level, time added to the ideal in seconds, peak memory in MiB) of each
    measured level; without an ideal (a transfer task), the job time itself."""
    points: dict[str, list[tuple[int, float, float]]] = {}
    for analysed in measured_cells(analysis, task):
        found, cell = analysed.figures, analysed.cell
        if found is None or found.outside_tree:
            continue
        added = found.overhead if found.overhead is not None else found.jobs.median
        points.setdefault(series(cell), []).append((cell.jobs, added, found.peak_memory / 2**20))
    return points


def latency_points(analysis: Analysis, task: str) -> dict[str, list[tuple[int, float, float]]]:
    """Per runner, (level, p50, p99 of the operations' latency in ms) of each measured level
    whose jobs timed operations."""
    points: dict[str, list[tuple[int, float, float]]] = {}
    for analysed in measured_cells(analysis, task):
        found, cell = analysed.figures, analysed.cell
        if found is None or len(found.latencies) < 3:
            continue
        p50, p99 = found.latencies[0] * 1000, found.latencies[2] * 1000
        points.setdefault(series(cell), []).append((cell.jobs, p50, p99))
    return points


def sweep_figure(analysis: Analysis, task: str) -> Figure:
    """Overhead over the ideal time and peak memory against the number of waiters, log scales;
    for jobs that time operations (requests), their latency too."""
    latencies = latency_points(analysis, task)
    figure = new_figure(18.0 if latencies else 12.0, 4.8)
    overhead_axes, memory_axes, *latency_axes = figure.subplots(1, 3 if latencies else 2)
    for number, (runner, points) in enumerate(sweep_points(analysis, task).items()):
        levels = [level for level, _, _ in points]
        style = {"marker": MARKERS[number % len(MARKERS)], "label": runner}
        overhead_axes.plot(levels, [max(o, 0.0) * 1000 for _, o, _ in points], **style)
        memory_axes.plot(levels, [m for _, _, m in points], **style)
        for axes in latency_axes:
            taken = latencies.get(runner, [])
            drawn = axes.plot([p[0] for p in taken], [p[1] for p in taken], **style)
            color = drawn[0].get_color() if drawn else None
            axes.plot([p[0] for p in taken], [p[2] for p in taken], linestyle="--", color=color)
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
    operation = analysis.results.task(task).operation
    for axes in latency_axes:
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xlabel("jobs waiting at once")
        axes.set_ylabel(f"{operation} latency, ms (p50 solid, p99 dashed)")
        axes.set_title(f"{task}: each {operation}")
    for axes in (overhead_axes, memory_axes, *latency_axes):
        axes.grid(True, which="major", alpha=0.3)
    memory_axes.legend(loc="upper left", fontsize="small")
    return figure
