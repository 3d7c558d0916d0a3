"""A process and its descendants, through psutil: CPU time, memory, and killing the lot."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import signal
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping


#: Seconds to wait for killed processes to go.
KILL_WAIT = 5.0

#: A process told from any other: its pid and creation time (the system may give its pid to a
#: new process once it is gone).
ProcessKey = tuple[int, float]


def tree(root: psutil.Process) -> list[psutil.Process]:
    """``root`` and every living descendant."""
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


@dataclass(frozen=True)
class ProcessCpu:
    """One process's CPU at a reading: its own user + system seconds, those of the children it
    waited for (``reaped``: each such child's whole life, with what that child had reaped), its
    parent's pid, whether it is kept apart (a task's server, or one of its descendants), and
    whether the system reaps its children for it (it ignores ``SIGCHLD``): their CPU then
    reaches nobody's ``reaped``."""

    own: float
    reaped: float
    parent: int
    apart: bool = False
    drops_children: bool = False

    @property
    def total(self) -> float:
        """Its own CPU and its reaped children's."""
        return self.own + self.reaped


@dataclass(frozen=True)
class VanishedCpu:
    """A process gone by the second reading that no process of the tree accounted for (see
    :meth:`CpuReading.__sub__`): the CPU it, and those of its descendants gone with it, had
    used at the first reading, and whether it was kept apart."""

    before: float
    apart: bool = False


@dataclass(frozen=True)
class CpuReading:
    """CPU seconds used so far, and how far they may be off: the kernel counts other
    processes' user and system time in clock ticks, so each count adds up to a tick of
    rounding. ``apart`` is the CPU of the processes kept apart (a task's server), not in
    ``seconds``."""

    seconds: float
    resolution: float
    apart: float = 0.0
    #: Each thread's user + system CPU, by (pid, native thread id), to the clock tick
    #: (:attr:`tick` each count), for every process of the tree.
    by_thread: dict[tuple[int, int], float] = field(default_factory=dict)
    tick: float = 0.01
    #: Each process of the tree (this one included) at the reading.
    processes: dict[ProcessKey, ProcessCpu] = field(default_factory=dict)
    #: In a difference of readings: the processes gone by the later one whose CPU in between
    #: is not in it (see :meth:`counting_vanished`).
    vanished: dict[ProcessKey, VanishedCpu] = field(default_factory=dict)

    def __sub__(self, earlier: CpuReading) -> CpuReading:
        """The CPU used between two readings, process by process, none less than nothing.

        A process at both readings counts what it used in between; one started since counts
        all it used. A process gone by now, and whatever it had started that went too, counts
        through whoever waited for it: the nearest of its ancestors still here took its whole
        life into its ``reaped``, less what it had used at the earlier reading (a parent is
        taken to outlive its child: an orphan's CPU is missed). One whose parent let the system
        reap it is in :attr:`vanished`, its CPU in between not counted yet. (One that both
        started and ended in between with nobody waiting for it is at neither reading: missed.)

        Each count is cut to whole ticks both times, so the difference is off by less than
        the larger reading's resolution. Each thread's CPU is kept for the threads present at
        both readings in the same process (not one that ended and another that took its
        number, which would show less CPU than before)."""
        tick = max(self.tick, earlier.tick)
        resolution = max(self.resolution, earlier.resolution)
        if not self.processes and not earlier.processes:  # readings made by hand
            return CpuReading(
                max(self.seconds - earlier.seconds, 0.0),
                resolution,
                max(self.apart - earlier.apart, 0.0),
                tick=tick,
            )
        gone = _gone_by_accountant(earlier.processes, self.processes)
        seconds = apart = 0.0
        for key, now in self.processes.items():
            then = earlier.processes.get(key)
            if then is None:
                used = now.total
            else:
                reaped = now.reaped - then.reaped - gone.pop(key, 0.0)
                used = max(now.own - then.own, 0.0) + max(reaped, 0.0)
            if now.apart:
                apart += used
            else:
                seconds += used
        vanished = {
            key: VanishedCpu(before, earlier.processes[key].apart) for key, before in gone.items()
        }
        same = {pid for pid, created in self.processes if (pid, created) in earlier.processes}
        by_thread = {
            thread: used - earlier.by_thread[thread]
            for thread, used in self.by_thread.items()
            if thread[0] in same
            and thread in earlier.by_thread
            and used >= earlier.by_thread[thread]
        }
        return CpuReading(seconds, resolution, apart, by_thread, tick, vanished=vanished)

    def counting_vanished(self, seen: Mapping[ProcessKey, float], interval: float) -> CpuReading:
        """This difference with the CPU of its :attr:`vanished` processes counted up to their
        last sighting: ``seen`` holds each process's CPU (:attr:`ProcessCpu.total`) as a
        sampler last saw it, every ``interval`` seconds. What a vanished process used after
        its last sample (up to one sampling interval of its CPU) is missed, and the
        resolution widened for it."""
        seconds, apart, resolution = last_seen_cpu(self.vanished, seen, interval, self.tick)
        return dataclasses.replace(
            self,
            seconds=self.seconds + seconds,
            apart=self.apart + apart,
            resolution=self.resolution + resolution,
            vanished={},
        )


