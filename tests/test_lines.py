"""A results file read a cell a line (lab.results.lines) gives what the whole document gives,
and a damaged line is refused in the same words, naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lab_builders import cell, results

from lab.jobs import JobRecord
from lab.results.journal import _open, load
from lab.results.lines import read_lines
from lab.results.model import BadResultsFile, Results
from lab.runner import Layout

NUMBERS = (
    st.integers(-(10**25), 10**25)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0, 2**63, -(2**63) - 1, 2**64, 10**19, 10**30 - 1])
)


@st.composite
def runs(draw: st.DrawFn) -> Results:
    """A few cells whose records hold numbers of every size and strings of digits."""
    cells = []
    for number in range(draw(st.integers(1, 4))):
        jobs = draw(st.integers(1, 4))
        found = cell("threads", Layout(threads=2), [0.1, 0.2], jobs=jobs)
        for s in found.samples:
            s.records = [  # type: ignore[assignment]
                JobRecord(
                    index=i,
                    pid=draw(st.integers(-(10**25), 10**25)),
                    process=draw(st.sampled_from(["Worker-0", "1234567890123456789012"])),
                    thread="MainThread",
                    thread_id=draw(st.integers(0, 2**70)),
                    start=draw(NUMBERS),
                    end=draw(NUMBERS),
                    cpu=draw(st.none() | NUMBERS),
                    result=draw(st.none() | st.integers() | st.text(max_size=5)),
                    error=draw(st.none() | st.text(max_size=5)),
                    operations=draw(st.none() | st.lists(st.floats(0, 1), max_size=3)),
                )
                for i in range(jobs)
            ]
            s.__post_init__()
        found.workers = str(number)
        cells.append(found)
    return results(cells)


def whole(text: str) -> Results:
    """The document read whole, as the lab read every file before."""
    return Results.from_data(json.loads(text), "run.json")


def by_lines(path: Path) -> Results | None:
    with _open(path, None) as file:
        return read_lines(iter(file), str(path))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs())
def test_a_file_read_a_cell_a_line_is_the_file_read_whole(
    tmp_path_factory: pytest.TempPathFactory, run: Results
) -> None:
    path = tmp_path_factory.mktemp("lines") / "run.json"
    text = run.to_json()
    path.write_text(text)
    found = by_lines(path)
    assert found is not None
    assert found == whole(text) == run
    assert found.to_json() == text


def test_a_file_laid_out_otherwise_is_read_whole(tmp_path: Path) -> None:
    run = results([cell("single", Layout(), [0.1, 0.2])])
    path = tmp_path / "run.json"
    path.write_text(json.dumps(run.to_data()))
    assert by_lines(path) is None
    assert load(path) == run


def _damaged(tmp_path: Path, change: str, into: str) -> Path:
    run = results([cell("single", Layout(), [0.1, 0.2]), cell("threads", Layout(2), [0.1, 0.2])])
    text = run.to_json()
    lines = text.splitlines()
    assert change in lines[-3]  # the second cell's line
    lines[-3] = lines[-3].replace(change, into, 1)
    path = tmp_path / "run.json"
    path.write_text("\n".join(lines))
    return path


@pytest.mark.parametrize(
    ("change", "into", "said"),
    [
        ('"wall":0.2', '"wall":"slow"', "cells[1].samples[1].wall must be number"),
        ('"wall":0.2', '"wall":1e999', "cells[1].samples[1].wall is past the largest figure"),
        ('"pid":100', '"pid":[100.5]', "cells[1].samples[0].records.pid[0] must be integer"),
        ('"pid":100', '"pid":[1' + "0" * 30 + "]", "records.pid[0] is past the largest"),
        ('"start":0.0', '"start":[-1e999]', "records.start[0] is past the largest"),
        ('"pid":100', '"pid":[100,101]', "cell 1: records.pid has 2 values for 1 jobs"),
        ('"wall":0.2', '"wall":NaN', "NaN is not a figure a results file holds"),
    ],
)
def test_a_damaged_line_is_refused_naming_the_field(
    tmp_path: Path, change: str, into: str, said: str
) -> None:
    path = _damaged(tmp_path, change, into)
    assert by_lines(path) is None
    with pytest.raises(BadResultsFile) as refused:
        load(path)
    assert said in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_whole_number_past_64_bits_is_read_exactly(tmp_path: Path) -> None:
    path = _damaged(tmp_path, '"pid":100', '"pid":[1' + "0" * 20 + "]")
    found = by_lines(path)
    assert found is not None
    assert found.cells[1].samples[0].records.column("pid") == [10**20]
    assert found == load(path)
