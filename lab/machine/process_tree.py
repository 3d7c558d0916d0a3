"""A process and its descendants, through psutil: CPU time, memory, and killing the lot."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable


#: Seconds to wait for killed processes to go.
KILL_WAIT = 5.0


def tree(root: psutil.Process) -> list[psutil.Process]:
    """``root`` and every living descendant."""
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


@dataclass(frozen=True)
class CpuReading:
    """CPU seconds used so far, and how far they may be off: the kernel counts other
    processes' user and system time in clock ticks, so each adds up to two ticks of rounding.
    ``apart`` is the CPU of the processes kept apart (a task's server), not in ``seconds``."""

    seconds: float
    resolution: float
    apart: float = 0.0
    #: Each thread's user + system CPU, by (pid, native thread id), to the clock tick
    #: (:attr:`tick` each count), for every process of the tree.
    by_thread: dict[tuple[int, int], float] = field(default_factory=dict)
    tick: float = 0.01

    def __sub__(self, earlier: CpuReading) -> CpuReading:
        """The CPU used between two readings: each count is cut to whole ticks both times, so
        the difference is off by less than the larger reading's resolution. Each thread's
        CPU is kept for the threads present at both readings (not one that ended and another
        that took its number, which would show less CPU than before)."""
        return CpuReading(
            self.seconds - earlier.seconds,
            max(self.resolution, earlier.resolution),
            self.apart - earlier.apart,
            {
                thread: used - earlier.by_thread[thread]
                for thread, used in self.by_thread.items()
                if thread in earlier.by_thread and used >= earlier.by_thread[thread]
            },
            max(self.tick, earlier.tick),
        )


def clock_tick() -> float:
    """Seconds per clock tick, the unit of other processes' CPU times."""
    try:
        return 1.0 / os.sysconf("SC_CLK_TCK")
    except (AttributeError, ValueError, OSError):
        return 0.01


def tree_cpu(before: bool = True, apart: Collection[int] = ()) -> CpuReading:
    """User + system CPU of this process (to the nanosecond, every thread), of its waited-for
    children and of its living descendants (to the clock tick); the processes of ``apart``
    and their descendants are counted on their own, as the reading's ``apart``.

    Reading the descendants walks ``/proc`` and costs this process CPU time itself, so that
    walk is kept outside the window being measured: done first when ``before`` the window,
    last after it.
    """
    if before:
        others = _others_cpu(apart)
        return CpuReading(time.process_time() + others.seconds, *_rest(others))
    own = time.process_time()
    others = _others_cpu(apart)
    return CpuReading(own + others.seconds, *_rest(others))


def _rest(others: CpuReading) -> tuple[float, float, dict[tuple[int, int], float], float]:
    return others.resolution, others.apart, others.by_thread, others.tick


def _others_cpu(apart: Collection[int]) -> CpuReading:
    """The CPU of this process's waited-for children and living descendants, those of
    ``apart`` (and theirs) on their own."""
    tick = clock_tick()
    resolution = time.get_clock_info("process_time").resolution
    own = os.times()
    seconds = own.children_user + own.children_system
    if seconds:
        resolution += 2 * tick
    kept_apart = _with_descendants(apart)
    apart_seconds = 0.0
    by_thread: dict[tuple[int, int], float] = {}
    processes = tree(psutil.Process())
    for process in processes[1:]:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            used = times.user + times.system + times.children_user + times.children_system
            if process.pid in kept_apart:
                apart_seconds += used
            else:
                seconds += used
                resolution += 2 * tick
    for process in processes:
        if process.pid not in kept_apart:
            with contextlib.suppress(psutil.Error):
                for thread in process.threads():
                    by_thread[process.pid, thread.id] = thread.user_time + thread.system_time
    return CpuReading(seconds, resolution, apart_seconds, by_thread, tick)


def _with_descendants(pids: Collection[int]) -> set[int]:
    found = set(pids)
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            found.update(child.pid for child in psutil.Process(pid).children(recursive=True))
    return found


def memory_by_process(processes: list[psutil.Process]) -> dict[int, int]:
    """Each process's memory: its PSS (shared pages counted once, proportionally) where the
    OS reports it, else its RSS."""
    pss = memory_metric() == PSS
    found = {}
    for process in processes:
        with contextlib.suppress(psutil.Error):
            info = process.memory_full_info() if pss else process.memory_info()
            found[process.pid] = getattr(info, "pss", info.rss)
    return found


PSS = "PSS"
RSS = "RSS"


@functools.cache
def memory_metric() -> str:
    """What :func:`memory_by_process` reads here: ``"PSS"`` on Linux, ``"RSS"`` elsewhere."""
    try:
        return PSS if hasattr(psutil.Process().memory_full_info(), "pss") else RSS
    except psutil.Error:
        return RSS


def memory_resolution() -> int:
    """The smallest step of :func:`memory_metric` in bytes: Linux reports PSS in KiB; RSS
    moves by pages."""
    if memory_metric() == PSS:
        return 1024
    try:
        return int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return 4096


def kill_tree(group_id: int, processes: Iterable[psutil.Process]) -> None:
    """SIGKILL the process group ``group_id`` and ``processes`` (psutil skips any whose pid was
    reused), then wait until none of them runs. A zombie counts as gone: it runs nothing, and
    reaping an orphan is its new parent's business."""
    victims = list(processes)
    if hasattr(os, "killpg"):
        with contextlib.suppress(OSError):
            os.killpg(group_id, signal.SIGKILL)
    for process in victims:
        with contextlib.suppress(psutil.Error):
            process.kill()
    deadline = time.monotonic() + KILL_WAIT
    while victims and time.monotonic() < deadline:
        victims = [p for p in victims if is_running(p)]
        if victims:
            time.sleep(0.005)


def is_running(process: psutil.Process) -> bool:
    """Whether ``process`` still runs: alive, the same process, and not a zombie."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
