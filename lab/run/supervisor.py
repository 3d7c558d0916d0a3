"""Running a worker process (one measurement, or a question to its interpreter) that the lab
can always kill.

The worker gets its own session (process group), so a timeout, Ctrl-C or a leak is ended by
killing the group and every descendant seen; its memory is sampled from outside while it runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
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

from lab.boundary.measurement import Measurement
from lab.machine.process_tree import (
    VanishedCpu,
    cpu_by_process,
    kill_tree,
    last_seen_cpu,
    memory_by_process,
    tree,
)
from lab.records import Records
from lab.results import status
from lab.run.reaping import CELL_FOLDER, GUARD, become_subreaper, end_adopted
from lab.runner import ABANDON_TIME
from lab.timing import clock
from lab.worker import ABANDON_NOTE, ABANDON_OFFERED

if TYPE_CHECKING:
    from collections.abc import Collection

    from lab.boundary.requests import CellSpec, RunnersQuestion
    from lab.machine.process_tree import ProcessKey

#: Seconds between two samples of the worker tree's memory (and CPU).
SAMPLE_INTERVAL = 0.1


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
    #: The peak of the tree's processes that ran no job, besides the worker (see
    #: :func:`others_peak`).
    others_peak_memory: int | None = None


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


@dataclass(frozen=True)
class WorkerRun:
    """A worker process as the lab saw it end: its answer (``None`` when it gave none), the
    memory of its tree's processes at each sample, and why it failed, if it did; and each
    process's CPU at its last sample (:func:`~lab.machine.process_tree.cpu_by_process`)."""

    answer: str | None
    samples: MemorySamples = field(default_factory=list)
    failure: status.Status | None = None
    cpu_seen: dict[ProcessKey, float] = field(default_factory=dict)


def run_worker(
    request: CellSpec | RunnersQuestion,
    timeout: float,
    sample_interval: float = SAMPLE_INTERVAL,
    show_output: bool = False,
) -> WorkerRun:
    """Answer ``request`` in a fresh worker process on the interpreter its options name, in a
    session of its own, killing its whole tree after ``timeout`` seconds; its output goes to
    the lab's only with ``show_output`` (a live trace), its errors never."""
    interpreter = request.worker.interpreter
    become_subreaper()
    GUARD.start()
    before = {p.pid for p in psutil.Process().children()}
    try:
        cell_folder = tempfile.TemporaryDirectory(prefix=f"{CELL_FOLDER}{os.getpid()}-")
    except OSError as exc:
        return WorkerRun(
            None, failure=status.error(f"cannot make the cell's folder: {exc.strerror}")
        )
    with cell_folder as folder:
        request_path, answer_path = Path(folder, "request.json"), Path(folder, "answer.json")
        log_path = Path(folder, "worker.log")
        try:
            request_path.write_text(request.to_json())
            log = log_path.open("wb")
        except OSError as exc:
            why = f"cannot write the cell's files in {folder}: {exc.strerror}"
            return WorkerRun(None, failure=status.error(why))
        with log:
            worker = subprocess.Popen(
                # -P: the user's current folder must not shadow the lab's own modules
                [interpreter.worker_executable, "-P", "-m", "lab.worker", str(request_path),
                 str(answer_path)],
                env=interpreter.process_environ(),
                stdin=subprocess.DEVNULL,
                stdout=None if show_output else log,
                stderr=log,
                start_new_session=True,
            )  # fmt: skip
        GUARD.running(worker.pid, folder)
        try:
            samples, cpu_seen, timed_out, note = _watch(
                worker, timeout, sample_interval, Path(folder)
            )
        finally:
            GUARD.idle()
            end_adopted(before)
        if timed_out:
            failure = status.timeout(timeout)
            if note:
                failure = status.Status(failure.kind, f"{failure.detail}; {note}")
            return WorkerRun(None, samples, failure, cpu_seen)
        if worker.returncode < 0:
            why = f"killed by {_signal_name(-worker.returncode)}"
            return WorkerRun(None, samples, status.crashed(why), cpu_seen)
        if not answer_path.exists():
            why = f"the worker exited with code {worker.returncode}{_last_line(log_path)}"
            return WorkerRun(None, samples, status.crashed(why), cpu_seen)
        return WorkerRun(answer_path.read_text(), samples, cpu_seen=cpu_seen)


