"""The plots show what they claim: a handful of files, speed-ups with honest error bars, memory,
timelines only where jobs can be seen, and a busy machine noted on every figure."""

from __future__ import annotations

import importlib
import math
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from lab_builders import MIB, cell, results, sample
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

import lab.report
from lab.jobs import JobRecord
from lab.records import Records
from lab.report import plots
from lab.report.plots import (
    IDEAL_LABEL,
    MIN_BAR_PIXELS,
    PAST_LABEL,
    SUMMARY_GID,
    TIMELINE_MAX_HEIGHT,
    Bar,
    PlotError,
    Point,
    bar_pixels,
    error_bar,
    latency_points,
    memory_figure,
    overview_figure,
    panel_inches,
    plot_figures,
    speedup_points,
    sweep_figure,
    sweep_points,
    timeline_cells,
    timeline_pages,
    timelines_figure,
    write_plots,
)
from lab.results import status
from lab.results.analysis import IDEAL_TOLERANCE, analyse
from lab.results.model import SWEEP, Cell, Results, span
from lab.results.stats import Interval
from lab.runner import INLINE, PROCESSES_THREADS, Layout

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
T0 = 1000.0  # perf_counter times are arbitrary; plots count from the first job's start


def record(
    index: int,
    start: float,
    end: float,
    pid: int = 100,
    thread: str = "MainThread",
    process: str = "MainProcess",
    cpu: float | None = None,
) -> JobRecord:
    return JobRecord(index, pid, process, thread, pid * 10, T0 + start, T0 + end, cpu, None)


def cell_with_records(
    runner: str, layout: Layout, records: list[JobRecord], task: str = "cpu", bound: str = "cpu"
) -> Cell:
    """A cell measured once, whose run's jobs are ``records`` (the builders give one job)."""
    found = cell(runner, layout, [], task=task, bound=bound)
    found.samples = [sample(span(records), records=records)]
    return found


def only_axes(figure: Figure) -> Axes:
    (ax,) = figure.axes
    return ax


def bars(ax: Axes) -> list[tuple[float, float, float]]:
    """Every timeline bar as (left, width, middle row), left to right, top to bottom."""
    found = []
    for collection in ax.collections:
        assert isinstance(collection, PolyCollection)
        for path in collection.get_paths():
            box = path.get_extents()
            found.append((box.x0, box.width, (box.y0 + box.y1) / 2))
    return sorted(found)


