"""Shared fixtures: the loaded catalog, and running the ``lab`` command in a subprocess that is
always reaped, with a check that it left no process behind."""

from __future__ import annotations

import contextlib
import os
import re
import resource
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from lab.host.registry import Catalog, load_catalog

SUPPORT = Path(__file__).parent / "support"
MARKER_ENV = "LAB_TEST_MARKER"
FAULTS_DOC = Path(__file__).parent.parent / "docs" / "faults.md"


def fault_tests() -> set[str]:
    """The tests docs/faults.md names: the fault suite (``pytest -m faults``)."""
    return set(re.findall(r"`(test_\w+)`", FAULTS_DOC.read_text(encoding="utf-8")))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests docs/faults.md names, so that the document is the suite's index."""
    named = fault_tests()
    for item in items:
        if getattr(item, "originalname", item.name) in named:
            item.add_marker(pytest.mark.faults)


def pytest_configure(config: pytest.Config) -> None:
    """A suite started in the background by a non-interactive shell inherits SIGINT ignored,
    and so would every lab it starts, which then could not be interrupted as the Ctrl-C tests
    do: give the suite (and so its children) the default handling."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


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

        return subprocess.Popen(
            [*prefix, sys.executable, "-m", "lab", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(),
            start_new_session=True,
            preexec_fn=limit if file_size_limit is not None else None,
        )

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

    def left_files(self) -> list[str]:
        """What the lab left in its temporary folder."""
        return sorted(p.name for p in self.tmp.iterdir())

    def leftovers(self) -> list[psutil.Process]:
        left = processes_marked(self.marker)
        for process in left:
            with contextlib.suppress(psutil.Error):
                process.kill()
        return left


@pytest.fixture
def lab_process(tmp_path: Path) -> LabProcess:
    return LabProcess(tmp_path)


def pip_install_target(source: Path, target: Path) -> Path:
    """pip-install the package at ``source`` (without its dependencies) into ``target``."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--target", str(target), str(source)],
        check=True, timeout=300, capture_output=True,
    )  # fmt: skip
    return target
