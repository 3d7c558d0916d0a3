"""What the machine and the Python are: the facts printed with every run, and the warnings
about conditions that spoil measurements."""

from __future__ import annotations

import contextlib
import datetime
import importlib.metadata
import os
import platform
import statistics
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from lab import distributions
from lab.machine.process_tree import memory_metric, memory_resolution

#: Distributions whose versions are recorded.
LIBRARIES = ("concurrency-lab", "pluggy", "anyio", "uvloop", "trio", "tabulate", "psutil")
#: System-wide CPU use by others (percent) above which the machine counts as busy.
BUSY_PERCENT = 25.0
#: Runnable processes per CPU, averaged over the last minute, above which it counts as busy.
BUSY_LOAD_PER_CPU = 1.0
#: How long the busy check watches, in seconds: long enough that a lull between another
#: program's bursts does not read as an idle machine.
BUSY_WINDOW = 1.0
#: A 1 ms sleep that overshoots by more than this (seconds) makes sleeps imprecise.
SLEEP_OVERSHOOT_LIMIT = 0.001


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity), not merely those the machine has."""
    counter = getattr(os, "process_cpu_count", None)
    if counter is not None:
        return int(counter() or 1)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def gil_enabled() -> bool:
    """Whether the GIL is on now, after every import (a free-threaded build may re-enable it)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def python_description() -> str:
    """``CPython 3.11.7 (GCC 12.2.0)``, with ``free-threaded`` for such builds."""
    build = "free-threaded " if sysconfig.get_config_var("Py_GIL_DISABLED") else ""
    return (
        f"{platform.python_implementation()} {platform.python_version()} "
        f"({build}{platform.python_compiler()})"
    )


@dataclass(frozen=True)
class Metadata:
    """The facts of one run of the lab."""

    date: str
    python: str
    gil_enabled: bool
    cpus: int
    logical_cpus: int
    affinity: list[int] | None
    system: str
    load_average: list[float] | None
    busy_percent: float
    sleep_overshoot: float
    start_method: str
    memory_metric: str
    memory_resolution: int
    versions: dict[str, str] = field(default_factory=dict)
    cpu_model: str = ""
    memory_total: int = 0
    #: The lab's git commit (``abc1234``, ``abc1234-dirty``) when it runs from a checkout.
    commit: str = ""


def collect(start_method: str) -> Metadata:
    """Read the machine now; takes about :data:`BUSY_WINDOW` seconds, the busy check watching
    while the rest is read."""
    watch_start = time.monotonic()
    psutil.cpu_percent(interval=None)  # the start of the busy check's window
    affinity = None
    if hasattr(os, "sched_getaffinity"):
        affinity = sorted(os.sched_getaffinity(0))
    load = None
    with contextlib.suppress(OSError, AttributeError):
        load = [round(x, 2) for x in os.getloadavg()]
    return Metadata(
        date=datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        python=python_description(),
        gil_enabled=gil_enabled(),
        cpus=usable_cpus(),
        logical_cpus=os.cpu_count() or 1,
        affinity=affinity,
        system=platform.platform(terse=True),
        load_average=load,
        sleep_overshoot=sleep_overshoot(),
        start_method=start_method,
        memory_metric=memory_metric(),
        memory_resolution=memory_resolution(),
        versions=library_versions(),
        cpu_model=cpu_model(),
        memory_total=psutil.virtual_memory().total,
        commit=git_commit(),
        busy_percent=_busy_percent(watch_start),
    )


def _busy_percent(watch_start: float) -> float:
    time.sleep(max(0.0, BUSY_WINDOW - (time.monotonic() - watch_start)))
    return float(psutil.cpu_percent(interval=None))


def cpu_model() -> str:
    """The CPU's model name, as the system gives it; empty where it does not."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            name, _, value = line.partition(":")
            if name.strip() in ("model name", "Processor", "cpu model"):
                return " ".join(value.split())
    if sys.platform == "darwin":
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            found = subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"],
                capture_output=True, text=True, timeout=5, check=True,
            )  # fmt: skip
            return found.stdout.strip()
    return platform.processor()


def git_commit() -> str:
    """The commit of the git checkout the lab runs from (``-dirty`` with uncommitted changes);
    empty when it is installed, or inside someone else's repository."""
    source = Path(__file__).resolve().parent.parent.parent
    if not (source / ".git").exists():
        return ""

    def git(*args: str) -> str:
        command = ["git", "-C", str(source), *args]
        found = subprocess.run(command, capture_output=True, text=True, timeout=5, check=True)
        return found.stdout.strip()

    with contextlib.suppress(OSError, subprocess.SubprocessError):
        head = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
        return f"{head}-dirty" if changed else head
    return ""


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[name] = distributions.version(name)
    return versions


def sleep_overshoot(seconds: float = 0.001, tries: int = 10) -> float:
    """How much longer than asked ``time.sleep(seconds)`` takes, median of ``tries``."""
    overshoots = []
    for _ in range(tries):
        start = time.perf_counter()
        time.sleep(seconds)
        overshoots.append(time.perf_counter() - start - seconds)
    return statistics.median(overshoots)


def header(meta: Metadata) -> list[list[str]]:
    """What is printed above the tables, as groups of short parts (each group one line or
    more): the lab and the machine, the Python, the date, load and versions."""
    affinity = ""
    if meta.affinity is not None and len(meta.affinity) != meta.logical_cpus:
        affinity = f" (affinity {_ranges(meta.affinity)} of {meta.logical_cpus})"
    machine = [f"{meta.cpus} usable CPUs{affinity}"]
    machine += [meta.cpu_model] if meta.cpu_model else []
    machine += [f"{meta.memory_total / 2**30:.0f} GiB memory"] if meta.memory_total else []
    lab = meta.versions.get("concurrency-lab", "")
    lab += f" (commit {meta.commit})" if meta.commit else ""
    python = [meta.python, f"GIL {'on' if meta.gil_enabled else 'off'}"]
    python.append(f"start method {meta.start_method}")
    load = [] if meta.load_average is None else [f"load {meta.load_average[0]:g}"]
    versions = [f"{n} {v}" for n, v in meta.versions.items() if n != "concurrency-lab"]
    return [
        [f"concurrency-lab {lab}".rstrip(), *machine],
        [*python, meta.system],
        [meta.date, *load, *versions],
    ]


def warnings(meta: Metadata) -> list[str]:
    """Conditions of the machine that spoil measurements."""
    found = []
    load = None if meta.load_average is None else meta.load_average[0] / meta.logical_cpus
    if meta.busy_percent > BUSY_PERCENT or (load is not None and load >= BUSY_LOAD_PER_CPU):
        load_text = "" if load is None else f", load {load:.2f} a CPU over the last minute"
        found.append(
            f"the machine is busy ({meta.busy_percent:.0f}% CPU in use before the run"
            f"{load_text}): figures will be noisy"
        )
    if meta.sleep_overshoot > SLEEP_OVERSHOOT_LIMIT:
        found.append(
            f"sleeps are imprecise here: time.sleep(0.001) overshoots by"
            f" {meta.sleep_overshoot * 1000:.1f} ms"
        )
    return found


def _ranges(numbers: list[int]) -> str:
    parts = []
    start = previous = numbers[0]
    for number in [*numbers[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if number is not None:
            start = previous = number
    return ",".join(parts)