def lane_labels(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


def summary(ax: Axes) -> str:
    """A timeline panel's line on what its jobs did, below its title."""
    (found,) = [t.get_text() for t in ax.texts if t.get_gid() == SUMMARY_GID]
    return found


def job_labels(ax: Axes) -> list[str]:
    """The job indexes written on a timeline's bars, sorted."""
    return sorted(t.get_text() for t in ax.texts if t.get_gid() != SUMMARY_GID)


# Timelines

THREADS_ON_CPU = [  # two threads take turns: each job takes twice as long as alone
    record(0, 0.00, 0.20, thread="Thread_0", cpu=0.1),
    record(1, 0.01, 0.21, thread="Thread_1", cpu=0.1),
    record(2, 0.20, 0.40, thread="Thread_0", cpu=0.1),
    record(3, 0.21, 0.41, thread="Thread_1", cpu=0.1),
]
PROCESSES_ON_CPU = [  # two processes side by side: each job as fast as alone
    record(0, 0.00, 0.10, pid=201, process="SpawnProcess-1", cpu=0.1),
    record(1, 0.01, 0.11, pid=202, process="SpawnProcess-2", cpu=0.1),
    record(2, 0.10, 0.20, pid=201, process="SpawnProcess-1", cpu=0.1),
    record(3, 0.11, 0.21, pid=202, process="SpawnProcess-2", cpu=0.1),
]


@pytest.mark.parametrize(
    ("runner", "layout", "records", "lanes"),
    [
        (
            "threads",
            Layout(threads=2),
            THREADS_ON_CPU,
            ["pid 100 MainProcess / Thread_0", "pid 100 MainProcess / Thread_1"],
        ),
        (
            "processes",
            Layout(processes=2),
            PROCESSES_ON_CPU,
            ["pid 201 SpawnProcess-1 / MainThread", "pid 202 SpawnProcess-2 / MainThread"],
        ),
    ],
)
def test_timeline_has_a_lane_per_thread_and_a_bar_per_job_at_its_times(
    runner: str, layout: Layout, records: list[JobRecord], lanes: list[str]
) -> None:
    shuffled = [records[3], records[0], records[2], records[1]]
    ax = only_axes(timelines_figure([cell_with_records(runner, layout, shuffled)]))
    assert lane_labels(ax) == lanes
    drawn = bars(ax)
    assert len(drawn) == len(records)
    expected = sorted((r.start - T0, r.end - r.start) for r in records)
    for (left, width, _), (start, duration) in zip(drawn, expected, strict=True):
        assert left == pytest.approx(start)
        assert width == pytest.approx(duration)
    rows = {r.index: lanes.index(f"pid {r.pid} {r.process} / {r.thread}") for r in records}
    ticks = ax.get_yticks()
    for left, _, middle in drawn:
        (job,) = [r for r in records if r.start - T0 == pytest.approx(left)]
        assert middle == pytest.approx(ticks[rows[job.index]])
    assert ax.get_title(loc="left") == f"cpu on {runner}, workers 2"
    assert ax.get_xlabel() == "seconds since the cell's first job started"


def timeline(
    runner: str, layout: Layout, records: list[JobRecord], task: str = "cpu", bound: str = "cpu"
) -> Axes:
    return only_axes(timelines_figure([cell_with_records(runner, layout, records, task, bound)]))


def test_threads_take_turns_while_processes_run_side_by_side() -> None:
    threads = timeline("threads", Layout(threads=2), THREADS_ON_CPU)
    processes = timeline("processes", Layout(processes=2), PROCESSES_ON_CPU)
    assert {round(w, 6) for _, w, _ in bars(threads)} == {0.2}
    assert {round(w, 6) for _, w, _ in bars(processes)} == {0.1}
    busy = "jobs' CPU 0.400 s = {} cores busy"
    assert summary(threads) == "4 jobs in 0.410 s · " + busy.format("0.98")
    assert summary(processes) == "4 jobs in 0.210 s · " + busy.format("1.90")


def test_timelines_share_a_time_axis_when_asked() -> None:
    alone = cell_with_records("processes", Layout(processes=2), PROCESSES_ON_CPU)
    assert only_axes(timelines_figure([alone])).get_xlim()[1] == pytest.approx(0.21 * 1.02)
    assert only_axes(timelines_figure([alone], 0.41)).get_xlim()[1] == pytest.approx(0.41 * 1.02)


def test_jobs_overlapping_on_an_event_loop_are_stacked_in_one_lane() -> None:
    records = [record(i, 0.0, 0.1) for i in range(4)] + [record(i + 4, 0.1, 0.2) for i in range(4)]
    ax = timeline("asyncio", Layout(tasks=4), records, task="io", bound="io")
    assert lane_labels(ax) == ["pid 100 MainProcess / MainThread"]
    drawn = bars(ax)
    assert len(drawn) == 8
    rows: dict[float, list[tuple[float, float]]] = {}
    for left, width, middle in drawn:
        rows.setdefault(round(middle, 6), []).append((left, left + width))
    assert len(rows) == 4
    for spans in rows.values():
        assert sorted(spans) == [pytest.approx((0.0, 0.1)), pytest.approx((0.1, 0.2))]
    assert "cores busy" not in summary(ax)  # event loops do not time job CPU


def test_bars_are_labelled_with_the_job_index_only_where_it_fits() -> None:
    wide = timeline("threads", Layout(threads=2), THREADS_ON_CPU)
    assert job_labels(wide) == ["0", "1", "2", "3"]
    many = [record(i, i * 0.001, (i + 1) * 0.001) for i in range(1000)]
    narrow = timeline("single", Layout(), many)
    assert len(bars(narrow)) == 1000
    assert job_labels(narrow) == []


def test_timelines_of_several_cells_share_one_time_axis() -> None:
    threads = cell_with_records("threads", Layout(threads=2), THREADS_ON_CPU)
    processes = cell_with_records("processes", Layout(processes=2), PROCESSES_ON_CPU)
    figure = timelines_figure([threads, processes], 0.41)
    top, bottom = figure.axes
    assert [ax.get_title(loc="left") for ax in figure.axes] == [
        "cpu on threads, workers 2",
        "cpu on processes, workers 2",
    ]
    assert top.get_xlim() == bottom.get_xlim() == pytest.approx((0, 0.41 * 1.02))
    assert len(bars(top)) == len(bars(bottom)) == 4
    assert bottom.get_xlabel() == "seconds since the cell's first job started"


def test_only_cells_whose_jobs_can_be_seen_get_a_timeline() -> None:
    """On the time axis of the longest cell, a median job narrower than a few pixels is not
    drawn, nor a cell without job records."""
    long_jobs = [record(i, i * 0.2, (i + 1) * 0.2) for i in range(4)]  # 0.8 s, jobs of 0.2 s
    brief_jobs = [record(i, i * 0.1, i * 0.1 + 0.0001) for i in range(4)]  # 0.1 ms jobs
    seen = cell_with_records("single", Layout(), long_jobs)
    smear = cell_with_records("threads", Layout(threads=2), brief_jobs)
    empty = cell_with_records("processes", Layout(processes=2), [])
    found = results([seen, smear, empty])
    assert bar_pixels(seen, 0.8) >= MIN_BAR_PIXELS > bar_pixels(smear, 0.8)
    assert bar_pixels(empty, 0.8) == 0.0
    cells, seconds = timeline_cells(analyse(found), "cpu")
    assert cells == [seen]
    assert seconds == pytest.approx(0.8)
    (timelines,) = [f for name, f in plot_figures(found) if name.startswith("timelines")]
    assert [ax.get_title(loc="left") for ax in timelines.axes] == ["cpu on single, workers 1"]


def test_a_task_whose_jobs_cannot_be_seen_gets_no_timeline() -> None:
    """An echo's jobs return at once: its timelines would be empty rows."""
    instant = [record(i, i * 0.005, i * 0.005 + 1e-6) for i in range(4)]
    found = results(
        [
            cell("single", Layout(), [0.4, 0.4]),
            cell_with_records("single", Layout(), instant, task="echo", bound="transfer"),
            cell_with_records("processes", Layout(processes=2), [], task="echo", bound="transfer"),
        ]
    )
    assert [name for name, _ in plot_figures(found)] == ["overview", "memory", "timelines-cpu"]


def test_timelines_too_tall_for_one_figure_go_on_to_another() -> None:
    many_threads = [record(i, 0.0, 0.1, thread=f"Thread_{i}") for i in range(16)]
    cells = [cell_with_records("threads", Layout(threads=16), many_threads) for _ in range(3)]
    pages = timeline_pages(cells)
    assert [len(page) for page in pages] == [1, 1, 1]
    for page in pages:
        assert sum(panel_inches(c) for c in page) <= TIMELINE_MAX_HEIGHT
    small = [cell_with_records("threads", Layout(threads=2), THREADS_ON_CPU) for _ in range(3)]
    assert [len(page) for page in timeline_pages(small)] == [3]


# Overview: speed-up against workers


def speedup_results() -> Results:
    """A CPU task on 2 CPUs: threads no faster than single, processes twice as fast; one cell
    n/a, and one that failed after runs that must not be plotted."""
    return results(
        [
            cell("single", Layout(), [0.8, 0.8, 0.81]),
            cell("threads", Layout(threads=1), [0.8, 0.82, 0.8]),
            cell("threads", Layout(threads=2), [0.8, 0.8, 0.79]),
            cell("processes", Layout(processes=2), [0.4, 0.41, 0.4]),
            cell("processes", Layout(processes=4), [0.4, 0.42, 0.39]),
            cell("asyncio", Layout(tasks=2), [], not_applicable="blocks"),
            cell("broken", Layout(threads=2), [0.1, 0.1], failure=status.error("boom")),
        ],
        cpus=2,
    )


def lines_by_label(ax: Axes) -> dict[str, tuple[list[float], list[float]]]:
    return {
        str(line.get_label()): (list(line.get_xdata()), list(line.get_ydata()))  # type: ignore[arg-type]
        for line in ax.get_lines()
        if not str(line.get_label()).startswith("_")
    }


def panel(figure: Figure, task: str) -> Axes:
    """The figure's panel of ``task``."""
    (ax,) = [ax for ax in figure.axes if ax.get_title(loc="left").startswith(f"{task}: ")]
    return ax


def legend_texts(figure: Figure) -> list[str]:
    (legend,) = figure.legends
    return [t.get_text() for t in legend.get_texts()]


def bar_segments(ax: Axes) -> list[tuple[float, float, float]]:
    """Every error bar as (x, low, high), by x."""
    return sorted(
        (s[0][0], s[0][1], s[1][1])
        for c in ax.collections
        if isinstance(c, LineCollection)
        for s in c.get_segments()
    )


def test_speedup_has_a_line_per_measured_runner_and_the_ideal() -> None:
    found = speedup_results()
    analysis = analyse(found)
    figure = overview_figure(analysis)
    ax = panel(figure, "cpu")
    lines = lines_by_label(ax)
    assert list(lines) == ["single", "threads", "processes", IDEAL_LABEL]
    assert {runner: ys for runner, (_, ys) in lines.items() if runner != IDEAL_LABEL} == {
        "single": [1.0],
        "threads": [pytest.approx(1.0), pytest.approx(1.0)],
        "processes": [pytest.approx(2.0), pytest.approx(2.0)],
    }
    for runner, line in lines.items():
        if runner == IDEAL_LABEL:
            continue
        measured = [a for a in analysis.cells if a.cell.runner == runner and a.figures]
        expected = [a.figures.speedup for a in measured if a.figures is not None]
        assert line[1] == pytest.approx(expected)
        for x, a in zip(line[0], measured, strict=True):  # drawn a little apart, on a log2 axis
            assert abs(math.log2(x) - math.log2(a.cell.layout.concurrency)) < 0.2
    assert lines[IDEAL_LABEL] == ([1, 2, 4], [1, 2, 2])  # min(concurrency, 2 CPUs, 4 jobs)
    assert legend_texts(figure) == ["single", "threads", "processes", IDEAL_LABEL]
    assert ax.get_xlabel() and ax.get_ylabel() == "speed-up over single"
    assert ax.get_title(loc="left").startswith("cpu: cpu")  # the task and its description


def test_speedup_is_over_the_first_inline_runner_whatever_its_name() -> None:
    found = results(
        [
            cell("threads", Layout(threads=1), [0.8, 0.8, 0.8]),
            cell("direct", Layout(), [0.4, 0.4, 0.4], kind=INLINE),
            cell("threads", Layout(threads=2), [0.2, 0.2, 0.2]),
        ]
    )
    for s in found.cells[2].samples:
        s.gil_enabled = False  # two threads in parallel: 2x is possible
    ax = panel(overview_figure(analyse(found)), "cpu")
    lines = lines_by_label(ax)
    assert lines["direct"][1] == [1.0]
    assert lines["threads"][1] == [pytest.approx(0.5), pytest.approx(2.0)]
    assert ax.get_ylabel() == "speed-up over direct"


def test_a_runner_alone_at_its_concurrency_is_drawn_on_it() -> None:
    ax = panel(overview_figure(analyse(speedup_results())), "cpu")
    assert lines_by_label(ax)["processes"][0][1] == 4.0  # no other runner at 4


def test_overview_has_a_panel_per_measured_task_with_one_legend_for_all() -> None:
    io = [
        cell("single", Layout(), [1.0, 1.0], task="io", bound="io", jobs=4, size=0.25),
        cell("asyncio", Layout(tasks=4), [0.25, 0.25], task="io", bound="io", size=0.25),
    ]
    nothing = cell("threads", Layout(threads=2), [], task="idle", not_applicable="x")
    found = results([*speedup_results().cells, *io, nothing], cpus=2)
    figure = overview_figure(analyse(found))
    assert [ax.get_title(loc="left").split(":")[0] for ax in figure.axes] == ["cpu", "io"]
    assert lines_by_label(panel(figure, "io"))["asyncio"][1] == [pytest.approx(4.0)]
    assert legend_texts(figure) == ["single", "threads", "processes", "asyncio", IDEAL_LABEL]
    colors = [
        {str(line.get_label()): line.get_color() for line in panel(figure, task).get_lines()}
        for task in ("cpu", "io")
    ]
    assert colors[0]["single"] == colors[1]["single"]  # a runner looks alike in every panel


def test_speedup_error_bars_span_the_95_percent_interval_up_to_the_possible() -> None:
    analysis = analyse(speedup_results())
    drawn = [(round(low, 9), round(high, 9)) for _, low, high in bar_segments(
        panel(overview_figure(analysis), "cpu")
    )]  # fmt: skip
    expected = []
    for a in analysis.cells:
        found = a.figures
        if found is not None and found.interval is not None and found.possible is not None:
            high = min(found.interval.high, found.possible)
            expected.append((round(min(found.interval.low, high), 9), round(high, 9)))
    assert sorted(drawn) == sorted(expected)
    assert len(expected) == 4  # every measured cell but the baseline, which has no spread


def test_an_interval_past_the_possible_is_stopped_there_and_marked() -> None:
    possible = 1.0
    within = Interval(1.0, 0.98, possible * (1 + IDEAL_TOLERANCE / 2), 0.95)
    beyond = Interval(1.3, 1.2, 1.4, 0.95)
    assert error_bar(Point(2, 1.0, None, possible)) is None
    assert error_bar(Point(2, 1.0, Interval(1.0, 0.9, 0.99, 0.95), possible)) == Bar(
        0.9, 0.99, past=False
    )
    assert error_bar(Point(2, 1.0, within, possible)) == Bar(0.98, possible, past=False)
    assert error_bar(Point(2, 1.3, beyond, possible)) == Bar(possible, possible, past=True)
    assert error_bar(Point(2, 1.3, beyond, None)) == Bar(1.2, 1.4, past=False)


def test_the_overview_marks_an_interval_past_what_the_machine_can_do() -> None:
    """Two threads under the GIL cannot beat one: a 1.11x speed-up is past the possible 1x."""
    found = results(
        [
            cell("single", Layout(), [0.8, 0.8, 0.81]),
            cell("threads", Layout(threads=2), [0.7, 0.75, 0.72]),
            cell("processes", Layout(processes=2), [0.4, 0.41, 0.4]),
        ],
        cpus=2,
    )
    analysis = analyse(found)
    threads = analysis.cells[1].figures
    assert threads is not None and threads.interval is not None and threads.possible == 1.0
    assert threads.interval.high > 1.0 * (1 + IDEAL_TOLERANCE)
    figure = overview_figure(analysis)
    ax = panel(figure, "cpu")
    assert max(high for _, _, high in bar_segments(ax)) <= 2.0  # nothing drawn past 2x
    threads_x = lines_by_label(ax)["threads"][0][0]
    (threads_bar,) = [b for b in bar_segments(ax) if b[0] == threads_x]
    assert threads_bar[2] == pytest.approx(1.0)  # stopped at what threads can do
    marks_x, marks_y = lines_by_label(ax)[PAST_LABEL]
    assert marks_x == [threads_x]
    assert marks_y == [pytest.approx(1.0)]
    assert PAST_LABEL in legend_texts(figure)
    quiet = overview_figure(analyse(speedup_results()))
    assert PAST_LABEL not in lines_by_label(panel(quiet, "cpu"))
    assert PAST_LABEL not in legend_texts(quiet)


def test_io_ideal_counts_the_rounds_of_waits() -> None:
    found = results(
        [
            cell("single", Layout(), [1.0, 1.0], task="io", bound="io", jobs=5, size=0.2),
            cell("threads", Layout(threads=2), [0.6, 0.6], task="io", bound="io", jobs=5, size=0.2),
            cell("threads", Layout(threads=4), [0.4, 0.4], task="io", bound="io", jobs=5, size=0.2),
        ]
    )
    xs, ys = lines_by_label(panel(overview_figure(analyse(found)), "io"))[IDEAL_LABEL]
    assert xs == [1, 2, 4]
    assert ys == [pytest.approx(1.0), pytest.approx(5 / 3), pytest.approx(2.5)]


def test_a_transfer_task_shows_its_job_time_in_the_overview() -> None:
    """Single sends nothing, so a speed-up over it means nothing for a transfer task."""
    found = results(
        [
            cell("single", Layout(), [0.001, 0.001], task="transfer", bound="transfer"),
            cell("processes", Layout(processes=2), [0.8, 0.8], task="transfer", bound="transfer"),
        ]
    )
    assert speedup_points(analyse(found), "transfer") == {}
    ax = panel(overview_figure(analyse(found)), "transfer")
    assert ax.get_ylabel() == "median job time, ms (log scale)"
    assert ax.get_yscale() == "log"
    lines = lines_by_label(ax)
    assert lines["single"][1] == [pytest.approx(1.0)]
    assert lines["processes"][1] == [pytest.approx(800.0)]


# Memory


def test_memory_has_a_panel_per_task_and_a_line_per_runner_in_mib() -> None:
    found = results(
        [
            cell("single", Layout(), [0.8, 0.8], peak=20 * MIB),
            cell("threads", Layout(threads=2), [0.8, 0.8], peak=21 * MIB),
            cell("processes", Layout(processes=2), [0.4, 0.4], peak=50 * MIB),
            cell("processes", Layout(processes=4), [0.4, 0.4], peak=90 * MIB),
            cell("single", Layout(), [1.0, 1.0], task="io", bound="io", size=0.25, peak=19 * MIB),
        ]
    )
    figure = memory_figure(analyse(found))
    assert [ax.get_title(loc="left").split(":")[0] for ax in figure.axes] == ["cpu", "io"]
    cpu = panel(figure, "cpu")
    lines = lines_by_label(cpu)
    assert {runner: ys for runner, (_, ys) in lines.items()} == {
        "single": [pytest.approx(20.0)],
        "threads": [pytest.approx(21.0)],
        "processes": [pytest.approx(50.0), pytest.approx(90.0)],
    }
    assert cpu.get_ylabel() == "peak memory (PSS), MiB"
    assert cpu.get_ylim()[0] == 0
    assert lines_by_label(panel(figure, "io"))["single"][1] == [pytest.approx(19.0)]
    assert legend_texts(figure) == ["single", "threads", "processes"]


# Sweeps

LEVELS = [1, 10, 100]
#: Per runner of a sweep: what holds a level's jobs, and what each job at once adds to the job
#: time (seconds) and to the peak (MiB).
SWEPT = {"asyncio": ("tasks", 0.001, 0.25), "threads": ("threads", 0.002, 1.0)}


def sweep_results(task: str, bound: str) -> Results:
    """A sweep of ``task`` (waits of 0.1 s) over :data:`LEVELS` on the :data:`SWEPT` runners,
    level by level as a sweep plans its cells, every level's jobs all at once."""
    cells = []
    for level in LEVELS:
        for runner, (holder, added, mib) in SWEPT.items():
            layout = Layout(**{holder: level})
            time = 0.1 + added * level
            peak = 20 * MIB + int(mib * level * MIB)
            cells.append(
                cell(runner, layout, [time, time], task, bound, level, size=0.1, peak=peak)
            )
    found = results(cells, repeat=2)
    found.settings["kind"] = SWEEP
    return found


def line(ax: Axes, label: str) -> tuple[list[float], list[float]]:
    return lines_by_label(ax)[label]


def test_a_sweep_plots_the_time_added_to_one_wait_and_the_peak_memory_per_level(
    tmp_path: Path,
) -> None:
    found = sweep_results("sleep", "io")
    points = sweep_points(analyse(found), "sleep")
    assert list(points) == list(SWEPT)
    for runner, (_, added, mib) in SWEPT.items():
        expected = [(n, added * n, 20 + mib * n) for n in LEVELS]
        assert points[runner] == [pytest.approx(p, abs=1e-9) for p in expected]
    overhead, memory = sweep_figure(analyse(found), "sleep").axes
    assert overhead.get_ylabel() == "overhead over one wait, ms"
    for runner, (_, added, mib) in SWEPT.items():
        assert line(overhead, runner)[0] == LEVELS
        assert line(overhead, runner)[1] == pytest.approx([added * n * 1000 for n in LEVELS])
        assert line(memory, runner)[0] == LEVELS
        assert line(memory, runner)[1] == pytest.approx([20 + mib * n for n in LEVELS])
    written = write_plots(found, tmp_path)
    assert [p.name for p in written] == ["sweep-sleep.png"]
    assert written[0].read_bytes().startswith(PNG_SIGNATURE)


def test_a_transfer_sweep_plots_the_job_time_itself() -> None:
    """A transfer has no ideal time to subtract: its whole job time is plotted."""
    found = sweep_results("tcp", "transfer")
    points = sweep_points(analyse(found), "tcp")
    assert [added for _, added, _ in points["asyncio"]] == [
        pytest.approx(0.1 + 0.001 * n) for n in LEVELS
    ]
    overhead, _ = sweep_figure(analyse(found), "tcp").axes
    assert overhead.get_ylabel() == "job time, ms"
    assert overhead.get_title() == "tcp: job time"


# Files


def test_a_run_writes_the_overview_first_then_memory_then_the_timelines(tmp_path: Path) -> None:
    found = speedup_results()
    odd = cell("odd/runner", Layout(processes=2, threads=2), [0.5], kind=PROCESSES_THREADS)
    odd.workers = "2x2"
    not_applicable = cell("asyncio", Layout(tasks=2), [], task="io", bound="io", not_applicable="x")
    echo = cell_with_records(
        "single", Layout(), [record(0, 0.0, 1e-6), record(1, 0.01, 0.01 + 1e-6)], "echo", "transfer"
    )
    found = results([*found.cells, odd, not_applicable, echo], cpus=2)
    folder = tmp_path / "deep" / "plots"
    written = write_plots(found, folder)
    assert [p.name for p in written] == ["overview.png", "memory.png", "timelines-cpu.png"]
    assert sorted(folder.iterdir()) == sorted(written)
    for path in written:
        assert path.read_bytes().startswith(PNG_SIGNATURE)
    (timelines,) = [f for name, f in plot_figures(found) if name == "timelines-cpu"]
    assert [ax.get_title(loc="left") for ax in timelines.axes] == [
        "cpu on single, workers 1",
        "cpu on threads, workers 1",
        "cpu on threads, workers 2",
        "cpu on processes, workers 2",
        "cpu on processes, workers 4",
        "cpu on odd/runner, workers 2x2",
    ]


def test_a_run_with_nothing_measured_writes_nothing(tmp_path: Path) -> None:
    found = results(
        [cell("asyncio", Layout(tasks=2), [], task="io", bound="io", not_applicable="x")]
    )
    assert write_plots(found, tmp_path / "plots") == []


def notes(figure: Figure) -> list[str]:
    return [t.get_text() for t in figure.texts if t.get_text().startswith("warning: ")]


@pytest.mark.parametrize("kind", ["matrix", SWEEP])
def test_a_busy_machine_is_noted_on_every_figure(kind: str) -> None:
    found = speedup_results() if kind == "matrix" else sweep_results("sleep", "io")
    found.metadata = replace(found.metadata, busy_percent=80.0)
    found.warnings = ["threads with workers 8 computes on 8 workers at once with 2 usable CPUs"]
    drawn = list(plot_figures(found))
    assert len(drawn) >= (3 if kind == "matrix" else 1)
    for name, figure in drawn:
        (note,) = notes(figure)
        assert "warning: threads with workers 8 computes" in note, name
        assert "warning: the machine is busy (80% CPU in use before the run" in note, name
        assert note.count("warning: ") == 2  # each once, though the run and its facts both say it


def test_a_busy_run_is_noted_from_its_warnings_alone() -> None:
    """A saved run's warnings are what it said when it ran, whatever its facts give now."""
    found = speedup_results()
    found.warnings = ["the machine is busy (40% CPU in use before the run): figures will be noisy"]
    for _, figure in plot_figures(found):
        assert notes(figure) == [f"warning: {found.warnings[0]}"]


def test_a_quiet_machine_leaves_no_note() -> None:
    for _, figure in plot_figures(speedup_results()):
        assert notes(figure) == []


def test_missing_matplotlib_is_a_plot_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(PlotError, match=r"pip install 'concurrency-lab\[plot\]'") as caught:
        write_plots(speedup_results(), tmp_path / "plots")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "plots").exists()


