"""Running one measurement in a fresh worker process that the lab can always kill.

The worker gets its own session (process group), so a timeout, Ctrl-C or a leak is ended by
killing the group and every descendant seen; its memory is sampled from outside while it runs.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

from lab.results import status
from lab.run.guard import CELL_FOLDER, GUARD, become_subreaper, end_adopted
from lab.run.process_tree import kill_tree, memory_by_process, tree
from lab.timing import clock
from lab.worker.protocol import CellSpec, Measurement

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

#: Seconds between two samples of the worker tree's memory.
SAMPLE_INTERVAL = 0.1


@dataclass(frozen=True)
class WorkerPython:
    """The Python a cell's worker runs on, and what its environment needs besides the lab's
    (``PYTHON_GIL`` for a free-threaded build)."""

    executable: str = sys.executable
    environ: Mapping[str, str] = field(default_factory=dict)
    unset: tuple[str, ...] = ()

    def process_environ(self) -> dict[str, str] | None:
        """The worker's environment: the lab's, changed as this Python needs (``None``: the
        lab's as it is)."""
        if not self.environ and not any(name in os.environ for name in self.unset):
            return None
        merged = {k: v for k, v in os.environ.items() if k not in self.unset}
        return {**merged, **self.environ}


@dataclass(frozen=True)
class CellRun:
    """A measurement as the lab saw it: what the worker reported, the tree's peak memory, and
    why it failed (``timeout after …``, ``crashed: …``), if it did. The processes the task's
    session started (its server) are apart: ``session_peak_memory`` is theirs, when it had
    any, and ``peak_memory`` the rest of the tree's."""

    measurement: Measurement | None
    peak_memory: int
    failure: status.Status | None = None
    session_peak_memory: int | None = None


#: The memory of each process of the worker's tree, at each sample: pid -> bytes.
MemorySamples = list[dict[int, int]]


def peaks(samples: MemorySamples, apart: Collection[int] = ()) -> tuple[int, int | None]:
    """The tree's peak memory without the processes of ``apart``, and theirs (``None``
    without any): each the highest of the samples' sums."""
    kept_apart = set(apart)
    peak = max(
        (sum(b for pid, b in s.items() if pid not in kept_apart) for s in samples), default=0
    )
    if not kept_apart:
        return peak, None
    theirs = max((sum(b for pid, b in s.items() if pid in kept_apart) for s in samples), default=0)
    return peak, theirs


def run_cell(
    spec: CellSpec,
    timeout: float,
    sample_interval: float = SAMPLE_INTERVAL,
    python: WorkerPython | None = None,
) -> CellRun:
    """Measure ``spec`` in a worker process on ``python`` (the lab's own by default), killing
    its whole tree after ``timeout`` seconds."""
    python = python or WorkerPython()
    become_subreaper()
    GUARD.start()
    before = {p.pid for p in psutil.Process().children()}
    try:
        cell_folder = tempfile.TemporaryDirectory(prefix=f"{CELL_FOLDER}{os.getpid()}-")
    except OSError as exc:
        return CellRun(None, 0, status.error(f"cannot make the cell's folder: {exc.strerror}"))
    with cell_folder as folder:
        spec_path, result_path = Path(folder, "spec.json"), Path(folder, "result.json")
        log_path = Path(folder, "worker.log")
        try:
            spec_path.write_text(spec.to_json())
            log = log_path.open("wb")
        except OSError as exc:
            return CellRun(
                None, 0, status.error(f"cannot write the cell's files in {folder}: {exc.strerror}")
            )
        with log:
            worker = subprocess.Popen(
                # -P: the user's current folder must not shadow the lab's own modules
                [python.executable, "-P", "-m", "lab.worker", str(spec_path), str(result_path)],
                env=python.process_environ(),
                stdin=subprocess.DEVNULL,
                stdout=None if spec.trace else log,
                stderr=log,
                start_new_session=True,
            )
        GUARD.running(worker.pid, folder)
        try:
            samples, timed_out = _watch(worker, timeout, sample_interval)
        finally:
            GUARD.idle()
            end_adopted(before)
        peak, _ = peaks(samples)
        if timed_out:
            return CellRun(None, peak, status.timeout(timeout))
        if worker.returncode < 0:
            return CellRun(
                None, peak, status.crashed(f"killed by {_signal_name(-worker.returncode)}")
            )
        if not result_path.exists():
            detail = _last_line(log_path)
            return CellRun(
                None,
                peak,
                status.crashed(f"the worker exited with code {worker.returncode}{detail}"),
            )
        try:
            measurement = Measurement.from_json(result_path.read_text())
        except ValueError as exc:
            return CellRun(None, peak, status.error(str(exc)))
        peak, session_peak = peaks(samples, measurement.session_pids)
        return CellRun(measurement, peak, session_peak_memory=session_peak)


def _watch(
    worker: subprocess.Popen[bytes], timeout: float, interval: float
) -> tuple[MemorySamples, bool]:
    """Sample the memory of the worker tree's processes until it exits or the deadline passes;
    always leaves the worker reaped and its tree killed. Returns the samples and whether it
    timed out."""
    seen: dict[int, psutil.Process] = {}
    samples: MemorySamples = []
    deadline = clock() + timeout
    exited = _ExitWaiter(worker)
    try:
        root = psutil.Process(worker.pid)
        while True:
            if exited(min(interval, max(deadline - clock(), 0.001))):
                return samples, False
            processes = tree(root)
            seen.update((p.pid, p) for p in processes)
            samples.append(memory_by_process(processes))
            if clock() >= deadline:
                kill_tree(worker.pid, [*processes, *seen.values()])
                worker.wait()
                return samples, True
    finally:
        exited.close()
        if worker.poll() is None:
            kill_tree(worker.pid, seen.values())
            worker.wait()
        kill_tree(worker.pid, seen.values())  # whatever the worker leaked


class _ExitWaiter:
    """Waits for the worker to exit and reaps it: at once through a pidfd where the system
    has them (Linux), else by polling as ``Popen.wait`` does (up to 50 ms late)."""

    def __init__(self, worker: subprocess.Popen[bytes]) -> None:
        self.worker = worker
        self.fd: int | None = None
        with contextlib.suppress(AttributeError, OSError):
            self.fd = os.pidfd_open(worker.pid)

    def __call__(self, timeout: float) -> bool:
        """Whether the worker exited within ``timeout`` seconds (reaped if so)."""
        if self.fd is not None:
            readable, _, _ = select.select([self.fd], [], [], timeout)
            if not readable:
                return False
        try:
            self.worker.wait(timeout=None if self.fd is not None else timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _last_line(path: Path) -> str:
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return f": {lines[-1].strip()}" if lines else ""
