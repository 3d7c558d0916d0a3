"""The plots show what they claim: lanes, bars at the jobs' true times, speed-ups, job times."""

from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path

import pytest
from lab_builders import MIB, cell, results, sample
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

import lab.report
from lab.jobs import JobRecord, span
from lab.report import plots
from lab.report.plots import (
    PlotError,
    speedup_figure,
    speedup_points,
    sweep_figure,
    sweep_points,
    timeline_figure,
    wall_figure,
    write_plots,
)
from lab.results import status
from lab.results.analysis import analyse
from lab.results.model import SWEEP, Cell, Results
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
    ax = only_axes(timeline_figure(cell_with_records(runner, layout, shuffled)))
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
    assert ax.get_xlabel() == "seconds since the first job started"


def timeline(
    runner: str, layout: Layout, records: list[JobRecord], task: str = "cpu", bound: str = "cpu"
) -> Axes:
    return only_axes(timeline_figure(cell_with_records(runner, layout, records, task, bound)))


def test_threads_take_turns_while_processes_run_side_by_side() -> None:
    threads = timeline("threads", Layout(threads=2), THREADS_ON_CPU)
    processes = timeline("processes", Layout(processes=2), PROCESSES_ON_CPU)
    assert {round(w, 6) for _, w, _ in bars(threads)} == {0.2}
    assert {round(w, 6) for _, w, _ in bars(processes)} == {0.1}
    busy = "jobs' CPU 0.400 s = {} cores busy"
    assert threads.get_title(loc="right") == "4 jobs in 0.410 s · " + busy.format("0.98")
    assert processes.get_title(loc="right") == "4 jobs in 0.210 s · " + busy.format("1.90")


def test_timelines_share_a_time_axis_when_asked() -> None:
    alone = cell_with_records("processes", Layout(processes=2), PROCESSES_ON_CPU)
    assert only_axes(timeline_figure(alone)).get_xlim()[1] == pytest.approx(0.21 * 1.02)
    assert only_axes(timeline_figure(alone, 0.41)).get_xlim()[1] == pytest.approx(0.41 * 1.02)


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
    assert "cores busy" not in ax.get_title(loc="right")  # event loops do not time job CPU


def test_bars_are_labelled_with_the_job_index_only_where_it_fits() -> None:
    wide = timeline("threads", Layout(threads=2), THREADS_ON_CPU)
    assert sorted(t.get_text() for t in wide.texts) == ["0", "1", "2", "3"]
    many = [record(i, i * 0.001, (i + 1) * 0.001) for i in range(1000)]
    narrow = timeline("single", Layout(), many)
    assert len(bars(narrow)) == 1000
    assert len(narrow.texts) == 0


# Speed-up


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


def test_speedup_has_a_line_per_measured_runner_and_the_ideal() -> None:
    found = speedup_results()
    analysis = analyse(found)
    ax = only_axes(speedup_figure(analysis, "cpu"))
    lines = lines_by_label(ax)
    assert list(lines) == ["single", "threads", "processes", "ideal"]
    assert {runner: ys for runner, (_, ys) in lines.items() if runner != "ideal"} == {
        "single": [1.0],
        "threads": [pytest.approx(1.0), pytest.approx(1.0)],
        "processes": [pytest.approx(2.0), pytest.approx(2.0)],
    }
    for runner, line in lines.items():
        if runner == "ideal":
            continue
        measured = [a for a in analysis.cells if a.cell.runner == runner and a.figures]
        expected = [a.figures.speedup for a in measured if a.figures is not None]
        assert line[1] == pytest.approx(expected)
        for x, a in zip(line[0], measured, strict=True):  # drawn a little apart, on a log2 axis
            assert abs(math.log2(x) - math.log2(a.cell.layout.concurrency)) < 0.2
    assert lines["ideal"] == ([1, 2, 4], [1, 2, 2])  # min(concurrency, 2 CPUs, 4 jobs)
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == list(lines)
    assert ax.get_xlabel() and ax.get_ylabel() == "speed-up over single"


def test_speedup_is_over_the_first_inline_runner_whatever_its_name() -> None:
    found = results(
        [
            cell("threads", Layout(threads=1), [0.8, 0.8, 0.8]),
            cell("direct", Layout(), [0.4, 0.4, 0.4], kind=INLINE),
            cell("threads", Layout(threads=2), [0.2, 0.2, 0.2]),
        ]
    )
    ax = only_axes(speedup_figure(analyse(found), "cpu"))
    lines = lines_by_label(ax)
    assert lines["direct"][1] == [1.0]
    assert lines["threads"][1] == [pytest.approx(0.5), pytest.approx(2.0)]
    assert ax.get_ylabel() == "speed-up over direct"


