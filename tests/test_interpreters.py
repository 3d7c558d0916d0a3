"""Interpreters as a dimension: ``--python``, an environment per interpreter, the GIL per cell,
the same work on every interpreter, and comparisons across interpreters."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest
from conftest import LabProcess
from lab_builders import cell, results
from test_python_versions import built_free_threaded

from lab.boundary.requests import portable_sys_path
from lab.cli import main
from lab.distributions import installed
from lab.envs import interpreters
from lab.envs.environments import EnvironmentSetupError, reason, run_uv, source
from lab.report.verdict import verdict_rows
from lab.results.analysis import analyse
from lab.results.comparison import compare_runs
from lab.results.journal import load
from lab.results.status import Kind
from lab.runner import Layout

RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"
HEALTHY = (Kind.OK, Kind.UNSTABLE)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("3.99", "no Python '3.99' on this machine"),
        ("3.11,,3.12", "--python takes SPEC[,SPEC...] with no empty SPEC"),
        (f"{RUNNING},{RUNNING}", "--python names an interpreter twice"),
        (f"{RUNNING}+gil", "+gil is for a free-threaded build"),
    ],
)
def test_an_interpreter_that_cannot_be_had_is_one_line_before_anything_runs(
    spec: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["matrix", "--python", spec, "--tasks", "io", "--fast"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lab: error: ") and message in err and err.count("\n") == 1


def test_the_running_interpreter_needs_no_environment() -> None:
    found = interpreters.find(RUNNING)
    assert found.label == RUNNING
    assert found.version == ".".join(map(str, sys.version_info[:3]))
    assert found.gil is None


def test_an_environment_installs_the_lab_from_where_it_was_installed() -> None:
    lab = installed("concurrency-lab")
    wanted = source(lab, "[trio]")
    assert wanted[-1].endswith("[trio]")
    if lab.read_text("direct_url.json"):  # installed from this checkout (make test does)
        assert wanted == ["-e", f"{Path(__file__).resolve().parent.parent}[trio]"]


@pytest.mark.timeout(1200)
def test_one_run_on_the_gil_build_and_the_free_threaded_one_with_and_without_the_gil(
    tmp_path: Path, lab_process: LabProcess
) -> None:
    free = built_free_threaded()
    if free is None:
        pytest.skip("no free-threaded CPython built here: make pythons builds one")
    specs = f"{RUNNING},{free},{free}+gil"
    result = lab_process.run(
        "matrix", "--python", specs, "--tasks", "cpu,io", "--runners", "threads",
        "--job-time", "0.05", "--sleep", "0.05", "--workers", "2", "--jobs", "2",
        "--fast", "-q", "--json", str(tmp_path / "run.json"), "--csv", str(tmp_path / "run.csv"),
        timeout=1100,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    run = load(tmp_path / "run.json")
    assert run.interpreter_labels == [RUNNING, free, f"{free}+gil"]
    assert [i["gil"] for i in run.interpreters] == [None, "0", "1"]
    cpu = [c for c in run.cells if c.task == "cpu"]
    assert len({c.size for c in cpu}) == 1  # calibrated once, on the reference
    assert f"(calibrated to 0.05 s a job on {RUNNING})" in result.stdout
    measured = {
        label: {s.gil_enabled for c in run.cells if c.interpreter == label for s in c.samples}
        for label in run.interpreter_labels
    }
    assert measured == {RUNNING: {True}, free: {False}, f"{free}+gil": {True}}
    analysis = analyse(run)
    assert all(a.status.kind in HEALTHY for a in analysis.cells), result.stdout
    reference = next(
        a for a in analysis.cells if a.cell.task == "cpu" and a.cell.runner == "single"
    )
    assert reference.figures is not None and reference.figures.vs_reference == 1.0
    assert "vs ref" in result.stdout
    questions = [question for question, _ in verdict_rows(analysis)]  # wrapped when printed
    assert f"threads on CPU-bound work on {free}" in questions
    assert "fastest way to run cpu here" in result.stdout
    assert "note: the GIL was not as expected" not in result.stdout
    rows = list(csv.DictReader(io.StringIO((tmp_path / "run.csv").read_text())))
    assert {(r["python"], r["gil"]) for r in rows if r["task"] == "cpu"} == {
        (RUNNING, "on"),
        (free, "off"),
        (f"{free}+gil", "on"),
    }
    assert lab_process.leftovers() == []


def test_runs_on_one_interpreter_each_compare_across_interpreters() -> None:
    before = results([cell("threads", Layout(threads=2), [1.0, 1.0])])
    after = results([cell("threads", Layout(threads=2), [0.5, 0.5])])
    before.interpreters = [{"label": "3.13", "description": "CPython 3.13.15", "gil": None}]
    after.interpreters = [{"label": "3.13t", "description": "CPython 3.13.15t", "gil": "0"}]
    for c in before.cells:
        c.interpreter = "3.13"
    for c in after.cells:
        c.interpreter = "3.13t"
    found = compare_runs(before, "a.json", after, "b.json")
    assert [m.ratio for m in found.matches] == [0.5]
    assert "the runs differ in interpreters: 3.13 in a.json, 3.13t in b.json" in found.notes
    both = results([*before.cells, *after.cells])
    both.interpreters = [*before.interpreters, *after.interpreters]
    itself = compare_runs(both, "a.json", both, "b.json")
    assert len(itself.matches) == 2 and itself.different == []  # never one against the other


def test_a_failed_install_names_the_package_and_the_interpreter(tmp_path: Path) -> None:
    """uv really fails to build a package, and the one line says which, where and why."""
    broken = tmp_path / "lab-broken"
    broken.mkdir()
    (broken / "setup.py").write_text(
        "raise SystemExit('lab-broken does not build on this Python')\n"
    )
    running = interpreters.running()
    uv = interpreters.uv_binary()
    run_uv(running, [uv, "venv", "--quiet", "--python", sys.executable, str(tmp_path / "env")])
    python = str(tmp_path / "env" / "bin" / "python")
    with pytest.raises(EnvironmentSetupError) as caught:
        run_uv(running, [uv, "pip", "install", "--python", python, str(broken)], str(broken))
    assert str(caught.value) == (
        f"could not install {broken} for Python {running.label}:"
        " lab-broken does not build on this Python"
    )


def test_uv_s_reason_is_the_line_that_says_why() -> None:
    assert reason("error: Failed to build `uvloop==0.21.0`\n  Caused by: no compiler") == (
        "Caused by: no compiler"
    )
    assert reason("error: The build backend returned an error\nhint: try again") == (
        "error: The build backend returned an error"
    )


def test_a_gil_build_s_workers_never_get_python_gil(monkeypatch: pytest.MonkeyPatch) -> None:
    """A build with the GIL refuses to start with PYTHON_GIL=0 in its environment."""
    monkeypatch.setenv("PYTHON_GIL", "0")
    gil_build = interpreters.Interpreter("3.13", "/x/python3", "3.13.15", False, None, "CPython")
    free = interpreters.Interpreter("3.13t", "/x/python3", "3.13.15", True, "1", "CPython")
    environ = gil_build.process_environ()
    assert environ is not None and "PYTHON_GIL" not in environ
    environ = free.process_environ()
    assert environ is not None and environ["PYTHON_GIL"] == "1"


def test_no_folder_of_installed_packages_reaches_another_interpreter(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    user_site = tmp_path / ".local" / "lib" / "python3.11" / "site-packages"
    plugins = tmp_path / "my-plugins"
    monkeypatch.setattr(sys, "path", [str(plugins), str(user_site), *sys.path])
    found = portable_sys_path()
    assert str(plugins) in found
    assert not any("site-packages" in Path(p).parts for p in found)


def test_a_run_saved_before_interpreters_were_recorded_still_loads(tmp_path: Path) -> None:
    run = results([cell("threads", Layout(threads=2), [0.5, 0.5])])
    data = run.to_data()
    del data["interpreters"]
    for saved in data["cells"]:
        del saved["interpreter"]
    (tmp_path / "old.json").write_text(json.dumps(data))
    assert load(tmp_path / "old.json").interpreter_labels == [""]


def test_compare_says_when_one_label_names_another_interpreter() -> None:
    before = results([cell("threads", Layout(threads=2), [1.0, 1.0])])
    after = results([cell("threads", Layout(threads=2), [1.0, 1.0])])
    before.interpreters = [{"label": "3.13t", "description": "CPython 3.13.15", "gil": "0"}]
    after.interpreters = [{"label": "3.13t", "description": "CPython 3.14.0", "gil": "0"}]
    notes = compare_runs(before, "a.json", after, "b.json").notes
    assert "interpreter 3.13t is CPython 3.13.15 in a.json, CPython 3.14.0 in b.json" in notes
