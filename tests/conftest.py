"""Shared fixtures: the loaded catalog, and running the ``lab`` command in a subprocess that is
always reaped, with a check that it left no process behind; the labs of a module's tests run
side by side (:func:`side_by_side`)."""

from __future__ import annotations

import contextlib
import inspect
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psutil
import pytest
from hypothesis import HealthCheck, settings

from lab.host.registry import Catalog, load_catalog
from lab.report.fit import DEFAULT_WIDTH

# No test asserts a duration: hypothesis's deadline for an example, and its health check of
# slow generation, would on a busy machine (a bootstrap example took 256 ms against 200).
settings.register_profile("lab", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("lab")

SUPPORT = Path(__file__).parent / "support"
MARKER_ENV = "LAB_TEST_MARKER"
FAULTS_DOC = Path(__file__).parent.parent / "docs" / "faults.md"


def fault_tests() -> set[str]:
    """The tests docs/faults.md names: the fault suite (``pytest -m faults``)."""
    return set(re.findall(r"`(test_\w+)`", FAULTS_DOC.read_text(encoding="utf-8")))


#: The modules whose tests take minutes between them (clusters that start, interpreters set up,
#: browsers): collected first, so that pytest-xdist hands them out first and none of them is
#: the last to end, alone, while the other workers have nothing left.
LONG_FIRST = (
    "test_ray_runner.py",
    "test_conformance.py",
    "test_html_browser.py",
    "test_python_versions.py",
    "test_interpreters.py",
    "test_matrix_end_to_end.py",
    "test_dask_runner.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long modules first (:data:`LONG_FIRST`; each module's tests in their order), and
    the tests docs/faults.md names marked, so that the document is the suite's index. The
    conformance kit's checks are marked on the runners a class of the kit says
    (``in_fault_suite``, see ``tests/test_conformance.py``); unmarked, they still run in the
    whole suite."""
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
    named = fault_tests()
    for item in items:
        if getattr(item, "originalname", item.name) in named and getattr(
            getattr(item, "cls", None), "in_fault_suite", True
        ):
            item.add_marker(pytest.mark.faults)


def pytest_configure(config: pytest.Config) -> None:
    """A suite started in the background by a non-interactive shell inherits SIGINT ignored,
    and so would every lab it starts, which then could not be interrupted as the Ctrl-C tests
    do: give the suite (and so its children) the default handling."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # The tests measure nothing, and the suite's processes (pytest-xdist's workers) run side by
    # side: each has a machine lock of its own, in a folder of its own, for the labs it runs
    # in-process (a lab in a subprocess gets its test's own, LabProcess).
    # Output is as wide whatever runs the suite (a terminal, a pipe, a worker of pytest-xdist,
    # which says 80): the width the lab takes for a file or a pipe.
    os.environ["COLUMNS"] = str(DEFAULT_WIDTH)
    folder = Path(tempfile.mkdtemp(prefix="concurrency-lab-tests-"))
    os.environ["LAB_LOCK"] = str(folder / "lab.lock")
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()[0]


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


def processes_marked(marker: str) -> list[psutil.Process]:
    """Running processes whose environment carries ``marker`` (zombies do not run)."""
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            if process.environ().get(MARKER_ENV) == marker:
                found.append(process)
    return found


class LabProcess:
    """Runs ``python -m lab ...`` in its own session with a hard timeout; always reaped."""

    def __init__(self, folder: Path, lock: Path | None = None) -> None:
        self.marker = uuid.uuid4().hex
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.started_file = folder / "hang-started"
        self.lock = lock or folder / "lab.lock"  # its own machine lock: tests measure nothing
        self.tmp = folder / "t"  # its own temporary folder (short: socket paths go in it)
        self.tmp.mkdir(exist_ok=True)
        self.started: list[subprocess.Popen[str]] = []

    def cell_is_hanging(self) -> bool:
        """Whether a ``hang`` job of the test plugins has started."""
        return self.started_file.exists()

    def wait_until_hanging(self, timeout: float = 60) -> None:
        """Wait for a ``hang`` job of the test plugins to start."""
        deadline = time.monotonic() + timeout
        while not self.cell_is_hanging():
            assert time.monotonic() < deadline, "no hang job started"
            time.sleep(0.05)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env[MARKER_ENV] = self.marker
        env["LAB_TEST_STARTED"] = str(self.started_file)
        env["LAB_LOCK"] = str(self.lock)
        env["TMPDIR"] = str(self.tmp)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SUPPORT), env.get("PYTHONPATH")]))
        return env

    def start(
        self, *args: str, file_size_limit: int | None = None, prefix: Sequence[str] = ()
    ) -> subprocess.Popen[str]:
        """Start the lab; ``file_size_limit`` (bytes) makes every write past it fail, as on a
        full disk; ``prefix`` runs it through another command (``unshare ...``)."""

        def limit() -> None:
            if file_size_limit is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

        process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "lab", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(),
            start_new_session=True,
            preexec_fn=limit if file_size_limit is not None else None,
        )
        self.started.append(process)
        return process

    def finish(self, process: subprocess.Popen[str], timeout: float) -> Completed:
        try:
            out, err = process.communicate(timeout=timeout)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return Completed(process.returncode, out, err)

    def run(self, *args: str, timeout: float = 90, **options: Any) -> Completed:
        return self.finish(self.start(*args, **options), timeout)

    def reap(self) -> None:
        """Kill the process group of every lab this one started, and reap the lab, as
        :meth:`finish` does (what left the group is for :meth:`leftovers`)."""
        for process in self.started:
            if process.returncode is None:  # once reaped, its PID may be another's
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def left_files(self) -> list[str]:
        """What the lab left in its temporary folder."""
        return sorted(p.name for p in self.tmp.iterdir())

    def leftovers(self) -> list[psutil.Process]:
        left = processes_marked(self.marker)
        for process in left:
            with contextlib.suppress(psutil.Error):
                process.kill()
        return left


