"""The ``interpreters`` runner: W subinterpreters of one process, a GIL each.

The lab runs on 3.11 here, where the runner says why it is unavailable. On 3.13 it runs in
the lab's own environment for the CPython that ``make pythons`` builds (skipped where there is
none), with the lab itself on 3.13: ``--python 3.13`` from 3.11 would plan its cells as ``n/a``,
since the lab asks a runner whether it is available on the lab's own interpreter only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import LabProcess
from test_python_versions import BUILT

from lab.cli import main
from lab.cli.session import EXIT_FAILED
from lab.envs import interpreters
from lab.envs.environments import prepare
from lab.results.analysis import analyse
from lab.results.journal import load
from lab.results.status import Kind
from lab.task import WARM_UP_CALLS
from lab_plugins.interpreters import EXTRA, InterpretersRunner

HEALTHY = (Kind.OK, Kind.UNSTABLE)


def built_313() -> str | None:
    """The CPython 3.13 with the GIL that ``make pythons`` built, if there is one."""
    found = sorted(
        p for p in BUILT.glob("3.13.*/bin/python3.13") if not p.parents[1].name.endswith("t")
    )
    return str(found[-1]) if found else None


def lab_on_313() -> str:
    """The Python of the lab's environment for 3.13 (made now if need be, as ``--python``
    makes it), which has the backport."""
    python = built_313()
    if python is None:
        pytest.skip("no CPython 3.13 built here: make pythons builds one")
    return prepare(interpreters.find(python), quiet=True).worker_executable


def run_lab(python: str, lab_process: LabProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m lab ARGS`` as ``lab_process`` runs the lab (its own lock, marked, in its own
    session), on ``python``."""
    return subprocess.run(
        [python, "-m", "lab", *args],
        capture_output=True,
        text=True,
        env=lab_process.env(),
        start_new_session=True,
        timeout=300,
    )


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="the lab runs on 3.13+ here")
def test_before_313_it_is_unavailable_and_says_what_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    why = InterpretersRunner().unavailable()
    assert why is not None
    assert "need Python 3.13+" in why and f"pip install '{EXTRA}'" in why
    monkeypatch.setenv("LAB_LOCK", str(tmp_path / "lab.lock"))
    args = ["matrix", "--runners", "interpreters", "--tasks", "io", "--sleep", "0.01"]
    assert main([*args, "--fast", "--wide", "--json", str(tmp_path / "run.json")]) == 0
    [cell] = [c for c in load(tmp_path / "run.json").cells if c.runner == "interpreters"]
    assert cell.not_applicable == why
    assert f"n/a on interpreters: {why}" in " ".join(capsys.readouterr().out.split())


def test_on_313_without_the_backport_it_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    monkeypatch.setattr(sys, "version_info", (3, 13, 0, "final", 0))
    why = InterpretersRunner().unavailable()
    assert why is not None
    assert "interpreters-pep-734" in why and f"pip install '{EXTRA}'" in why


#: Tasks and a runner for the checks on 3.13, loaded with ``-p lab_interpreters_checks``:
#: - ``ready-at`` says when the interpreter that ran the job imported the task's module, and
#:   ``calls`` how many times that interpreter called its function (the warm-up included): a
#:   pool that started an interpreter, or warmed one up, during the run would show it;
#: - ``unimportable``'s function pickles in the cell's process but is in no subinterpreter: it
#:   claims to be ``__main__``'s, as a function defined in a script is;
#: - ``naive-interpreters`` hands jobs to the backport's pool as they are, which then spins
#:   forever on such a job: the lab's timeout must end it.
CHECKS_PLUGIN = """
    import sys
    import time

    from lab import OTHER, ExecutorSession, Layout, Runner, Size, Task, hookimpl
    from lab.timing import clock

    imported_at = clock()
    calls = 0


    def ready_at(seconds):
        time.sleep(seconds)
        return imported_at


    def count_calls(seconds):
        global calls
        calls += 1
        return calls


    def job(seconds):
        return seconds


    job.__module__ = "__main__"
    setattr(sys.modules["__main__"], "job", job)


    class NaiveRunner(Runner):
        name = "naive-interpreters"
        kind = OTHER
        description = "the backport's pool, handed the jobs as they are"

        def unavailable(self):
            return None if sys.version_info >= (3, 13) else "3.13+"

        def layout(self, workers):
            return Layout(threads=workers.total)

        def start(self, layout, context):
            from interpreters_backport.concurrent.futures import InterpreterPoolExecutor

            return ExecutorSession(InterpreterPoolExecutor(layout.threads))


    SIZE = Size(name="seconds", kind=float, default=0.01, soft_limit=1.0)


    @hookimpl
    def lab_register_tasks(register):
        register(Task("ready-at", "import time", "io", {"sync": ready_at}, SIZE))
        register(Task("calls", "calls so far", "io", {"sync": count_calls}, SIZE, warm_up=0.0))
        register(Task("unimportable", "in __main__", "io", {"sync": job}, SIZE))
        register(Task("unimportable-warm", "warmed up", "io", {"sync": job}, SIZE, warm_up=0.0))


    @hookimpl
    def lab_register_runners(register):
        register(NaiveRunner())
"""


