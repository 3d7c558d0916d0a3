"""A run's records kept by column (:mod:`lab.records`): the same records back from the
file form, the figures the analysis takes from the columns equal to those from the records."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lab_builders import cell, results

from lab.cli import main
from lab.jobs import JobRecord
from lab.records import Records, Shared
from lab.results.analysis import most_at_once
from lab.results.model import span
from lab.runner import Layout

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
names = st.sampled_from(["MainProcess", "Worker-1", "Worker-2"])


@st.composite
def records(draw: st.DrawFn) -> list[JobRecord]:
    count = draw(st.integers(0, 12))
    hosts = draw(st.lists(st.sampled_from(["", "a", "b"]), min_size=1, max_size=2))
    found = []
    for index in range(count):
        start = draw(finite)
        found.append(
            JobRecord(
                index=index,
                pid=draw(st.sampled_from([10, 11])),
                process=draw(names),
                thread=draw(st.sampled_from(["MainThread", "Thread-1"])),
                thread_id=draw(st.integers(0, 2**64 - 1)),
                start=start,
                end=start + draw(st.floats(0, 10)),
                cpu=draw(st.none() | st.floats(0, 10)),
                result=draw(st.none() | st.integers() | st.text(max_size=5) | st.just([1, 2])),
                error=draw(st.none() | st.text(max_size=5)),
                host=draw(st.sampled_from(hosts)),
                clock_offset=draw(st.sampled_from([0.0, 1.5])),
                operations=draw(st.none() | st.lists(st.floats(0, 1), max_size=3)),
            )
        )
    return found


@given(records())
def test_records_come_back_from_their_file_form_as_they_were(found: list[JobRecord]) -> None:
    kept = Records.of(found)
    assert list(kept) == found and len(kept) == len(found)
    assert [kept[i] for i in range(len(found))] == found
    again = Records.from_data(json.loads(json.dumps(kept.to_data())))
    assert list(again) == found


@given(records())
def test_the_figures_from_the_columns_are_those_from_the_records(found: list[JobRecord]) -> None:
    kept = Records.of(found)
    assert kept.durations() == [r.end - r.start for r in found]
    cpus = [r.cpu for r in found]
    total = kept.total("cpu")
    if None in cpus:
        assert total is None
    else:
        assert total == pytest.approx(math.fsum(c for c in cpus if c is not None))
    assert most_at_once(kept) == most_at_once_by_events(found)
    if found:
        shift = len({r.host for r in found}) > 1
        ends = [r.end + (r.clock_offset if shift else 0.0) for r in found]
        starts = [r.start + (r.clock_offset if shift else 0.0) for r in found]
        assert span(kept) == max(ends) - min(starts)


def most_at_once_by_events(found: list[JobRecord]) -> int:
    """The most jobs at one instant, by sorting every start and end (an end first at a tie)."""
    shift = len({r.host for r in found}) > 1
    events = sorted(
        (time + (r.clock_offset if shift else 0.0), step)
        for r in found
        for time, step in ((r.start, 1), (r.end, -1))
    )
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return max(most, 1) if found else 0


def test_a_field_every_job_shares_is_written_once_and_an_unused_one_not_at_all() -> None:
    found = [JobRecord(i, 7, "Worker-1", "MainThread", 3, i * 1.0, i + 0.5, 0.5) for i in range(3)]
    data = Records.of(found).to_data()
    assert data == {
        "jobs": 3,
        "index": [0, 1, 2],
        "pid": 7,
        "process": "Worker-1",
        "thread": "MainThread",
        "thread_id": 3,
        "start": [0.0, 1.0, 2.0],
        "end": [0.5, 1.5, 2.5],
        "cpu": 0.5,
    }
    assert isinstance(Records.from_data(data).column("pid"), Shared)


def test_a_column_of_another_length_than_the_jobs_is_refused() -> None:
    data = Records.of([JobRecord(0, 1, "p", "t", 1, 0.0, 1.0, None)]).to_data()
    data["start"] = [0.0, 1.0]
    with pytest.raises(ValueError, match=r"records.start has 2 values for 1 jobs"):
        Records.from_data(data)


def test_a_results_file_with_a_short_column_is_one_line_naming_the_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = results([cell("single", Layout(), [0.1, 0.1])]).to_data()
    data["cells"][0]["samples"][1]["records"]["start"] = []
    path = tmp_path / "short.json"
    path.write_text(json.dumps(data))
    assert main(["report", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"lab: error: {path} is damaged: cell 0: records.start has 0 values for 1 jobs\n"
    )
