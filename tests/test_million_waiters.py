"""A million waiters (issue 24, part 2): a large run's records kept by column as its jobs end
(:mod:`lab.worker.recorder`), sent and saved compactly, checked by column, their memory said
apart from the waiters'; the sweep's limits at 1,000,000. No test asserts a duration."""

from __future__ import annotations

import json
import math
import re
import threading
from array import array
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import LabProcess
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.boundary.measurement import Measurement
from lab.cli import main
from lab.host.registry import load_catalog
from lab.jobs import RECORD_FIELDS, RECORDED, Job, JobRecord, Timed, _identity
from lab.plan import limits
from lab.plan.sweep import DEFAULT_LEVELS, SweepPlan
from lab.records import COMPACT_FROM, Records, Shared, in_order
from lab.results.analysis import analyse
from lab.results.journal import load
from lab.run import validate
from lab.runner import Layout, RunContext, Workers
from lab.testing_tasks import TASKS, anap, nap
from lab.worker.measure import make_jobs, measure
from lab.worker.recorder import Recorder, records_nbytes
from lab_plugins.asyncio_loops import AsyncioRunner
from lab_plugins.tasks import IO
from lab_plugins.threads import ThreadsRunner

if TYPE_CHECKING:
    from lab.jobs import Identity
    from lab.runner import Runner

#: What the lab's clock gives: whole nanoseconds (up to a few days of uptime), as seconds.
nanoseconds = st.integers(0, 10**15)
clock_times = nanoseconds.map(lambda ns: ns / 1e9)
finite = st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False)
identities = st.sampled_from(
    [(10, "MainProcess", "MainThread", 10, "", 0.0), (10, "MainProcess", "Thread-1", 11, "", 0.0)]
)


def one_thread_records(starts: list[float], spans: list[float]) -> Records:
    """Records of jobs on one thread, as a large run's recorder gives them."""
    ends = [start + span for start, span in zip(starts, spans, strict=True)]
    return records_ending(starts, ends)


def records_ending(starts: list[float], ends: list[float]) -> Records:
    recorder = Recorder(len(starts))
    identity: Identity = (recorder.pid, "MainProcess", "MainThread", 1, "host", 0.5)
    for index, (start, end) in enumerate(zip(starts, ends, strict=True)):
        assert recorder.add(index, identity, start, end, None, None, None)
    return recorder.records()


# The compact record path round-trips exactly


@given(st.lists(st.tuples(nanoseconds, nanoseconds), min_size=1, max_size=50))
def test_a_large_runs_times_come_back_from_the_file_exactly(times: list[tuple[int, int]]) -> None:
    """Times on the lab's clock, whole nanoseconds, are written as nanoseconds and read back
    as the very floats they were."""
    starts = [start / 1e9 for start, _ in times]
    ends = [(start + span) / 1e9 for start, span in times]
    records = records_ending(starts, ends)
    data = json.loads(json.dumps(records.to_data(compact=True)))
    assert "index" not in data  # the jobs are in order
    assert data["pid"] == records[0].pid and data["thread"] == "MainThread"  # shared: once
    back = Records.from_data(data)
    assert list(back) == list(records)
    assert all(isinstance(back.column(name), array) for name in ("start", "end"))


@given(st.lists(st.tuples(finite, st.floats(0, 10)), min_size=1, max_size=30))
def test_times_off_the_nanosecond_grid_are_kept_as_seconds_not_rounded(
    times: list[tuple[float, float]],
) -> None:
    records = one_thread_records([t for t, _ in times], [s for _, s in times])
    data = json.loads(json.dumps(records.to_data(compact=True)))
    back = Records.from_data(data)
    assert [(r.start, r.end) for r in back] == [(r.start, r.end) for r in records]


def test_the_compact_form_holds_nanoseconds_after_the_first_start() -> None:
    starts = [1000.0 + i * 1e-6 for i in range(5)]
    starts = [round(s * 1e9) / 1e9 for s in starts]
    data = one_thread_records(starts, [0.25] * 5).to_data(compact=True)
    assert data["start"] == {"from": 1000 * 10**9, "ns": [0, 1000, 2000, 3000, 4000]}
    assert data["end"]["ns"][0] == 250_000_000
    assert data["jobs"] == 5 and "index" not in data and "result" not in data


