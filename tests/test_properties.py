"""Properties of the statistics, the record validation and the input parsing."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab.boundary.measurement import Measurement
from lab.boundary.requests import CellSpec, WorkerOptions, read_request
from lab.errors import UsageError
from lab.host.manager import PluginSelection
from lab.jobs import JobRecord
from lab.results.model import Cell, span
from lab.results.stats import ratio_of_medians, summarise
from lab.run import rounds as matrix
from lab.run import validate
from lab.run.rounds import Rounds
from lab.runner import Layout, Workers
from lab_plugins.tasks import CPU, IO

finite = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False)


@given(st.lists(finite, min_size=1, max_size=50))
def test_the_median_lies_between_min_and_max(values: list[float]) -> None:
    summary = summarise(values)
    assert summary.low <= summary.q1 <= summary.median <= summary.q3 <= summary.high
    assert summary.low * (1 - 1e-12) <= summary.mean <= summary.high * (1 + 1e-12)
    assert summary.stdev >= 0
    assert summary.variation >= 0
    assert summary.count == len(values)


@given(st.lists(st.floats(min_value=-1e100, max_value=1e100), min_size=1, max_size=50))
def test_a_summary_is_what_the_statistics_module_gives(values: list[float]) -> None:
    summary = summarise(values)
    quartiles = (
        statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
    )
    assert (summary.median, summary.q1, summary.q3) == (
        statistics.median(values),
        quartiles[0],
        quartiles[2],
    )
    assert (summary.mean, summary.low, summary.high) == (
        statistics.fmean(values),
        min(values),
        max(values),
    )


@given(st.lists(finite, min_size=1, max_size=12), st.lists(finite, min_size=1, max_size=12))
def test_the_interval_contains_its_point_estimate(
    baseline: list[float], measured: list[float]
) -> None:
    interval = ratio_of_medians(baseline, measured)
    if len(baseline) < 2 or len(measured) < 2:
        assert interval is None
        return
    assert interval is not None
    assert interval.low <= interval.point <= interval.high
    assert interval.point == pytest.approx(
        statistics.median(baseline) / statistics.median(measured)
    )
    assert interval.confidence == 0.95


def test_the_interval_narrows_with_agreeing_samples() -> None:
    tight = ratio_of_medians([1.0, 1.001, 0.999, 1.0], [0.5, 0.5005, 0.4995, 0.5])
    loose = ratio_of_medians([1.0, 1.3, 0.7, 1.1], [0.5, 0.7, 0.3, 0.6])
    assert tight is not None and loose is not None
    assert tight.high - tight.low < loose.high - loose.low


@given(
    st.integers(min_value=0, max_value=6),
    st.integers(min_value=0, max_value=3),
    st.integers(min_value=1, max_value=4),
    st.sets(st.integers(min_value=0, max_value=5)),
)
def test_interleaving_visits_every_cell_once_per_round(
    cell_count: int, warmups: int, repeat: int, not_applicable: set[int]
) -> None:
    cells = [
        Cell(
            "io",
            "io",
            "single",
            "inline",
            "1",
            Layout(),
            1,
            0.1,
            "n/a" if i in not_applicable else None,
        )
        for i in range(cell_count)
    ]
    visits: list[tuple[int, bool]] = []

    def fake_measure(cell: Cell, settings: Rounds, task: object, keep: bool = True) -> None:
        visits.append((next(i for i, c in enumerate(cells) if c is cell), keep))

    runnable = [i for i in range(cell_count) if i not in not_applicable]
    settings = Rounds(repeat=repeat, timeout=1, start_method="spawn", warmups=warmups)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(matrix, "measure_once", fake_measure)
        matrix.run(cells, settings, {"io": IO})
    rounds = warmups + repeat
    assert [i for i, _ in visits] == runnable * rounds
    assert [keep for _, keep in visits] == [r >= warmups for r in range(rounds) for _ in runnable]


def record(index: int, start: float = 1.0, pid: int = 1, thread: int = 1) -> JobRecord:
    return JobRecord(index, pid, "p", "t", thread, start, start + 0.1, 0.0, None, None)


def measured(records: list[JobRecord]) -> Measurement:
    return Measurement(
        startup=0.0, wall=1.0, teardown=0.0, cpu=0.0, run_start=0.0, run_end=10.0, records=records
    )


@given(st.integers(min_value=0, max_value=30), st.data())
def test_records_are_valid_exactly_when_each_job_ran_once_in_order(
    jobs: int, data: st.DataObject
) -> None:
    indices = data.draw(st.lists(st.integers(min_value=0, max_value=jobs + 1), max_size=jobs + 3))
    one_after_another = [record(i, start=1.0 + n * 0.2) for n, i in enumerate(indices)]
    found = validate.problems(measured(one_after_another), jobs, Layout(), IO, 0.1)
    assert (found == []) == (indices == list(range(jobs)))


@given(st.integers(min_value=1, max_value=8), st.integers(min_value=1, max_value=8), st.data())
def test_more_processes_or_threads_than_the_layout_allows_are_caught(
    processes: int, threads: int, data: st.DataObject
) -> None:
    placements = data.draw(
        st.lists(
            st.tuples(st.integers(1, processes + 1), st.integers(1, threads + 1)),
            min_size=1,
            max_size=20,
        )
    )
    records = [record(i, pid=p, thread=t) for i, (p, t) in enumerate(placements)]
    found = validate.problems(measured(records), len(records), Layout(processes, threads), IO, 0.1)
    # every record spans the same instant, so all of them ran at once
    too_many = (
        len({p for p, _ in placements}) > processes
        or len(set(placements)) > processes * threads
        or len(placements) > processes * threads
    )
    assert bool(found) == too_many


def test_a_fresh_worker_per_job_is_fine_while_no_more_run_at_once() -> None:
    one_after_another = [record(i, start=1.0 + i, pid=100 + i, thread=i) for i in range(5)]
    assert validate.problems(measured(one_after_another), 5, Layout(), IO, 0.1) == []
    together = [record(i, start=1.0, pid=100 + i, thread=i) for i in range(3)]
    assert validate.problems(measured(together), 3, Layout(processes=2), IO, 0.1) == [
        "jobs ran in 3 processes at once; its layout allows 2",
        "jobs ran on 3 threads at once; its layout allows 2",
        "3 jobs ran at once; its layout allows 2",
    ]


def test_records_outside_the_run_and_failed_checks_are_caught() -> None:
    outside = validate.problems(measured([record(0, start=20.0)]), 1, Layout(), IO, 0.1)
    assert outside == ["job 0 ran outside the run it belongs to"]
    short = validate.problems(measured([record(0)]), 1, Layout(), IO, 5.0)
    assert short == ["job 0: slept 0.1000 s, less than 5 s"]
    unfinished = JobRecord(0, 1, "p", "t", 1, 1.0, 2.0, 1.0, 42, None)
    assert validate.problems(measured([unfinished]), 1, Layout(), CPU, 10) == [
        "job 0: the countdown ended at 42, not 0"
    ]


@given(st.integers(min_value=1, max_value=10**6), st.none() | st.integers(1, 10**3))
def test_workers_round_trip(count: int, threads: int | None) -> None:
    text = str(count) if threads is None else f"{count}x{threads}"
    workers = Workers.parse(text)
    assert str(workers) == text
    assert workers.total == count * (threads or 1)


@given(st.text(max_size=8))
def test_workers_parse_or_refuse_cleanly(text: str) -> None:
    try:
        workers = Workers.parse(text)
    except UsageError as exc:
        assert "\n" not in str(exc)
    else:
        assert workers.total >= 1


@given(st.floats(min_value=1e-3, max_value=3600))
def test_any_sleep_within_the_limit_parses(seconds: float) -> None:
    assert IO.size.parse(repr(seconds), task="io") == seconds


@given(st.text(max_size=10))
def test_sizes_parse_or_refuse_cleanly(text: str) -> None:
    for task in (CPU, IO):
        try:
            value = task.size.parse(text, task=task.name)
        except UsageError as exc:
            assert "\n" not in str(exc)
        else:
            assert 0 < value <= task.size.soft_limit
            assert not math.isnan(value)


def test_cell_specs_and_measurements_cross_as_json() -> None:
    plugins = PluginSelection(blocked=("x",), modules=("m",), autoload=False)
    worker = WorkerOptions(plugins, {"threads": {"k": "v"}}, {"io": {"o": "1"}}, sys_path=("/p",))
    spec = CellSpec("io", "threads", "2x2", 4, 0.2, "spawn", True, worker)
    assert read_request(spec.to_json()) == spec
    measurement = measured([record(0), record(1)])
    assert Measurement.from_json(measurement.to_json()) == measurement
    data = json.loads(measurement.to_json())
    data["records"][0][1] = "1"  # a pid that is not a number
    bad_record = json.dumps(data)
    for garbage in ("[]", "{}", '{"records": [{"index": 1}]}', "not json", bad_record):
        with pytest.raises(ValueError, match="malformed measurement"):
            Measurement.from_json(garbage)


def test_records_from_another_host_are_checked_on_the_wall_clock() -> None:
    """A cluster's worker on another machine: its monotonic clock is not the lab's, its wall
    clock is (give or take the slack); its (host, pid) is its own process."""
    here = Measurement(
        startup=0.0, wall=1.0, teardown=0.0, cpu=0.0, run_start=100.0, run_end=101.0,
        host="lab", clock_offset=1000.0, records=[],
    )  # fmt: skip
    # The same pid on two hosts, at the same wall-clock time: two processes, one job each.
    there = JobRecord(0, 7, "p", "t", 1, 5.2, 5.3, 0.0, None, None, "node-a", 1095.0)
    other = JobRecord(1, 7, "p", "t", 1, 9.2, 9.3, 0.0, None, None, "node-b", 1091.0)
    found = validate.problems(
        replace(here, records=[there, other]), 2, Layout(processes=2), IO, 0.1
    )
    assert found == []
    late = JobRecord(0, 7, "p", "t", 1, 5.2, 5.3, 0.0, None, None, "node-a", 1105.0)
    found = validate.problems(replace(here, records=[late]), 1, Layout(), IO, 0.1)
    assert found == ["job 0 ran outside the run it belongs to"]
    assert span([there, other]) == pytest.approx(0.1)
