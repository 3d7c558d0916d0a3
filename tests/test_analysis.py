"""The one analysis of a run: figures, statuses, and the machine's physical bounds."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lab_builders import MIB, cell, results, sample

from lab.report.markdown_csv import to_csv
from lab.report.table import render_task
from lab.report.units import memory_estimate
from lab.report.verdict import verdict_rows
from lab.results import status
from lab.results.analysis import IDEAL_TOLERANCE, UNTRUE, CellAnalysis, analyse
from lab.results.journal import Journal, load
from lab.results.status import Kind
from lab.runner import Layout


def analysed(cells: list, **options: object):  # type: ignore[no-untyped-def]
    return analyse(results(cells, **options)).cells  # type: ignore[arg-type]


def test_spread_and_short_jobs_are_flagged_unstable() -> None:
    steady, spread, short = analysed(
        [
            cell("threads", Layout(threads=2), [1.0, 1.01, 0.99], task="a"),
            cell("threads", Layout(threads=2), [1.0, 1.2, 0.8], task="b"),
            cell("threads", Layout(threads=2), [0.001, 0.001, 0.001], task="c"),
        ]
    )
    assert steady.status == status.Status(Kind.OK)
    assert spread.status == status.Status(Kind.UNSTABLE, "sd 20% of the mean")
    assert short.status == status.Status(Kind.UNSTABLE, "too short to time well (under 10 ms)")


def test_speed_up_efficiency_and_memory_per_worker() -> None:
    _, two, four = analysed(
        [
            cell("single", Layout(), [0.8, 0.81, 0.79], peak=20 * MIB),
            cell("processes", Layout(processes=2), [0.4, 0.41, 0.39], peak=60 * MIB),
            cell("processes", Layout(processes=4), [0.4, 0.4, 0.4], peak=100 * MIB),
        ]
    )
    found = two.figures
    assert found is not None and found.interval is not None
    assert found.speedup == 2.0
    assert found.interval.low <= 2.0 <= found.interval.high
    assert found.efficiency == 1.0
    per_worker = found.memory_per_worker
    assert per_worker is not None and per_worker.resolved
    assert per_worker.value == 20 * MIB  # (60 - 20) / 2: no smaller setting, so the baseline
    slope = four.figures
    assert slope is not None and slope.memory_per_worker is not None
    assert slope.memory_per_worker.value == 20 * MIB  # (100 - 60) / (4 - 2)
    assert slope.efficiency == 1.0  # ideal = min(4 workers, 2 CPUs, 4 jobs) = 2


def test_the_baseline_is_the_inline_runner_and_is_one_by_definition() -> None:
    base, other = analysed(
        [
            cell("serial", Layout(), [0.8, 0.9, 0.7], kind="inline"),
            cell("mine", Layout(processes=2), [0.4, 0.4, 0.4], kind="processes"),
        ]
    )
    assert base.figures is not None and base.figures.speedup == 1.0
    assert base.figures.interval is None
    assert base.status.kind is Kind.UNSTABLE  # its spread, not a speed-up beyond the ideal
    assert "speed-up" not in base.status.detail
    assert other.figures is not None and other.figures.speedup == 2.0


def test_io_efficiency_is_against_the_ideal_time() -> None:
    _, two = analysed(
        [
            cell("single", Layout(), [4.0, 4.0], task="io", bound="io", size=1.0),
            cell("processes", Layout(processes=2), [2.5, 2.5], task="io", bound="io", size=1.0),
        ],
        repeat=2,
    )
    assert two.figures is not None
    assert two.figures.ideal_job_time == 2.0  # ceil(4 jobs / 2) x 1 s
    assert two.figures.efficiency == 2.0 / 2.5
    assert two.figures.overhead == 0.5


def test_a_speed_up_a_little_beyond_the_ideal_is_marked_unstable_with_the_reason() -> None:
    _, past = analysed(
        [
            cell("single", Layout(), [1.0, 1.0, 1.0]),
            cell("processes", Layout(processes=2), [0.45] * 3, cpu=0.9),  # 2.22x on 2 CPUs
        ]
    )
    assert past.status.kind is Kind.UNSTABLE
    assert past.status.detail == "speed-up up to 2.22x, beyond the 2.00x possible here"


def test_a_speed_up_far_beyond_the_ideal_is_an_error_naming_the_figure_and_bound() -> None:
    _, impossible = analysed(
        [
            cell("single", Layout(), [1.0, 1.0, 1.0]),
            cell("processes", Layout(processes=2), [0.3, 0.3, 0.3]),  # 3.33x on 2 CPUs
        ]
    )
    assert impossible.status.kind is Kind.ERROR
    assert impossible.figures is None
    assert impossible.status.detail == (
        "the records cannot be true: its 4 jobs took 0.300 s; their 1.000 s of CPU (as on"
        " single) takes at least 0.500 s with this layout here (a speed-up of at most 2.00x),"
        " more than the 50% margin its runs' spread leaves for noise"
    )


def test_the_margin_for_noise_grows_with_the_spread_of_the_runs() -> None:
    # a median of 0.3 s where 0.5 s is the least: past the bound, but its runs spread widely
    _, noisy = analysed(
        [
            cell("single", Layout(), [1.0, 1.0, 1.0]),
            cell("processes", Layout(processes=2), [0.2, 0.3, 0.4], cpu=1.0),
        ]
    )
    assert noisy.status.kind is Kind.UNSTABLE


def test_a_baseline_slowed_by_a_busy_machine_makes_no_honest_cell_impossible() -> None:
    # the baseline's jobs took 3 s but needed 1 s of CPU: 0.5 s on 2 CPUs is possible
    _, honest = analysed(
        [
            cell("single", Layout(), [3.0, 3.0, 3.0], cpu=1.0),
            cell("processes", Layout(processes=2), [0.5, 0.5, 0.5], cpu=1.0),
        ]
    )
    assert honest.status.kind is Kind.UNSTABLE
    assert honest.status.detail == "speed-up up to 6.00x, beyond the 2.00x possible here"


def test_cpu_bound_cells_that_used_far_less_cpu_than_the_baseline_did_not_do_the_work() -> None:
    base = cell("single", Layout(), [4.0, 4.0, 4.0])
    honest = cell("processes", Layout(processes=2), [2.0, 2.0, 2.0], cpu=4.1)
    skipped = cell("processes", Layout(processes=2), [2.0, 2.0, 2.0], cpu=0.4, task="b")
    b_base = cell("single", Layout(), [4.0, 4.0, 4.0], task="b")
    _, ok, _, untrue = analysed([base, honest, b_base, skipped])
    assert ok.status.kind is Kind.OK
    assert untrue.status.kind is Kind.ERROR
    assert untrue.status.detail == (
        "the records cannot be true: its processes used 0.400 s of CPU, under 50% of the"
        " 4.000 s the same jobs needed on single: the work was not done"
    )


def test_threads_past_what_the_gil_allows_are_unstable_and_fine_without_it() -> None:
    base = cell("single", Layout(), [0.8, 0.8, 0.8])
    gil = cell("threads", Layout(threads=2), [0.7, 0.7, 0.7], cpu=0.8)  # 1.14x, the GIL on
    free = cell("threads", Layout(threads=2), [0.41, 0.41, 0.41], task="free")
    free_base = cell("single", Layout(), [0.8, 0.8, 0.8], task="free")
    for s in [*free.samples, *free_base.samples]:
        s.gil_enabled = False
    _, with_gil, _, without = analysed([base, gil, free_base, free])
    assert with_gil.status.kind is Kind.UNSTABLE
    assert (
        with_gil.status.detail == "speed-up up to 1.14x, beyond the 1.00x possible with the GIL on"
    )
    assert with_gil.figures is not None and with_gil.figures.ideal == 2.0
    assert without.status.kind is Kind.OK  # 1.95x: the GIL was off in its workers


def test_the_ideal_counts_rounds_of_equal_jobs() -> None:
    three = cell("processes", Layout(processes=2), [0.5] * 3, jobs=3)
    many = cell("processes", Layout(processes=3), [0.5] * 3, jobs=3, task="many")
    (two_workers, three_workers) = analysed([three, many])
    assert two_workers.figures is not None and two_workers.figures.ideal == 1.5
    assert three_workers.figures is not None and three_workers.figures.ideal == 2.0  # 2 CPUs


@given(
    st.lists(st.floats(min_value=0.05, max_value=2.0), min_size=1, max_size=6),
    st.lists(st.floats(min_value=0.05, max_value=2.0), min_size=1, max_size=6),
    st.integers(min_value=1, max_value=8),
    st.integers(min_value=1, max_value=4),
    st.booleans(),
)
def test_no_speed_up_past_what_is_possible_is_shown_without_an_unstable_mark(
    base: list[float], measured: list[float], processes: int, threads: int, gil: bool
) -> None:
    layout = Layout(processes=processes, threads=threads)
    cells = [cell("single", Layout(), base), cell("mine", layout, measured, kind="grid")]
    for s in cells[1].samples:
        s.gil_enabled = gil
    for analysed_cell in analyse(results(cells, repeat=6)).cells:
        found = analysed_cell.figures
        if analysed_cell.status.kind is Kind.ERROR:  # shown as nothing but why
            assert found is None and analysed_cell.status.detail.startswith(UNTRUE)
            continue
        assert found is not None and found.possible is not None and found.speedup is not None
        assert found.ideal is not None and found.possible <= found.ideal
        top = found.interval.high if found.interval else found.speedup
        if top > found.possible * (1 + IDEAL_TOLERANCE):
            assert analysed_cell.status.kind in (Kind.UNSTABLE, Kind.INTERRUPTED)
            assert f"beyond the {found.possible:.2f}x possible" in analysed_cell.status.detail


def test_cores_used_is_blank_when_the_cpu_clock_is_too_coarse_for_the_run() -> None:
    coarse = cell("processes", Layout(processes=2), [0.02, 0.02, 0.02])
    coarse.samples = [sample(0.02, cpu=0.04, cpu_resolution=0.04) for _ in range(3)]
    fine = cell("threads", Layout(threads=2), [1.0, 1.0, 1.0], task="other")
    fine.samples = [sample(1.0, cpu=1.0, cpu_resolution=0.04) for _ in range(3)]
    short, long = analysed([coarse, fine])
    assert short.figures is not None and short.figures.cores is None
    assert long.figures is not None and long.figures.cores == 1.0


def test_more_cpu_than_the_machine_has_is_never_shown() -> None:
    impossible = cell("threads", Layout(threads=2), [1.0, 1.0, 1.0])
    impossible.samples = [sample(1.0, cpu=48.0) for _ in range(3)]
    (found,) = analysed([impossible])
    assert found.figures is not None and found.figures.cores is None
    assert found.status.detail == "more CPU time than 2 usable CPUs can give in the run"


@given(st.lists(st.integers(min_value=10 * MIB, max_value=12 * MIB), min_size=2, max_size=6))
def test_memory_per_worker_is_never_negative_and_says_when_it_is_within_the_noise(
    peaks: list[int],
) -> None:
    base = cell("single", Layout(), [1.0] * len(peaks))
    base.samples = [sample(1.0, peak) for peak in peaks]
    more = cell("threads", Layout(threads=4), [1.0] * len(peaks))
    more.samples = [sample(1.0, peak) for peak in reversed(peaks)]
    _, threads = analysed([base, more], repeat=len(peaks))
    assert threads.figures is not None
    estimate = threads.figures.memory_per_worker
    assert estimate is not None
    text = memory_estimate(estimate)
    assert not text.startswith("-")
    if estimate.value <= estimate.resolution:
        assert text.startswith("≤ ")
    row = render_task(analyse(results([base, more], repeat=len(peaks))), "cpu", "simple", wide=True)
    assert f"  {text}  " in row.splitlines()[-1]


def test_an_interrupted_cell_keeps_its_unstable_reasons_for_the_verdict() -> None:
    base = cell("single", Layout(), [1.0])
    fast = cell("processes", Layout(processes=2), [0.45], cpu=0.9)
    analysis = analyse(results([base, fast], repeat=3, complete=False))
    short = analysis.cells[1]
    assert short.status.kind is Kind.INTERRUPTED
    assert short.unstable == ("speed-up up to 2.22x, beyond the 2.00x possible here",)
    evidence = dict(verdict_rows(analysis))["processes on CPU-bound work"]
    assert evidence.endswith("[from 1 of 3 runs; unstable]")


def test_cells_never_measured_are_not_run_and_short_ones_interrupted() -> None:
    base = cell("single", Layout(), [1.0])
    never = cell("threads", Layout(threads=2), [])
    found = analyse(results([base, never], repeat=3, complete=False))
    short, unmeasured = found.cells
    assert short.status.kind is Kind.INTERRUPTED
    assert short.status.detail == "1 of 3 runs"
    assert short.short_of_samples
    assert unmeasured.status == status.Status(Kind.NOT_RUN, "the run stopped before this cell")
    assert unmeasured.figures is None
    table = render_task(found, "cpu", "simple")
    assert "not run: the run stopped before this cell" in table
    assert " ok" not in table


def test_failures_and_not_applicable_cells_have_their_own_statuses() -> None:
    failed = cell("threads", Layout(threads=2), [1.0], failure=status.timeout(2))
    excused = cell("asyncio", Layout(tasks=2), [], not_applicable="CPU-bound work blocks")
    timed_out, not_applicable = analysed([failed, excused])
    assert str(timed_out.status) == "timeout after 2 s"
    assert timed_out.figures is None
    assert str(not_applicable.status) == "n/a: CPU-bound work blocks"


def test_every_figure_comes_from_the_run_it_is_given() -> None:
    run = results(
        [cell("single", Layout(), [1.0, 1.0]), cell("threads", Layout(threads=4), [0.5] * 2)],
        cpus=4,
    )
    for s in run.cells[1].samples:
        s.gil_enabled = False
    first = analyse(run).cells[1].figures
    for s in run.cells[1].samples:
        s.job_span = 0.25
    second = analyse(run).cells[1].figures
    assert first is not None and second is not None
    assert (first.speedup, second.speedup) == (2.0, 4.0)
    assert (first.jobs.median, second.jobs.median) == (0.5, 0.25)


@pytest.mark.parametrize("bound", ["transfer"])
def test_a_transfer_task_has_no_speed_up(bound: str) -> None:
    base, threads = analysed(
        [
            cell("single", Layout(), [0.1] * 3, task="echo", bound=bound),
            cell("threads", Layout(threads=2), [0.05] * 3, task="echo", bound=bound),
        ]
    )
    assert base.figures is not None and base.figures.speedup is None
    assert threads.figures is not None and threads.figures.speedup is None


def test_jobs_outside_the_tree_have_no_cpu_or_memory_figures_shown_as_theirs() -> None:
    base = cell("single", Layout(), [1.0, 1.0, 1.0], jobs=8)
    remote = cell("cluster", Layout(processes=8), [0.125, 0.125, 0.125], kind="other", jobs=8)
    for s in remote.samples:
        s.outside_tree = True
        s.cpu = 0.001  # the lab's side only
    _, found = analysed([base, remote], repeat=3)
    assert found.figures is not None and found.figures.outside_tree
    assert found.figures.cores is None and found.figures.memory_per_worker is None
    assert found.status.kind is Kind.OK  # 8 workers on a cluster: 8x is possible there
    table = render_task(analyse(results([base, remote])), "cpu", "simple", 100)
    assert "remote" in table.splitlines()[-1]


def test_a_crashed_or_error_cell_shows_the_peak_memory_of_the_runs_it_kept() -> None:
    found = analyse(
        results(
            [
                cell("single", Layout(), [1.0] * 3),
                cell("threads", Layout(threads=2), [1.0] * 2, peak=30 * MIB,
                     failure=status.crashed("killed by SIGKILL")),
                cell("processes", Layout(processes=2), [0.5] * 2, peak=50 * MIB,
                     failure=status.error("job 1 failed: OSError")),
                cell("thread-per-job", Layout(threads=2), [],
                     failure=status.crashed("killed by SIGKILL")),
            ]
        )
    )  # fmt: skip
    table = render_task(found, "cpu", "simple", 100)
    rows = _rows(table)
    assert rows["threads"][-2:] == ["30.0", "crashed"] and "≥ 30.0" in " ".join(rows["threads"])
    assert rows["processes"][-2:] == ["50.0", "error"] and "≥ 50.0" in " ".join(rows["processes"])
    assert rows["thread-per-job"] == ["thread-per-job", "2", "crashed"]  # none kept, none shown
    assert "≥ peak: the highest of the runs before the cell failed" in table
    wide = _rows(render_task(found, "cpu", "simple", wide=True))
    assert "≥ 30.0" in " ".join(wide["threads"]) and "≥ 50.0" in " ".join(wide["processes"])
    _, crashed, error, unmeasured = found.cells
    assert _kept(crashed) == (30 * MIB, True)  # at least: the crashed run's own is not kept
    assert _kept(error) == (50 * MIB, True)
    assert unmeasured.kept_peak is None  # never invented


def test_a_failed_runs_own_measured_peak_memory_is_shown_and_kept_in_the_results(
    tmp_path: Path,
) -> None:
    """A cell that crashed on its first run, and one whose failed run peaked above the runs
    before it: the peak the lab measured of the failed run is the cell's, exact."""
    first = cell("threads", Layout(threads=2), [], failure=status.crashed("killed by SIGKILL"))
    first.failed_peak_memory = 40 * MIB
    later = cell("processes", Layout(processes=2), [0.5] * 2, peak=30 * MIB,
                 failure=status.timeout(5))  # fmt: skip
    later.failed_peak_memory = 45 * MIB
    run = results([cell("single", Layout(), [1.0] * 3), first, later])
    path = tmp_path / "r.json"
    path.write_text(run.to_json())
    for found in (analyse(run), analyse(load(path))):
        table = render_task(found, "cpu", "simple", 100)
        rows = _rows(table)
        assert rows["threads"][-2:] == ["40.0", "crashed"]
        assert rows["processes"][-5:] == ["45.0", "timeout", "after", "5", "s"]
        assert "≥" not in table
    rows = list(csv.DictReader(io.StringIO(to_csv(run))))
    assert [r["peak_memory_bytes"] for r in rows[1:]] == [str(40 * MIB), str(45 * MIB)]
    journal = Journal(tmp_path / "j.json")
    journal.begin(run)
    journal.add(run.cells, first, None)
    journal.close()
    assert load(journal.partial).cells[1].failed_peak_memory == 40 * MIB


def test_a_cell_whose_records_cannot_be_true_shows_its_exact_peak_memory() -> None:
    found = analyse(
        results(
            [
                cell("single", Layout(), [1.0] * 3),
                cell("processes", Layout(processes=2), [0.3] * 3, peak=70 * MIB),  # 3.33x on 2
            ]
        )
    )
    table = render_task(found, "cpu", "simple", 100)
    assert _rows(table)["processes"][-2:] == ["70.0", "error"]
    assert "≥" not in table  # every run kept: the peak is exact
    untrue = found.cells[1]
    assert untrue.status.detail.startswith(UNTRUE) and _kept(untrue) == (70 * MIB, False)


def _kept(analysed: CellAnalysis) -> tuple[int, bool] | None:
    found = analysed.kept_peak
    return None if found is None else (found.value, found.at_least)


def _rows(table: str) -> dict[str, list[str]]:
    """A compact table's rows by runner: their words, the status's note number left out."""
    return {
        line.split()[0]: [w for w in line.split() if not w.startswith("[")]
        for line in table.splitlines()[2:]
        if line and not line.startswith(("[", " ", "≥"))
    }