def test_records_of_jobs_out_of_order_keep_their_index_in_the_compact_form() -> None:
    found = [JobRecord(i, 1, "p", "t", 1, 0.5, 1.0, None) for i in (1, 0)]
    data = Records.of(found).to_data(compact=True)
    assert data["index"] == [1, 0]
    assert list(Records.from_data(data)) == found


def test_a_small_runs_file_form_is_as_it_was() -> None:
    data = Records.of([JobRecord(i, 1, "p", "t", 1, i, i + 0.5, None) for i in range(3)]).to_data()
    assert data["index"] == [0, 1, 2] and data["start"] == [0, 1, 2]


@given(
    st.lists(
        st.tuples(
            identities,
            clock_times,
            st.floats(0, 10),
            st.none() | st.integers(-5, 5) | st.text(max_size=3),
            st.none() | st.text(min_size=1, max_size=5),
            st.none() | st.floats(0, 10),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_a_recorders_records_are_those_a_job_would_have_returned(
    ended: list[tuple[Identity, float, float, Any, str | None, float | None]],
) -> None:
    """Each job's record by column, read back as the record objects the classic path makes,
    in the jobs' order, and sent to the lab as the same records."""
    recorder = Recorder(len(ended))
    expected = []
    for index, (identity, start, span, result, error, cpu) in enumerate(ended):
        here = (recorder.pid, *identity[1:])
        assert recorder.add(index, here, start, start + span, cpu, result, error)
        expected.append(JobRecord(index, *here[:4], start, start + span, cpu, result, error,
                                  *here[4:]))  # fmt: skip
    records = recorder.records()
    assert list(records) == expected
    sent = Measurement(records=records, run_start=0.0, run_end=1e7)
    back = Measurement.from_json(sent.to_json())
    assert isinstance(back.records, Records)
    assert list(back.records) == [
        JobRecord(*(getattr(r, name) for name in RECORD_FIELDS)) for r in expected
    ]


def test_a_recorder_shows_a_job_that_never_ran_or_ran_twice_and_a_stray_record() -> None:
    recorder = Recorder(4)
    identity = _identity()
    for index in (0, 2, 2, 3):
        assert recorder.add(index, identity, 1.0, 2.0, None, None, None)
    recorder.add_record(JobRecord(7, 1, "Worker", "MainThread", 1, 1.0, 2.0, 0.1))
    indices = [r.index for r in recorder.records()]
    assert indices == [0, 2, 2, 3, 7]
    found = validate.problems(
        Measurement(records=recorder.records(), calls=[1, 0, 2, 1]), 4, Layout(tasks=4), IO, 0.0
    )
    assert found[:3] == [
        "job 1 never ran",
        "job 2 ran 2 times",
        "record for job 7, which does not exist",
    ]


def test_a_job_in_another_process_or_outside_the_run_returns_its_own_record() -> None:
    recorder = Recorder(2)
    forked: Identity = (recorder.pid + 1, "Child", "MainThread", 1, "", 0.0)
    assert not recorder.add(0, forked, 1.0, 2.0, None, None, None)
    assert not recorder.add(5, _identity(), 1.0, 2.0, None, None, None)
    job = Job(0, nap, 0.0, recorder=recorder)
    assert job() is RECORDED
    assert [r.index for r in recorder.records()] == [0]  # job 1 never ran: each record made


def test_a_job_pickled_to_another_process_leaves_its_recorder_behind() -> None:
    import pickle

    job = Job(3, nap, 0.0, recorder=Recorder(4))
    assert pickle.loads(pickle.dumps(job)) == Job(3, nap, 0.0)


def test_the_record_a_recorded_job_returns_cannot_be_changed() -> None:
    with pytest.raises(AttributeError, match="kept by the lab"):
        RECORDED.end = 0.0
    assert RECORDED.index == -1 and isinstance(RECORDED, JobRecord)


def test_operations_and_results_are_kept_where_a_job_has_them() -> None:
    recorder = Recorder(3)
    identity = _identity()
    recorder.add(0, identity, 1.0, 2.0, None, Timed(7, [0.25, 0.5]), None)
    recorder.add(1, identity, 1.0, 2.0, None, None, "ValueError: no")
    recorder.add(2, identity, 1.0, 2.0, 0.5, None, None)
    records = list(recorder.records())
    assert [r.operations for r in records] == [[0.25, 0.5], None, None]
    assert [r.result for r in records] == [7, None, None]
    assert [r.error for r in records] == [None, "ValueError: no", None]
    assert [r.cpu for r in records] == [None, None, 0.5]


def test_threads_that_share_a_recorder_are_each_in_their_records() -> None:
    recorder = Recorder(200)
    jobs = make_jobs(nap, 0.0, 200, None, recorder=recorder)

    def run(part: list[Job]) -> None:
        for job in part:
            assert job() is RECORDED

    threads = [threading.Thread(target=run, args=(jobs[n::4],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    records = recorder.records()
    assert [r.index for r in records] == list(range(200))
    assert {r.thread_id for r in records} == {t.native_id for t in threads}
    assert {(r.index, r.thread_id) for r in records} == {
        (job.index, threads[job.index % 4].native_id) for job in jobs
    }


# Every runner through the compact path, as the worker runs a large cell


def catalog_runner(name: str) -> Runner:
    runner = load_catalog()[0].runners.get(name)
    if (why := runner.unavailable()) is not None:
        pytest.skip(why)
    return runner


@pytest.mark.parametrize(
    ("name", "workers"),
    [
        ("asyncio", "12"),
        ("uvloop", "12"),
        ("anyio-asyncio", "12"),
        ("anyio-trio", "12"),
        ("single", "1"),
        ("threads", "4"),
        ("thread-per-job", "12"),
        ("processes", "2"),
        ("threads-in-processes", "2x2"),
    ],
)
def test_every_runner_gives_valid_records_through_a_recorder(name: str, workers: str) -> None:
    """The plugin contract unchanged: each built-in runner, whatever it does with what its
    jobs return (an event loop's gather, a pool's futures, records from other processes),
    gives the lab one record a job; those from other processes are added to the recorder's."""
    runner = catalog_runner(name)
    layout = runner.layout(Workers.parse(workers))
    func = nap if runner.job_form == "sync" else anap
    recorder = Recorder(12)
    jobs = make_jobs(func, 0.02, 12, None, recorder=recorder)
    context = RunContext.for_jobs("spawn", jobs)
    measurement = measure(runner, layout, context, jobs, recorder=recorder)
    assert measurement.error is None
    records = measurement.records
    assert isinstance(records, Records) and [r.index for r in records] == list(range(12))
    assert [r.result for r in records] == [0.02] * 12
    task = next(t for t in TASKS if t.name == "conformance-nap")
    assert validate.problems(measurement, 12, layout, task, 0.02, uses_layout=False) == []
    assert measurement.records_memory == recorder.nbytes()
    back = Measurement.from_json(measurement.to_json())
    assert list(back.records) == list(records)


def test_a_runner_that_changes_its_records_fails_where_the_lab_keeps_them() -> None:
    """A runner that edits the records it returns (a liar shortening its jobs) cannot reach a
    record the lab keeps: the cell is an error, not a shorter job."""
    from lab_dishonest_runners import InstantEnd

    recorder = Recorder(4)
    jobs = make_jobs(nap, 0.01, 4, None, recorder=recorder)
    runner = InstantEnd()
    layout = runner.layout(Workers(2))
    measurement = measure(
        runner, layout, RunContext.for_jobs("spawn", jobs), jobs, recorder=recorder
    )
    assert measurement.error is not None and "kept by the lab" in measurement.error


def test_a_runner_that_skips_a_job_is_named_through_a_recorder() -> None:
    from lab_broken_runners import SkipsAJob

    recorder = Recorder(4)
    jobs = make_jobs(nap, 0.0, 4, None, recorder=recorder)
    runner = SkipsAJob()
    layout = runner.layout(Workers(2))
    measurement = measure(
        runner, layout, RunContext.for_jobs("spawn", jobs), jobs, recorder=recorder
    )
    assert validate.problems(measurement, 4, layout, IO, 0.0)[0] == "job 1 never ran"


# The host checks a large run's records by column, with the checks' own words when wrong


@settings(max_examples=60)
@given(
    starts=st.lists(clock_times, min_size=1, max_size=30),
    span=st.floats(0, 0.5),
    run=st.tuples(st.floats(-1, 0.01), st.floats(-0.01, 1)),
    concurrency=st.integers(1, 40),
    uses_layout=st.booleans(),
    calls=st.none() | st.lists(st.integers(0, 2), min_size=30, max_size=30),
)
def test_checks_by_column_say_what_the_checks_by_record_say(
    starts: list[float],
    span: float,
    run: tuple[float, float],
    concurrency: int,
    uses_layout: bool,
    calls: list[int] | None,
) -> None:
    records = one_thread_records(starts, [span] * len(starts))
    first, last = min(starts), max(starts) + span
    window: dict[str, Any] = {"run_start": first + run[0], "run_end": last + run[1], "host": "host"}
    counted = None if calls is None else calls[: len(starts)]
    by_column = Measurement(records=records, calls=counted, **window)
    by_record = Measurement(records=list(records), calls=counted, **window)
    layout = Layout(tasks=concurrency)
    size = 0.2 if span >= 0.2 else 0.0
    found = validate.problems(by_column, len(starts), layout, IO, size, uses_layout)
    assert found == validate.problems(by_record, len(starts), layout, IO, size, uses_layout)


# What the records take is said apart from the waiters


def test_a_recorders_bytes_are_a_few_a_job_against_a_record_objects() -> None:
    recorder = Recorder(COMPACT_FROM)
    jobs = make_jobs(nap, 0.0, COMPACT_FROM, None, recorder=recorder)
    classic = [Job(i, nap, 0.0)() for i in range(1000)]
    for job in jobs[:1000]:
        job()
    per_job = recorder.nbytes() / COMPACT_FROM
    assert 16 <= per_job <= 40  # two times of 8 bytes, a count, a CPU time
    assert records_nbytes(classic) / 1000 > 4 * per_job


def test_a_large_sweep_cell_is_checked_and_saved_in_the_compact_form(
    tmp_path: Path, lab_process: LabProcess
) -> None:
    saved = tmp_path / "sweep.json"
    result = lab_process.run(
        "sweep", "--levels", f"100,{COMPACT_FROM}", "--runners", "asyncio", "--size", "0.05",
        "--repeat", "1", "-q", "--json", str(saved), "--wide", timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(saved.read_text())
    large = next(c for c in data["cells"] if c["jobs"] == COMPACT_FROM)
    (sample,) = large["samples"]
    records = sample["records"]
    assert records["jobs"] == COMPACT_FROM and "index" not in records
    assert set(records["start"]) == set(records["end"]) == {"from", "ns"}
    assert len(json.dumps(records)) / COMPACT_FROM < 30  # bytes a job, its two times
    assert 16 <= sample["records_memory"] / COMPACT_FROM <= 40
    small = next(c for c in data["cells"] if c["jobs"] == 100)
    assert isinstance(small["samples"][0]["records"]["index"], list)  # a small run's as it was
    analysis = analyse(load(saved))
    assert [a.status.kind.value for a in analysis.cells] == ["ok", "ok"]
    assert "records/waiter" in result.stdout
    line = next(line for line in result.stdout.splitlines() if line.startswith("memory per waiter"))
    assert re.match(
        rf"memory per waiter at {COMPACT_FROM:,} on asyncio: \S+ K?i?B, \d+ B of it the lab's"
        r" records \(\S+ K?i?B without\)$",
        line,
    ), line
    assert lab_process.leftovers() == []


def test_a_measurement_whose_packed_column_is_damaged_is_refused() -> None:
    records = one_thread_records([1.0, 2.0], [0.5, 0.5])
    data = json.loads(Measurement(records=records).to_json())
    data["records"]["start"]["base64"] = "not base64!"
    with pytest.raises(ValueError, match="malformed measurement: start"):
        Measurement.from_json(json.dumps(data))
    data["records"]["start"] = {"array": "q", "base64": ""}
    with pytest.raises(ValueError, match="start is not an array of 'd'"):
        Measurement.from_json(json.dumps(data))


def test_a_results_file_whose_nanoseconds_are_not_whole_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lab_builders import cell, results

    run = results([cell("single", Layout(), [0.1, 0.1])])
    data = run.to_data()
    records = data["cells"][0]["samples"][0]["records"]
    records["start"] = {"from": 0, "ns": [1.5]}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    assert main(["report", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"lab: error: {path} is damaged: cell 0: records.start must be whole nanoseconds\n"
    )


# The sweep at 1,000,000


def test_a_million_without_allow_large_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sweep", "--levels", "1000000", "--runners", "asyncio"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "lab: error: asyncio at 1,000,000 runs 1,000,000 tasks at once, above the sweep's soft"
        " limit of 100,000; pass --allow-large to run it anyway\n"
    )


def test_threads_past_the_machines_limit_are_na_beside_the_loops_that_go_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(limits, "os_thread_limit", lambda: 20_000)
    monkeypatch.setattr(limits, "descriptor_limit", lambda: None)
    runners = [AsyncioRunner("asyncio", "tasks"), ThreadsRunner()]
    plan = SweepPlan(IO, runners, [1000, 1_000_000], 0.2, 2, allow_large=True)
    plan.check()  # no usage error: asyncio holds every level
    reasons = {(c.runner, c.jobs): c.not_applicable for c in plan.cells()}
    assert reasons[("asyncio", 1_000_000)] is None and reasons[("threads", 1000)] is None
    assert reasons[("threads", 1_000_000)] == (
        "threads at 1,000,000 starts 1,000,000 threads; this machine allows 20,000 for the user"
        " (RLIMIT_NPROC, threads-max), and the lab keeps half free"
    )
    alone = SweepPlan(IO, [ThreadsRunner()], [1_000_000], 0.2, 2, allow_large=True)
    with pytest.raises(limits.UsageError, match="this machine allows 20,000"):
        alone.check()  # nothing left to run: refused as before


def test_the_default_levels_stay_those_of_a_small_machine() -> None:
    assert max(DEFAULT_LEVELS) <= 10_000


def test_in_order_is_whole_numbers_from_zero() -> None:
    assert in_order(range(3)) and in_order([0, 1, 2]) and in_order(array("q", [0, 1]))
    assert not in_order([0, 2]) and not in_order([False, True]) and not in_order(range(1, 3))
    assert isinstance(
        Records.of([JobRecord(0, 1, "p", "t", 1, 0.0, 1.0, None)]).column("pid"), Shared
    )
    assert math.isfinite(records_nbytes([]))


def test_a_sweeps_runs_may_take_longer_in_proportion_past_100000_waiters() -> None:
    from lab.cli.sweep_command import DEFAULT_TIMEOUT, default_timeout

    assert default_timeout(list(DEFAULT_LEVELS)) == DEFAULT_TIMEOUT
    assert default_timeout([1000, 100_000]) == DEFAULT_TIMEOUT
    assert default_timeout([1000, 1_000_000]) == 10 * DEFAULT_TIMEOUT


# The bench's waiters section, on made-up peaks (what it measures is the bench's)


def bench_waiters() -> Any:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the bench: not installed
    from bench import waiters

    return waiters


def test_the_bench_gives_memory_per_waiter_on_both_sides_and_their_ratio() -> None:
    waiters = bench_waiters()
    run = waiters.Waiters(1_000_000, 1000, 0.2, 60.0)
    for lab_peak, hand_peak in ((2_100_000_000, 1_500_000_000), (2_110_000_000, 1_490_000_000)):
        run.lab.low.append(25_000_000)
        run.hand.low.append(15_000_000)
        run.lab.high.append(lab_peak)
        run.hand.high.append(hand_peak)
        run.lab.records.append(22_000_000)
    shown = waiters.table(run, 3, "simple")
    assert re.search(r"lab asyncio cell\s+2\.0\d KiB\s+22 B", shown), shown
    assert re.search(r"hand-written gather\s+1\.4\d KiB", shown), shown
    assert "lab / hand-written: 1.4" in shown and "goal <= 1.5: meets goal" in shown


def test_a_bench_of_waiters_asked_the_impossible_is_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bench_waiters()
    from bench import cli

    assert cli.main(["waiters", "--jobs", "3", "--low", "5"]) == 1
    assert capsys.readouterr().err == "bench: --low must be at least 1 and below --jobs, not 5\n"
