"""Jobs that time their own operations (requests, reads): ``lab.Timed`` results, the record's
``operations``, what the host checks of them, and the latency and rate the reports show."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lab_builders import cell, results

from lab import JobRecord, Layout, Size, Task, Timed
from lab.boundary.measurement import RECORD_FIELDS, Measurement
from lab.records import Records
from lab.report.markdown_csv import to_csv
from lab.report.sweep_table import render_sweep
from lab.report.table import render_task
from lab.results.analysis import analyse, percentile
from lab.results.model import Results, Sample
from lab.run.validate import problems

DURATIONS = st.lists(st.floats(min_value=0, max_value=10, allow_nan=False), min_size=1, max_size=50)


def timed_record(index: int, start: float, end: float, operations: list[float] | None) -> JobRecord:
    return JobRecord(index, 100, "p", "t", 1, start, end, None, "ok", None, "h", 0.0, operations)


def timed_task(operation: str = "request") -> Task:
    return Task(
        name="timed",
        description="jobs that time what they do",
        bound="io",
        forms={"sync": lambda size: Timed("ok", [size])},
        size=Size("seconds", float, 1.0, 10.0),
        operation=operation,
    )


def test_a_timed_result_is_split_where_the_record_leaves_the_worker() -> None:
    record = JobRecord(0, 1, "p", "t", 1, 0.0, 1.0, None, Timed(b"abc", (0.25, 0.5)))
    sent = Measurement(startup=0.0, wall=1.0, run_start=0.0, run_end=1.0, records=[record])
    received = Measurement.from_json(sent.to_json())
    assert received.records[0].result == "<3 bytes>"
    assert received.records[0].operations == [0.25, 0.5]
    plain = replace(record, result=7)
    again = Measurement.from_json(replace(sent, records=[plain]).to_json())
    assert again.records[0].result == 7 and again.records[0].operations is None


@pytest.mark.parametrize("wrong", [[-0.1], ["1"], [True]])
def test_operations_that_are_not_durations_are_a_malformed_measurement(wrong: list[object]) -> None:
    sent = Measurement(records=[timed_record(0, 0.0, 1.0, [0.1])]).to_json()
    data = json.loads(sent)
    data["records"][0][-1] = wrong
    with pytest.raises(ValueError, match="malformed measurement"):
        Measurement.from_json(json.dumps(data))


def test_a_task_with_operations_wants_every_job_to_time_them() -> None:
    records = [timed_record(0, 0.1, 0.2, [0.05]), timed_record(1, 0.1, 0.2, None)]
    measurement = Measurement(wall=1.0, run_start=0.0, run_end=1.0, records=records)
    found = problems(measurement, 2, Layout(1, 1, 2), timed_task(), 1.0)
    assert found == ["job 1 timed no requests: its function must return lab.Timed"]
    untimed = replace(timed_task(), operation="")
    assert problems(measurement, 2, Layout(1, 1, 2), untimed, 1.0) == []


def with_operations(durations: list[list[float]], operation: str = "request") -> Results:
    """A run of one cell whose samples' one job timed ``durations`` (a list a sample)."""
    built = cell("asyncio", Layout(1, 1, 4), [1.0] * len(durations), task="timed", bound="io")
    built.samples = [
        Sample(0.0, 2.0, 0.0, 0.1, 2.0, 1024, records=[timed_record(0, 0.0, 2.0, taken)])
        for taken in durations
    ]
    run = results([built], repeat=len(durations))
    run.tasks = [replace(run.tasks[0], operation=operation)]
    return run


@given(st.lists(DURATIONS, min_size=1, max_size=3))
def test_latencies_are_the_percentiles_of_every_operation_of_every_run(
    durations: list[list[float]],
) -> None:
    found = analyse(with_operations(durations)).cells[0].figures
    assert found is not None
    every = sorted(t for taken in durations for t in taken)
    assert found.latencies == tuple(percentile(every, p) for p in (0.5, 0.9, 0.99, 1.0))
    assert found.latencies[-1] == every[-1]
    assert list(found.latencies) == sorted(found.latencies)
    rates = sorted(len(taken) / 2.0 for taken in durations)
    assert found.operations_per_second is not None
    assert math.isclose(found.operations_per_second, rates[len(rates) // 2]) or len(rates) % 2 == 0


def test_jobs_that_timed_nothing_have_no_latency_or_rate() -> None:
    found = analyse(results([cell("threads", Layout(1, 2, 2), [1.0, 1.1])])).cells[0].figures
    assert found is not None and found.latencies == () and found.operations_per_second is None


def test_the_tables_name_the_operation_and_show_its_latency() -> None:
    run = with_operations([[0.0212, 0.0215], [0.0000172, 0.03]])
    table = render_task(analyse(run), "timed", "simple", 100)
    assert "request p50 ms" in table and "requests/s" in table and "wake-up" not in table
    wide = render_task(analyse(run), "timed", "simple", None, wide=True)
    assert all(header in wide for header in ("p90", "p99", "max"))
    assert "30.0" in wide and "1.00" in wide  # the max, and 2 requests / 2 s
    run.settings["kind"] = "sweep"
    sweep = render_sweep(analyse(run), "simple", None, wide=True)
    assert "request p50 ms" in sweep and "wake-up p50 ms" not in sweep
    assert "how long each request took" in sweep
    assert "only asyncio was measured at 4 waiting jobs" in sweep
    header, row = (line.split(",") for line in to_csv(run).splitlines())
    shown = dict(zip(header, row, strict=True))
    assert [shown[f"operation_{p}_s"] for p in ("p50", "p90", "p99", "max")] == [
        "0.0212", "0.03", "0.03", "0.03"
    ]  # fmt: skip
    assert shown["operation"] == "request" and shown["operations_per_second"] == "1.0"
    assert shown["session"] == shown["session_cpu_s"] == ""


def test_a_run_saved_before_records_timed_operations_still_loads() -> None:
    data = with_operations([[0.5]]).to_data()
    data["version"] = 2  # a row of fields a job, and no operations yet
    data["record_fields"] = fields = RECORD_FIELDS[:-1]
    for sample in data["cells"][0]["samples"]:
        found = Records.from_data(sample["records"])
        sample["records"] = [[getattr(r, name) for name in fields] for r in found]
    del data["tasks"][0]["operation"]
    loaded = Results.from_data(data, "old.json")
    assert loaded.cells[0].samples[0].records[0].operations is None
    assert loaded.tasks[0].operation == ""
    again = Results.from_data(json.loads(with_operations([[0.5]]).to_json()), "new.json")
    assert again.cells[0].samples[0].records[0].operations == [0.5]
