"""A cell line read by msgspec's typed structures (lab.results.typed_cells) is the cell the
schema's reader makes of it; what the structures take, the schema takes; what they refuse is
read by the schema's reader, which names what is wrong."""

from __future__ import annotations

import dataclasses
import json
from array import array
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lab_builders import cell, results

from lab.jobs import RECORD_FIELDS, JobRecord
from lab.records import COMPACT_FROM, Records, Shared
from lab.results import lines
from lab.results.model import Cell, Results, cell_from_data, cell_to_data
from lab.results.schema import CELL, compiled
from lab.results.status import timeout
from lab.results.typed_cells import decoder
from lab.runner import Layout

typed = decoder()
if typed is None:  # pragma: no cover - make test's set-up installs msgspec
    pytest.skip(
        "msgspec is not installed: lines are read by the schema alone", allow_module_level=True
    )


def _cells() -> list[dict[str, Any]]:
    """Cells of the forms the lab writes: measured, failed, n/a, distributed, on an
    interpreter, with operations and results, and a large run's compact records."""
    measured = cell("threads", Layout(threads=2), [0.1, 0.2, 0.15], interpreter="3.13t")
    failed = cell("processes", Layout(processes=2), [], failure=timeout(5))
    failed.failed_peak_memory = 12345
    na = cell("interpreters", Layout(threads=2), [], not_applicable="needs 3.13")
    engine = cell("ray", Layout(processes=2), [0.3, 0.31], distributed=True)
    http = cell("asyncio", Layout(tasks=3), [0.2, 0.25], task="http", bound="io")
    for s in http.samples:
        s.records = [  # type: ignore[assignment]
            JobRecord(i, 7, "P", "T", 9, 0.01 * i, 0.01 * i + 0.005, None, i, None, "", 0.0, [0.1])
            for i in range(3)
        ]
        s.__post_init__()
        s.session_cpu, s.session_peak_memory, s.records_memory = 0.02, 3 * 2**20, 4096
    large = cell("uvloop", Layout(tasks=COMPACT_FROM), [1.0], jobs=COMPACT_FROM)
    large.samples[0].records = [  # type: ignore[assignment]
        JobRecord(i, 1, "P", "T", 2, 10.0 + i / 1e6, 10.5 + i / 1e6, 0.0)
        for i in range(COMPACT_FROM)
    ]
    large.samples[0].__post_init__()
    found = [measured, failed, na, engine, http, large]
    return [json.loads(json.dumps(cell_to_data(c))) for c in found]


CELLS = _cells()
fits = compiled(CELL)


def by_schema(data: Any) -> str:
    """The cell the schema's reader makes of ``data``, as :func:`exactly` shows it."""
    fits(data)
    return exactly(cell_from_data(data))


def by_types(body: bytes) -> str | None:
    """The same by the typed structures; ``None`` where they refuse the line."""
    assert typed is not None
    try:
        return exactly(typed(body))
    except ValueError:
        return None


def exactly(found: Cell) -> str:
    """A cell as text, every value with its type (a whole number is not its float), each
    column of records as the reader keeps it (a shared value once, however many jobs)."""

    def shown(value: Any) -> Any:
        if isinstance(value, Records):
            return {n: shown(value.column(n)) for n in RECORD_FIELDS}
        if isinstance(value, Shared):
            return ["shared", shown(value.value), value.length]
        if isinstance(value, range | array):
            return [type(value).__name__, *map(shown, value)]
        if isinstance(value, list | tuple):
            return [shown(v) for v in value]
        if dataclasses.is_dataclass(value):
            return {f.name: shown(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return [type(value).__name__, repr(value)]

    return json.dumps(shown(found))


@pytest.mark.parametrize("data", CELLS, ids=lambda d: d["runner"])
def test_the_cells_the_lab_writes_are_read_in_one_pass_as_the_schema_reads_them(
    data: dict[str, Any],
) -> None:
    assert by_types(json.dumps(data).encode()) == by_schema(data)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.sampled_from([0, -1, 1, 2**63 - 1, 2**63, 1e308, 0.5, "", "x"])
    | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a decoded document, the document's own first."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:6]):
            found += _paths(item, (*path, index))
    return found


def _changed(data: Any, path: tuple[Any, ...], how: str, value: Any) -> Any:
    """``data`` with the value at ``path`` replaced, removed, or given an unknown field."""
    if not path:
        return value if how == "replace" else data
    data = json.loads(json.dumps(data))
    *where, last = path
    parent = data
    for key in where:
        parent = parent[key]
    if how == "replace":
        parent[last] = value
    elif how == "remove":
        del parent[last]
    elif isinstance(parent, dict):
        parent["unknown"] = value
    return data


#: What each place of a cell is changed to: every JSON type, the edges of the bounds.
CHANGES = (
    None, True, False, 0, -1, 1, 2, -1.5, 0.0, -0.0, 1.5, 2**63 - 1, 2**63, -(2**63) - 1, 10**30,
    1e308, "", "x", "error", [], [None], [1], [1.5], ["x"], [[1]], {}, {"x": 1},
    {"from": 1, "ns": [1]},
)  # fmt: skip


@pytest.mark.parametrize("data", CELLS[:-1], ids=lambda d: d["runner"])
def test_every_place_changed_in_every_way_the_structures_take_only_what_the_schema_takes(
    data: dict[str, Any],
) -> None:
    for path in _paths(data):
        changed = [_changed(data, path, "remove", None), _changed(data, path, "add", 1)]
        changed += [_changed(data, path, "replace", value) for value in CHANGES]
        for found in changed:
            took = by_types(json.dumps(found).encode())
            if took is not None:
                assert took == by_schema(found), (path, found)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_what_the_structures_take_the_schema_takes_and_reads_the_same(data: st.DataObject) -> None:
    original = data.draw(st.sampled_from(CELLS[:-1]), "cell")
    path = data.draw(st.sampled_from(_paths(original)), "path")
    how = data.draw(st.sampled_from(["replace", "remove", "add"]), "how")
    changed = _changed(original, path, how, data.draw(JSON, "value"))
    found = by_types(json.dumps(changed).encode())
    if found is not None:
        assert found == by_schema(changed)


def test_a_line_the_structures_refuse_is_read_by_the_schema(tmp_path: Any) -> None:
    """A version 2 file's records (a row a job) and a whole number past 64 bits: forms the
    structures leave to the schema's reader, which reads them."""
    row = json.loads(json.dumps(CELLS[0]))
    row["samples"][0]["records"]["pid"] = 2**70
    assert by_types(json.dumps(row).encode()) is None
    fits(row)
    assert cell_from_data(row).samples[0].records[0].pid == 2**70


def test_without_msgspec_a_file_reads_the_same(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = results([cell_from_data(c) for c in CELLS])
    path = tmp_path / "run.json"
    path.write_text(run.to_json())
    with_types = _read(path)
    monkeypatch.setattr(lines, "decoder", lambda: None)
    assert _read(path) == with_types == run


def _read(path: Any) -> Results | None:
    with path.open("rb") as file:
        return lines.read_lines(iter(file), str(path))
