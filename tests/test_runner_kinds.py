"""What the host knows of a runner is the kind it declares: a third party's processes x threads
runner and event loop get the sweep's spread, a verdict row and a place in the tables, like the
built-in ones, and ``main(argv, plugins)`` hands plugin objects to the cells' workers."""

from __future__ import annotations

from pathlib import Path

import lab_third_party
import pytest
from conftest import LabProcess

from lab.cli import main
from lab.errors import UsageError
from lab.host.manager import PluginSelection, plugin_reference
from lab.host.registry import load_catalog
from lab.plan import sweep
from lab.plan.profiles import in_table_order
from lab.results.analysis import analyse
from lab.results.journal import load
from lab.results.status import Kind
from lab.runner import EVENT_LOOP, INLINE, KINDS, PROCESSES_THREADS

HEALTHY = (Kind.OK, Kind.UNSTABLE)


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog(PluginSelection(modules=("lab_third_party",)))[0]


def test_every_builtin_runner_declares_a_known_kind(catalog) -> None:  # type: ignore[no-untyped-def]
    builtins = [r for r in catalog.runners.items.values() if r.name not in ("grid", "my-loop")]
    assert {r.kind for r in builtins} == set(KINDS)
    assert in_table_order(builtins)[0].kind == INLINE


def test_a_third_party_processes_threads_runner_is_spread_over_the_cpus(catalog) -> None:  # type: ignore[no-untyped-def]
    grid = catalog.runners.get("grid")
    assert grid.kind == PROCESSES_THREADS
    cells = sweep.SweepPlan(catalog.tasks.get("io"), [grid], [1, 10, 1000], 0.1, cpus=2).cells()
    assert [c.workers for c in cells] == ["1x1", "2x5", "2x500"]
    assert "grid" in sweep.default_runners(catalog)
    assert "my-loop" in sweep.default_runners(catalog)


def test_a_third_party_sweep_and_matrix_get_every_feature(
    tmp_path: Path, lab_process: LabProcess
) -> None:
    swept = lab_process.run(
        "sweep", "-p", "lab_third_party", "--runners", "grid,my-loop", "--levels", "1,4",
        "--size", "0.05", "--repeat", "1", "-q", "--json", str(tmp_path / "sweep.json"),
    )  # fmt: skip
    assert swept.returncode == 0, swept.stderr
    cells = {(c.runner, c.jobs): c for c in load(tmp_path / "sweep.json").cells}
    assert cells["grid", 4].workers == "2x2"
    assert cells["grid", 4].kind == PROCESSES_THREADS
    assert cells["my-loop", 4].kind == EVENT_LOOP
    measured = lab_process.run(
        "matrix", "-p", "lab_third_party", "--runners", "grid,my-loop", "--tasks", "io",
        "--sleep", "0.05", "--workers", "2x2", "--jobs", "4", "--fast", "-q",
        "--json", str(tmp_path / "matrix.json"),
    )  # fmt: skip
    assert measured.returncode == 0, measured.stderr
    analysis = analyse(load(tmp_path / "matrix.json"))
    assert [a.cell.runner for a in analysis.cells] == ["single", "grid", "my-loop"]
    assert all(a.status.kind in HEALTHY for a in analysis.cells)
    out = measured.stdout
    assert "threads inside processes on IO-bound work" in out
    assert "with 2 processes x 2 threads" in out
    assert "an event loop on IO-bound work" in out
    assert "tasks on my-loop in one thread" in out
    assert lab_process.leftovers() == []


@pytest.mark.parametrize(
    ("plugin", "runner"), [(lab_third_party, "my-loop"), (lab_third_party.GRID_ONLY, "grid")]
)
def test_plugin_objects_given_to_main_reach_the_workers(
    plugin: object, runner: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_LOCK", str(tmp_path / "lab.lock"))
    args = ["matrix", "--runners", runner, "--tasks", "io", "--sleep", "0.02", "--fast"]
    args += ["--jobs", "2", "--workers", "2", "-q", "--json", str(tmp_path / "run.json")]
    assert main(args, plugins=[plugin]) == 0
    cells = load(tmp_path / "run.json").cells
    assert [(c.runner, c.failure) for c in cells] == [("single", None), (runner, None)]
    assert all(len(c.samples) == 1 for c in cells)


def test_a_plugin_object_no_worker_can_import_is_refused() -> None:
    assert plugin_reference(lab_third_party) == "lab_third_party"
    assert plugin_reference(lab_third_party.GridRunner) == "lab_third_party:GridRunner"
    assert plugin_reference(lab_third_party.GRID_ONLY) == "lab_third_party:GRID_ONLY"
    with pytest.raises(UsageError, match="cannot reach the cells' worker processes"):
        plugin_reference(object())


def test_runner_options_reach_the_runner_and_bad_ones_are_refused(
    lab_process: LabProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lab.cli import main
    from lab.results.journal import load

    base = ["matrix", "-p", "lab_test_plugins", "--runners", "optioned", "--tasks", "io"]
    for option, message in [
        ("optioned.label=no way", "--runner-option for optioned: label must be a word"),
        ("optioned.colour=red", "runner 'optioned' has no option 'colour'; its options: label,"),
        ("optioned=red", "--runner-option takes RUNNER.KEY=VALUE, not 'optioned=red'"),
    ]:
        assert main([*base, "--runner-option", option]) == 2
        assert message in capsys.readouterr().err
    path = tmp_path / "r.json"
    result = lab_process.run(
        *base, "--runner-option", "optioned.label=blue", "--fast", "--sleep", "0.01",
        "--jobs", "2", "-q", "--json", str(path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    cell = next(c for c in load(path).cells if c.runner == "optioned")
    assert {r.thread for s in cell.samples for r in s.records} == {"opt-blue"}