def test_speedup_error_bars_span_the_95_percent_interval() -> None:
    analysis = analyse(speedup_results())
    ax = only_axes(speedup_figure(analysis, "cpu"))
    segments = [
        seg for c in ax.collections if isinstance(c, LineCollection) for seg in c.get_segments()
    ]
    lows_highs = sorted((round(s[0][1], 9), round(s[1][1], 9)) for s in segments)
    expected = []
    for a in analysis.cells:
        if a.figures is not None and a.figures.interval is not None:
            expected.append((round(a.figures.interval.low, 9), round(a.figures.interval.high, 9)))
    assert lows_highs == sorted(expected)
    assert len(expected) == 4  # every measured cell but the baseline, which has no spread


def test_io_ideal_counts_the_rounds_of_waits() -> None:
    found = results(
        [
            cell("single", Layout(), [1.0, 1.0], task="io", bound="io", jobs=5, size=0.2),
            cell("threads", Layout(threads=2), [0.6, 0.6], task="io", bound="io", jobs=5, size=0.2),
            cell("threads", Layout(threads=4), [0.4, 0.4], task="io", bound="io", jobs=5, size=0.2),
        ]
    )
    ideal = lines_by_label(only_axes(speedup_figure(analyse(found), "io")))["ideal"]
    assert ideal == ([1, 2, 4], [pytest.approx(1.0), pytest.approx(5 / 3), pytest.approx(2.5)])


def test_a_transfer_task_gets_no_speedup_plot(tmp_path: Path) -> None:
    """Single sends nothing, so a speed-up over it means nothing for a transfer task."""
    found = results(
        [
            cell("single", Layout(), [1.0, 1.0], task="transfer", bound="transfer"),
            cell("processes", Layout(processes=2), [0.8, 0.8], task="transfer", bound="transfer"),
        ]
    )
    assert speedup_points(analyse(found), "transfer") == {}
    names = [p.name for p in write_plots(found, tmp_path)]
    assert "speedup-transfer.png" not in names
    assert "wall-transfer.png" in names


# Job time


def test_wall_has_a_bar_per_measured_cell_at_its_median_with_the_range() -> None:
    found = speedup_results()
    ax = only_axes(wall_figure(analyse(found), "cpu"))
    measured = found.cells[:5]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["single 1", "threads 1", "threads 2", "processes 2", "processes 4"]
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx([0.8, 0.8, 0.8, 0.4, 0.4])
    assert [t.get_text() for t in ax.texts] == ["0.8", "0.8", "0.8", "0.4", "0.4"]
    (container,) = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert container.errorbar is not None
    (ranges,) = container.errorbar.lines[2]
    spans = [y for segment in ranges.get_segments() for y in (segment[0][1], segment[1][1])]
    expected = [y for c in measured for y in (min_span(c), max_span(c))]
    assert spans == pytest.approx(expected)


def min_span(c: Cell) -> float:
    return min(s.job_span for s in c.samples)


def max_span(c: Cell) -> float:
    return max(s.job_span for s in c.samples)


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


def test_write_plots_writes_pngs_named_after_the_cells(tmp_path: Path) -> None:
    found = speedup_results()
    odd = cell("odd/runner", Layout(processes=2, threads=2), [0.3], kind=PROCESSES_THREADS)
    odd.workers = "2x2"
    not_applicable = cell("asyncio", Layout(tasks=2), [], task="io", bound="io", not_applicable="x")
    found = results([*found.cells, odd, not_applicable], cpus=2)
    folder = tmp_path / "deep" / "plots"
    written = write_plots(found, folder)
    assert [p.name for p in written] == [
        "timeline-cpu-single-1.png",
        "timeline-cpu-threads-1.png",
        "timeline-cpu-threads-2.png",
        "timeline-cpu-processes-2.png",
        "timeline-cpu-processes-4.png",
        "timeline-cpu-odd_runner-2x2.png",
        "speedup-cpu.png",
        "wall-cpu.png",
    ]
    assert sorted(folder.iterdir()) == sorted(written)
    for path in written:
        assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_a_task_without_a_speedup_gets_no_speedup_plot(tmp_path: Path) -> None:
    found = results([cell("threads", Layout(threads=2), [0.4])])
    names = [p.name for p in write_plots(found, tmp_path)]
    assert names == ["timeline-cpu-threads-2.png", "wall-cpu.png"]


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
        fresh.timeline_figure(cell("single", Layout(), [0.1]))
