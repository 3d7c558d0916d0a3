"""The plots show what they claim: lanes, bars at the jobs' true times, speed-ups, job times."""

from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path

import pytest
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

import lab.report
from lab.jobs import JobRecord
from lab.report import plots
from lab.report.plots import (
    PlotError,
    speedup_figure,
    speedup_points,
    timeline_figure,
    wall_figure,
    write_plots,
)
from lab.results.analysis import figures
from lab.results.metadata import Metadata
from lab.results.model import Cell, Results, Sample, TaskInfo
from lab.runner import Layout

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


def sample(job_span: float, records: list[JobRecord] | None = None) -> Sample:
    if records is None:
        records = [record(0, 0.0, job_span)]
    return Sample(0.01, job_span, 0.0, job_span, job_span, 10_000_000, True, records)


def cell(
    runner: str,
    workers: str,
    layout: Layout,
    spans: list[float],
    task: str = "cpu",
    jobs: int = 4,
    records: list[JobRecord] | None = None,
) -> Cell:
    return Cell(
        task=task,
        bound=task if task in ("io", "transfer") else "cpu",
        runner=runner,
        workers=workers,
        layout=layout,
        jobs=jobs,
        size=0.1,
        samples=[sample(s, records) for s in spans],
    )


def metadata(cpus: int = 2) -> Metadata:
    return Metadata(
        date="2026-11-25T18:00:00+00:00",
        python="CPython 3.11.7 (GCC 12.2.0)",
        gil_enabled=True,
        cpus=cpus,
        logical_cpus=cpus,
        affinity=None,
        system="Linux",
        load_average=None,
        busy_percent=3.0,
        sleep_overshoot=0.0001,
        start_method="spawn",
    )


def results(cells: list[Cell], cpus: int = 2) -> Results:
    names = dict.fromkeys(c.task for c in cells)
    tasks = [TaskInfo(n, n, "cpu", "count", 1, "1") for n in names]
    return Results(metadata(cpus), {}, tasks, cells)


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
    ("runner", "records", "lanes"),
    [
        (
            "threads",
            THREADS_ON_CPU,
            ["pid 100 MainProcess / Thread_0", "pid 100 MainProcess / Thread_1"],
        ),
        (
            "processes",
            PROCESSES_ON_CPU,
            ["pid 201 SpawnProcess-1 / MainThread", "pid 202 SpawnProcess-2 / MainThread"],
        ),
    ],
)
def test_timeline_has_a_lane_per_thread_and_a_bar_per_job_at_its_times(
    runner: str, records: list[JobRecord], lanes: list[str]
) -> None:
    shuffled = [records[3], records[0], records[2], records[1]]
    ax = only_axes(timeline_figure(cell(runner, "2", Layout(processes=2), [0.4], records=shuffled)))
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


def timeline(runner: str, layout: Layout, records: list[JobRecord], task: str = "cpu") -> Axes:
    span = max(r.end for r in records) - min(r.start for r in records)
    return only_axes(timeline_figure(cell(runner, "2", layout, [span], task, records=records)))


def test_threads_take_turns_while_processes_run_side_by_side() -> None:
    threads = timeline("threads", Layout(threads=2), THREADS_ON_CPU)
    processes = timeline("processes", Layout(processes=2), PROCESSES_ON_CPU)
    assert {round(w, 6) for _, w, _ in bars(threads)} == {0.2}
    assert {round(w, 6) for _, w, _ in bars(processes)} == {0.1}
    busy = "jobs' CPU 0.400 s = {} cores busy"
    assert threads.get_title(loc="right") == "4 jobs in 0.410 s · " + busy.format("0.98")
    assert processes.get_title(loc="right") == "4 jobs in 0.210 s · " + busy.format("1.90")


def test_timelines_share_a_time_axis_when_asked() -> None:
    alone = cell("processes", "2", Layout(processes=2), [0.21], records=PROCESSES_ON_CPU)
    assert only_axes(timeline_figure(alone)).get_xlim()[1] == pytest.approx(0.21 * 1.02)
    assert only_axes(timeline_figure(alone, 0.41)).get_xlim()[1] == pytest.approx(0.41 * 1.02)