def run_cell(spec: CellSpec, timeout: float, sample_interval: float = SAMPLE_INTERVAL) -> CellRun:
    """Measure ``spec`` in a worker process on its interpreter, killing its whole tree after
    ``timeout`` seconds."""
    done = run_worker(spec, timeout, sample_interval, show_output=spec.trace)
    peak, _ = peaks(done.samples)
    if done.answer is None:
        return CellRun(None, peak, done.failure)
    try:
        measurement = Measurement.from_json(done.answer)
    except ValueError as exc:
        return CellRun(None, peak, status.error(str(exc)))
    peak, session_peak = peaks(done.samples, measurement.session_pids)
    others = others_peak(done.samples, measurement)
    measurement = counting_vanished(measurement, done.cpu_seen, sample_interval)
    return CellRun(measurement, peak, session_peak_memory=session_peak, others_peak_memory=others)


def others_peak(samples: MemorySamples, measurement: Measurement) -> int | None:
    """The peak memory of the tree's processes that ran none of the jobs, the task's session
    apart: the cell's own process (where a runner's scheduler may live) unless it
    ran jobs itself, and a pool's or an engine's other processes (a raylet, a GCS, nannies, a
    resource tracker). ``None`` when the jobs ran outside the tree, or the records do not say
    where."""
    records = measurement.records
    if measurement.outside_tree or not len(records):
        return None
    columns = Records.of(records)
    pids = columns.column("pid")
    if any(host != measurement.host for host in columns.column("host")):
        return None
    apart = {*pids, *measurement.session_pids}
    return max((sum(b for pid, b in s.items() if pid not in apart) for s in samples), default=0)


def counting_vanished(
    measurement: Measurement, seen: dict[ProcessKey, float], interval: float
) -> Measurement:
    """``measurement`` with the CPU its vanished processes used in the run up to their last
    sample (``seen``, every ``interval`` seconds) added: up to one sampling interval of each
    one's CPU may be missed, and its resolution is widened for that."""
    if not measurement.vanished_cpu or measurement.cpu is None:
        return measurement
    vanished = {
        (int(pid), created): VanishedCpu(before, bool(apart))
        for pid, created, before, apart in measurement.vanished_cpu
    }
    seconds, apart, widened = last_seen_cpu(vanished, seen, interval, measurement.cpu_tick)
    return dataclasses.replace(
        measurement,
        cpu=measurement.cpu + seconds,
        cpu_resolution=(measurement.cpu_resolution or 0.0) + widened,
        session_cpu=None if measurement.session_cpu is None else measurement.session_cpu + apart,
        vanished_cpu=[],
    )


def _watch(
    worker: subprocess.Popen[bytes], timeout: float, interval: float, folder: Path
) -> tuple[MemorySamples, dict[ProcessKey, float], bool, str | None]:
    """Sample the memory and CPU of the worker tree's processes until it exits or the deadline
    passes; always leaves the worker reaped and its tree killed, after letting its session
    abandon its jobs if it offered to. Returns the memory samples, each process's CPU at its
    last sample, whether it timed out, and what the session said as it abandoned them."""
    seen: dict[int, psutil.Process] = {}
    samples: MemorySamples = []
    cpu_seen: dict[ProcessKey, float] = {}
    deadline = clock() + timeout
    exited = _ExitWaiter(worker)
    try:
        root = psutil.Process(worker.pid)
        while True:
            if exited(min(interval, max(deadline - clock(), 0.001))):
                return samples, cpu_seen, False, None
            processes = tree(root)
            seen.update((p.pid, p) for p in processes)
            samples.append(memory_by_process(processes))
            cpu_seen.update(cpu_by_process(processes))
            if clock() >= deadline:
                try:
                    note = _let_abandon(worker, exited, folder)
                finally:
                    kill_tree(worker.pid, [*processes, *seen.values()])
                    worker.wait()
                return samples, cpu_seen, True, note
    finally:
        try:
            if worker.poll() is None:  # Ctrl-C, SIGTERM to the lab, or an error of the lab's
                try:
                    if note := _let_abandon(worker, exited, folder):
                        print(f"lab: the interrupted cell: {note}", file=sys.stderr, flush=True)
                finally:
                    kill_tree(worker.pid, seen.values())
                    worker.wait()
        finally:
            exited.close()
            kill_tree(worker.pid, seen.values())  # whatever the worker leaked


def _let_abandon(worker: subprocess.Popen[bytes], exited: _ExitWaiter, folder: Path) -> str | None:
    """If the worker's session offered to abandon its jobs (they run outside the tree): send
    the worker SIGTERM, wait up to ``ABANDON_TIME`` for it to exit, and return what the session
    said (``None``: nothing to say, or no such session)."""
    if not (folder / ABANDON_OFFERED).exists():
        return None
    with contextlib.suppress(OSError):
        os.kill(worker.pid, signal.SIGTERM)
    if not exited(ABANDON_TIME):
        return (
            f"its runner did not say within {ABANDON_TIME:g} s whether it stopped the jobs it"
            " ran outside the lab's processes: they may still be running"
        )
    try:
        return (folder / ABANDON_NOTE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


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