@pytest.fixture
def checks_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    folder = tmp_path / "plugin"
    folder.mkdir()
    (folder / "lab_interpreters_checks.py").write_text(textwrap.dedent(CHECKS_PLUGIN))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])
    )
    return "lab_interpreters_checks"


#: Run on 3.13: one cell of ``ready-at`` measured as the conformance kit measures one (whose
#: own ``ready`` task cannot run in a subinterpreter: ``lab.testing`` imports psutil), printing
#: when the run began and when each job's interpreter imported the task's module.
READY_SCRIPT = """
import json
from lab.boundary.requests import WorkerOptions
from lab.host.manager import PluginSelection
from lab.run.rounds import Rounds
from lab.run.supervisor import run_cell

worker = WorkerOptions.of_lab(PluginSelection(modules=("{plugin}",)))
settings = Rounds(repeat=1, timeout=60, start_method="spawn", worker=worker)
outcome = run_cell(settings.spec("ready-at", "interpreters", "2", 8, 0.01), 60)
measurement = outcome.measurement
print(json.dumps([measurement.run_start, [r.result for r in measurement.records]]))
"""


@pytest.mark.timeout(900)  # the first run on 3.13 makes its environment
def test_on_313_every_cell_is_measured_on_interpreters_started_and_warm_before_the_run(
    tmp_path: Path, lab_process: LabProcess, checks_plugin: str
) -> None:
    python = lab_on_313()
    result = run_lab(
        python, lab_process,
        "matrix", "-p", checks_plugin, "--runners", "interpreters", "--tasks", "cpu,io,calls",
        "--count", "2000000", "--sleep", "0.05", "--fast", "--jobs", "8", "--workers", "2",
        "-q", "--json", str(tmp_path / "run.json"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    cells = {
        a.cell.task: a
        for a in analyse(load(tmp_path / "run.json")).cells
        if a.cell.runner == "interpreters"
    }
    assert set(cells) == {"cpu", "io", "calls"}
    assert all(a.status.kind in HEALTHY for a in cells.values()), result.stdout
    for analysed in cells.values():
        [sample] = analysed.cell.samples
        assert sample.gil_enabled is True  # the main interpreter's: each has a GIL of its own
        assert len({r.pid for r in sample.records}) == 1  # one process
        assert len({(r.thread_id, r.thread) for r in sample.records}) == 2  # two workers
        assert {r.thread for r in sample.records} == {"Interpreter-1", "Interpreter-2"}
    [calls] = cells["calls"].cell.samples
    assert all(r.result > WARM_UP_CALLS for r in calls.records)  # warmed up in start
    script = READY_SCRIPT.format(plugin=checks_plugin)
    ready = subprocess.run(
        [python, "-c", script], capture_output=True, text=True, env=lab_process.env(), timeout=120
    )
    assert ready.returncode == 0, ready.stderr
    run_start, imported = json.loads(ready.stdout)
    assert len(set(imported)) == 2  # each interpreter imported the module itself
    assert max(imported) < run_start  # in start: no interpreter was started during the run
    assert lab_process.leftovers() == []


@pytest.mark.timeout(900)
def test_on_313_a_job_no_subinterpreter_can_import_is_an_error_and_a_spinning_pool_is_ended(
    tmp_path: Path, lab_process: LabProcess, checks_plugin: str
) -> None:
    statuses = {}
    # The runner's error must not race a short timeout on a busy machine; the bare pool's
    # spinning must meet one.
    for runners, timeout in (("interpreters", "60"), ("naive-interpreters", "5")):
        result = run_lab(
            lab_on_313(), lab_process,
            "matrix", "-p", checks_plugin, "--runners", runners,
            "--tasks", "unimportable,unimportable-warm", "--fast", "--jobs", "2", "--workers",
            "2", "--timeout", timeout, "-q", "--json", str(tmp_path / f"{runners}.json"),
        )  # fmt: skip
        assert result.returncode == EXIT_FAILED, result.stderr  # cells failed
        saved = analyse(load(tmp_path / f"{runners}.json")).cells
        # The main interpreter's cells are judged on the run with room for a busy machine.
        for a in saved:
            statuses.setdefault((a.cell.runner, a.cell.task), a.status)
    for task in ("unimportable", "unimportable-warm"):
        assert statuses["single", task].kind in HEALTHY  # the main interpreter has it
        error = statuses["interpreters", task]
        assert error.kind is Kind.ERROR, error
        assert "imports the job's function by name" in error.detail
        assert "Can't get attribute 'job' on <module '__main__'" in error.detail
        assert str(statuses["naive-interpreters", task]) == "timeout after 5 s"
    assert lab_process.leftovers() == []