def test_the_module_imports_without_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n == "matplotlib" or n.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "lab.report.plots")
    monkeypatch.setattr(lab.report, "plots", plots)
    fresh = importlib.import_module("lab.report.plots")
    assert fresh is not plots
    with pytest.raises(fresh.PlotError):
        fresh.timelines_figure([cell("single", Layout(), [0.1])])


def test_a_sweep_of_timed_operations_plots_their_latency_per_level() -> None:
    found = sweep_results("http", "io")
    found.tasks = [replace(found.tasks[0], operation="request")]
    for swept in found.cells:  # a request takes 1 ms plus 0.1 ms per job at once, p99 twice that
        taken = [0.001 + 0.0001 * swept.jobs] * 98 + [0.002 + 0.0002 * swept.jobs] * 2
        for run in swept.samples:
            run.records = Records.of([replace(r, operations=taken) for r in run.records])
    points = latency_points(analyse(found), "http")
    assert list(points) == list(SWEPT)
    assert points["asyncio"] == [pytest.approx((n, 1 + 0.1 * n, 2 + 0.2 * n)) for n in LEVELS]
    _, _, latency = sweep_figure(analyse(found), "http").axes
    assert latency.get_ylabel() == "request latency, ms (p50 solid, p99 dashed)"
    assert line(latency, "threads")[1] == pytest.approx([1 + 0.1 * n for n in LEVELS])
    assert len(sweep_figure(analyse(sweep_results("sleep", "io")), "sleep").axes) == 2