def _gone_by_accountant(
    before: Mapping[ProcessKey, ProcessCpu], after: Mapping[ProcessKey, ProcessCpu]
) -> dict[ProcessKey, float]:
    """The processes of ``before`` gone by ``after``, their CPU at ``before`` summed by the
    process whose ``reaped`` took theirs in: the nearest ancestor at both readings, through
    ancestors gone too (each taken to have waited for its child); or the first gone one whose
    parent left it to the system (or is unknown), for whom nobody did."""
    key_of = {pid: (pid, created) for pid, created in before}
    found: dict[ProcessKey, float] = {}
    for key, then in before.items():
        if key in after:
            continue
        accountant = key
        for _ in before:  # up the tree: no further than there are processes
            parent = key_of.get(before[accountant].parent)
            if parent is None or before[parent].drops_children:
                break
            if parent in after:
                if not after[parent].drops_children:
                    accountant = parent
                break
            accountant = parent
        found[accountant] = found.get(accountant, 0.0) + then.total
    return found


def last_seen_cpu(
    vanished: Mapping[ProcessKey, VanishedCpu],
    seen: Mapping[ProcessKey, float],
    interval: float,
    tick: float,
) -> tuple[float, float, float]:
    """The CPU the ``vanished`` processes used between the readings up to their last
    sighting in ``seen`` (none if never seen since the first reading), outside and inside the
    processes kept apart, and how much more it may be off: up to ``interval`` on every CPU
    for each, and a last count's rounding."""
    seconds = apart = widened = 0.0
    cpus = psutil.cpu_count() or 1
    for key, gone in vanished.items():
        used = max(seen.get(key, 0.0) - gone.before, 0.0)
        if gone.apart:
            apart += used
        else:
            seconds += used
        widened += interval * cpus + 4 * tick
    return seconds, apart, widened


def clock_tick() -> float:
    """Seconds per clock tick, the unit of other processes' CPU times."""
    try:
        return 1.0 / os.sysconf("SC_CLK_TCK")
    except (AttributeError, ValueError, OSError):
        return 0.01


def tree_cpu(before: bool = True, apart: Collection[int] = ()) -> CpuReading:
    """User + system CPU of this process (to the nanosecond, every thread), of its waited-for
    children and of its living descendants (to the clock tick), process by process; the
    processes of ``apart`` and their descendants are counted on their own, as the reading's
    ``apart``.

    Reading the descendants walks ``/proc`` and costs this process CPU time itself, so that
    walk is kept outside the window being measured: done first when ``before`` the window,
    last after it.
    """
    return _reading(apart, None if before else time.process_time())


def process_key(process: psutil.Process) -> ProcessKey:
    """``process``'s pid and creation time."""
    return process.pid, process.create_time()


def _reading(apart: Collection[int], own: float | None) -> CpuReading:
    """The tree's CPU, this process's own being ``own`` (``None``: read last, after all else)."""
    tick = clock_tick()
    resolution = time.get_clock_info("process_time").resolution
    kept_apart = _with_descendants(apart)
    root = psutil.Process()
    processes = tree(root)
    found: dict[ProcessKey, ProcessCpu] = {}
    seconds = apart_seconds = 0.0
    for process in processes[1:]:
        with contextlib.suppress(psutil.Error), process.oneshot():
            times = process.cpu_times()
            reaped = times.children_user + times.children_system
            cpu = ProcessCpu(
                times.user + times.system, reaped, process.ppid(), process.pid in kept_apart
            )
            found[process_key(process)] = cpu
            if cpu.apart:
                apart_seconds += cpu.total
            else:
                seconds += cpu.total
                resolution += (4 if reaped else 2) * tick
    by_thread: dict[tuple[int, int], float] = {}
    for process in processes:
        if process.pid not in kept_apart:
            with contextlib.suppress(psutil.Error):
                for thread in process.threads():
                    by_thread[process.pid, thread.id] = thread.user_time + thread.system_time
    children = os.times()
    reaped = children.children_user + children.children_system
    if reaped:
        resolution += 2 * tick
    parents = {cpu.parent for cpu in found.values()}
    found = {
        key: dataclasses.replace(cpu, drops_children=True)
        if key[0] in parents and _drops_children(key[0])
        else cpu
        for key, cpu in found.items()
    }
    me = process_key(root)
    drops = root.pid in parents and _drops_children(root.pid)
    if own is None:
        own = time.process_time()
    found[me] = ProcessCpu(own, reaped, os.getppid(), drops_children=drops)
    return CpuReading(
        own + reaped + seconds, resolution, apart_seconds, by_thread, tick, processes=found
    )


def _drops_children(pid: int) -> bool:
    """Whether process ``pid`` ignores ``SIGCHLD``, so the system reaps its children and
    counts their CPU nowhere; read from ``/proc`` (Linux), taken not to elsewhere. (A handler
    set with ``SA_NOCLDWAIT`` does the same unseen.)"""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"SigIgn:"):
                    return bool(int(line.split()[1], 16) >> (signal.SIGCHLD - 1) & 1)
    except (OSError, ValueError, IndexError, AttributeError):  # no SIGCHLD on Windows
        pass
    return False


def _with_descendants(pids: Collection[int]) -> set[int]:
    found = set(pids)
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            found.update(child.pid for child in psutil.Process(pid).children(recursive=True))
    return found


def cpu_by_process(processes: Iterable[psutil.Process]) -> dict[ProcessKey, float]:
    """Each process's CPU so far: its own user + system and its reaped children's
    (:attr:`ProcessCpu.total`), to the clock tick. Cheap: one small read of ``/proc`` each."""
    found = {}
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            used = times.user + times.system + times.children_user + times.children_system
            found[process_key(process)] = used
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