def test_jobs_overlapping_on_an_event_loop_are_stacked_in_one_lane() -> None:
    records = [record(i, 0.0, 0.1) for i in range(4)] + [record(i + 4, 0.1, 0.2) for i in range(4)]
    ax = timeline("asyncio", Layout(tasks=4), records, task="io")
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
    return results(
        [
            cell("single", "1", Layout(), [0.8, 0.8, 0.81]),
            cell("threads", "1", Layout(threads=1), [0.8, 0.82, 0.8]),
            cell("threads", "2", Layout(threads=2), [0.8, 0.8, 0.79]),
            cell("processes", "2", Layout(processes=2), [0.4, 0.41, 0.4]),
            cell("processes", "4", Layout(processes=4), [0.4, 0.42, 0.39]),
            Cell("cpu", "cpu", "asyncio", "2", Layout(tasks=2), 4, 1, not_applicable="blocks"),
            Cell("cpu", "cpu", "broken", "2", Layout(threads=2), 4, 1, failure="error: boom"),
        ]
    )


def lines_by_label(ax: Axes) -> dict[str, tuple[list[float], list[float]]]:
    return {
        str(line.get_label()): (list(line.get_xdata()), list(line.get_ydata()))  # type: ignore[arg-type]
        for line in ax.get_lines()
        if not str(line.get_label()).startswith("_")
    }


def test_speedup_has_a_line_per_measured_runner_and_the_ideal() -> None:
    found = speedup_results()
    ax = only_axes(speedup_figure(found, "cpu"))
    lines = lines_by_label(ax)
    assert list(lines) == ["single", "threads", "processes", "ideal"]
    base = found.cells[0]
    for runner, line in lines.items():
        if runner == "ideal":
            continue
        measured = [c for c in found.cells if c.runner == runner]
        expected = [figures(c, base, 2) for c in measured]
        assert line[1] == pytest.approx([f.speedup for f in expected if f is not None])
        for x, c in zip(line[0], measured, strict=True):  # drawn a little apart, on a log2 axis
            assert abs(math.log2(x) - math.log2(c.layout.concurrency)) < 0.2
    assert lines["ideal"] == ([1, 2, 4], [1, 2, 2])  # min(concurrency, 2 CPUs, 4 jobs)
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == list(lines)
    assert ax.get_xlabel() and ax.get_ylabel() == "speed-up over single"


def test_speedup_error_bars_span_the_95_percent_interval() -> None:
    found = speedup_results()
    ax = only_axes(speedup_figure(found, "cpu"))
    segments = [
        seg for c in ax.collections if isinstance(c, LineCollection) for seg in c.get_segments()
    ]
    lows_highs = sorted((round(s[0][1], 9), round(s[1][1], 9)) for s in segments)
    expected = []
    for c in found.cells:
        f = figures(c, found.cells[0], 2) if c.runnable else None
        if f is not None and f.interval is not None:
            expected.append((round(f.interval.low, 9), round(f.interval.high, 9)))
    assert lows_highs == sorted(expected)
    assert len(expected) == 5


def test_io_ideal_counts_the_rounds_of_waits() -> None:
    found = results(
        [
            cell("single", "1", Layout(), [1.0, 1.0], task="io", jobs=5),
            cell("threads", "2", Layout(threads=2), [0.6, 0.6], task="io", jobs=5),
            cell("threads", "4", Layout(threads=4), [0.4, 0.4], task="io", jobs=5),
        ]
    )
    ideal = lines_by_label(only_axes(speedup_figure(found, "io")))["ideal"]
    assert ideal == ([1, 2, 4], [pytest.approx(1.0), pytest.approx(5 / 3), pytest.approx(2.5)])


def test_a_transfer_task_gets_no_speedup_plot(tmp_path: Path) -> None:
    """Single sends nothing, so a speed-up over it means nothing for a transfer task."""
    found = results(
        [
            cell("single", "1", Layout(), [1.0, 1.0], task="transfer"),
            cell("processes", "2", Layout(processes=2), [0.8, 0.8], task="transfer"),
        ]
    )
    assert speedup_points(found, "transfer") == {}
    names = [p.name for p in write_plots(found, tmp_path)]
    assert "speedup-transfer.png" not in names
    assert "wall-transfer.png" in names


# Job time


def test_wall_has_a_bar_per_measured_cell_at_its_median_with_the_range() -> None:
    found = speedup_results()
    ax = only_axes(wall_figure(found, "cpu"))
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


# Files


def test_write_plots_writes_pngs_named_after_the_cells(tmp_path: Path) -> None:
    found = speedup_results()
    found.cells.append(Cell("io", "io", "asyncio", "2", Layout(tasks=2), 4, 1, not_applicable="x"))
    found.cells.append(cell("odd/runner", "2x2", Layout(processes=2, threads=2), [0.3], task="cpu"))
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
    found = results([cell("threads", "2", Layout(threads=2), [0.4])])
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
        fresh.timeline_figure(cell("single", "1", Layout(), [0.1]))