def finish_side_by_side(
    runs: Sequence[tuple[LabProcess, subprocess.Popen[str]]], timeout: float
) -> list[Completed]:
    """Finish labs that were started side by side, all within ``timeout`` seconds; every one
    is reaped, whatever became of the others."""
    deadline = time.monotonic() + timeout
    try:
        return [lab.finish(process, max(deadline - time.monotonic(), 1.0)) for lab, process in runs]
    finally:
        for lab, _ in runs:
            lab.reap()


@pytest.fixture
def lab_process(tmp_path: Path) -> LabProcess:
    return LabProcess(tmp_path)


Test = TypeVar("Test", bound=Callable[..., None])
#: What a test of labs that measure nothing runs (see :func:`side_by_side`): called with a lab
#: of its own, in a folder of its own, and the test's parameters that it names.
Procedure = Callable[..., Any]


def side_by_side(procedure: Procedure) -> Callable[[Test], Test]:
    """Run the lab of the decorated test with ``procedure``, side by side with those of the
    other tests so decorated in its module, when the first of them asks; the test checks what
    the procedure returned, which the ``ran`` fixture gives it. The labs measure nothing, so
    they may share the machine; each keeps its timeouts and is reaped."""

    def decorate(test: Test) -> Test:
        test.side_by_side = procedure  # type: ignore[attr-defined]
        return test

    return decorate


@dataclass
class Ran:
    """What a test's procedure (:func:`side_by_side`) ran: its lab, and what it returned."""

    lab: LabProcess
    outcome: Any


class SideBySide:
    """The procedures of a module's tests decorated with :func:`side_by_side` that this session
    runs: all start at once, each in a thread with a lab of its own, when the first of those
    tests asks, and all have ended before that test goes on, so that nothing of theirs runs
    on into the tests after it (which may measure). A procedure's exception is its own
    test's."""

    def __init__(self, folder: Path, items: Sequence[pytest.Item]) -> None:
        self.folder = folder
        self.items = items
        self.runs: dict[str, tuple[LabProcess, Future[Any]]] | None = None

    def ran(self, item: pytest.Item) -> Ran:
        if self.runs is None:
            self.runs = {}
            with ThreadPoolExecutor(max_workers=len(self.items)) as pool:
                for i, test in enumerate(self.items):
                    lab = LabProcess(self.folder / str(i))
                    procedure: Procedure = test.function.side_by_side  # type: ignore[attr-defined]
                    named = inspect.signature(procedure).parameters
                    params = getattr(getattr(test, "callspec", None), "params", {})
                    given = {k: v for k, v in params.items() if k in named}
                    self.runs[test.nodeid] = (lab, pool.submit(procedure, lab, **given))
        lab, outcome = self.runs[item.nodeid]
        return Ran(lab, outcome.result())

    def reap(self) -> None:
        """Kill and reap whatever the procedures' labs left, once their tests are over."""
        for lab, _ in (self.runs or {}).values():
            lab.reap()
            lab.leftovers()


@pytest.fixture(scope="module")
def side_by_side_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SideBySide]:
    items = [
        item
        for item in request.session.items
        if item.module is request.module  # type: ignore[attr-defined]
        and hasattr(getattr(item, "function", None), "side_by_side")
    ]
    runs = SideBySide(tmp_path_factory.mktemp("side-by-side"), items)
    try:
        yield runs
    finally:
        runs.reap()


@pytest.fixture
def ran(request: pytest.FixtureRequest, side_by_side_runs: SideBySide) -> Ran:
    """What the procedure of this test (:func:`side_by_side`) ran."""
    return side_by_side_runs.ran(request.node)


def pip_install_target(source: Path, target: Path) -> Path:
    """pip-install the package at ``source`` (without its dependencies) into ``target``."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--target", str(target), str(source)],
        check=True, timeout=300, capture_output=True,
    )  # fmt: skip
    return target
