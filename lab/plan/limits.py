"""Soft limits checked before anything starts; ``--allow-large`` goes past them."""

from __future__ import annotations

import contextlib
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

from lab.errors import UsageError

if TYPE_CHECKING:
    from lab.runner import Layout

MAX_THREADS = 1024
PROCESSES_PER_CPU = 8
MAX_EVENT_LOOP_TASKS = 100_000
MAX_JOBS = 100_000
MAX_REPEAT = 1000

#: How a number is written on the command line: the ASCII digits 0-9, a sign, and for a decimal
#: a point and an exponent; spaces around it are ignored. Python's ``int()`` and ``float()``
#: take more (any Unicode digit, full-width ones among them, ``1_000``, ``nan``, ``inf``),
#: which a user does not mean.
WHOLE = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)
DECIMAL = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*", re.ASCII)


def whole_number(text: str) -> int | None:
    """``text`` as a whole number when :data:`WHOLE` matches it (and ``int()`` takes that
    many digits), else ``None``."""
    if WHOLE.fullmatch(text) is None:
        return None
    try:
        return int(text)
    except ValueError:  # more digits than sys.get_int_max_str_digits()
        return None


def decimal(text: str) -> float | None:
    """``text`` as a float when :data:`DECIMAL` matches it (``inf`` when too large), else
    ``None``."""
    return float(text) if DECIMAL.fullmatch(text) is not None else None


def spelling(text: str) -> str:
    """What ``text`` lacks to be read as a number, to follow "must be a number" in a message:
    the digits 0-9, no underscores, not too many digits; empty when none of these."""
    if not text.isascii():
        return " written with the digits 0-9"
    if "_" in text:
        return " written without underscores"
    if WHOLE.fullmatch(text):
        return f" of at most {sys.get_int_max_str_digits():,} digits"
    return ""


def check_layout(runner: str, workers: str, layout: Layout, cpus: int, allow_large: bool) -> None:
    """Refuse a layout above the soft limits, naming the limit."""
    if allow_large:
        return
    max_processes = max(PROCESSES_PER_CPU * cpus, 16)
    threads = layout.processes * layout.threads
    hint = "; pass --allow-large to run it anyway"
    if layout.processes > max_processes:
        raise UsageError(
            f"{runner} with workers {workers} starts {layout.processes} processes, above the soft"
            f" limit of {max_processes} ({PROCESSES_PER_CPU} per usable CPU){hint}"
        )
    if threads > MAX_THREADS:
        raise UsageError(
            f"{runner} with workers {workers} starts {threads:,} threads, above the soft limit"
            f" of {MAX_THREADS:,}{hint}"
        )
    if layout.tasks > MAX_EVENT_LOOP_TASKS:
        raise UsageError(
            f"{runner} with workers {workers} runs {layout.tasks:,} tasks at once, above the"
            f" soft limit of {MAX_EVENT_LOOP_TASKS:,}{hint}"
        )


def check_rounds(warmups: int, repeat: int) -> None:
    """Refuse more than :data:`MAX_REPEAT` warm-up or measured runs a cell, naming the option."""
    for value, option in ((warmups, "--warmups"), (repeat, "--repeat")):
        if value > MAX_REPEAT:
            raise UsageError(f"{option} must be at most {MAX_REPEAT:,}, not {value:,}")


def check_jobs(jobs: int, allow_large: bool) -> None:
    if jobs > MAX_JOBS and not allow_large:
        raise UsageError(
            f"{jobs:,} jobs is above the soft limit of {MAX_JOBS:,}; pass --allow-large to run"
            " them anyway"
        )


#: A sweep's soft limits: threads in one cell, and concurrent tasks on an event loop.
SWEEP_MAX_THREADS = 10_000
SWEEP_MAX_TASKS = 100_000
#: Resident memory a waiting thread and a waiting event-loop task cost, for the estimate made
#: before a sweep starts (measured: about 10 KiB a thread and 1-3 KiB a task, rounded up).
THREAD_BYTES = 64 * 1024
TASK_BYTES = 8 * 1024
PROCESS_BYTES = 40 * 1024 * 1024
#: Descriptors kept free for the interpreter, pipes and the lab's own files.
SPARE_DESCRIPTORS = 256


def os_thread_limit() -> int | None:
    """The most threads this user may have: RLIMIT_NPROC and the kernel's threads-max."""
    limits = []
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NPROC)
        if soft != resource.RLIM_INFINITY:
            limits.append(soft)
    except (ImportError, AttributeError, OSError):
        pass
    with contextlib.suppress(OSError, ValueError):
        limits.append(int(Path("/proc/sys/kernel/threads-max").read_text()))
    return min(limits) if limits else None


def descriptor_limit() -> int | None:
    """The hard RLIMIT_NOFILE: as many descriptors as a process may raise itself to."""
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, AttributeError, OSError):
        return None
    return None if hard == resource.RLIM_INFINITY else hard


def check_sweep_soft_limits(runner: str, level: int, layout: Layout, allow_large: bool) -> None:
    """Unless ``allow_large``, refuse a sweep level above the sweep's soft limits, naming the
    limit and ``--allow-large``."""
    threads = layout.processes * layout.threads
    hint = "; pass --allow-large to run it anyway"
    if not allow_large and threads > SWEEP_MAX_THREADS:
        raise UsageError(
            f"{runner} at {level:,} starts {threads:,} threads, above the sweep's soft limit of"
            f" {SWEEP_MAX_THREADS:,}{hint}"
        )
    if not allow_large and layout.tasks > SWEEP_MAX_TASKS:
        raise UsageError(
            f"{runner} at {level:,} runs {layout.tasks:,} tasks at once, above the sweep's soft"
            f" limit of {SWEEP_MAX_TASKS:,}{hint}"
        )


def thread_limit(runner: str, level: int, layout: Layout) -> str | None:
    """Why this machine cannot start a sweep level's threads, whatever ``--allow-large`` says
    (the OS's thread limit), naming the limit; ``None`` where it can."""
    threads = layout.processes * layout.threads
    os_limit = os_thread_limit()
    if os_limit is not None and threads > os_limit // 2:
        return (
            f"{runner} at {level:,} starts {threads:,} threads; this machine allows {os_limit:,}"
            " for the user (RLIMIT_NPROC, threads-max), and the lab keeps half free"
        )
    return None


def room_limit(runner: str, level: int, layout: Layout, sockets: int) -> str | None:
    """Why this machine has no room for a sweep level, whatever ``--allow-large`` says (the
    memory available, descriptors for its ``sockets``), naming the limit; ``None`` where it
    has."""
    threads = layout.processes * layout.threads
    estimate = threads * THREAD_BYTES + layout.tasks * TASK_BYTES
    estimate += layout.processes * PROCESS_BYTES
    available = psutil.virtual_memory().available
    if estimate > available // 2:
        return (
            f"{runner} at {level:,} would need about {estimate / 2**30:.1f} GiB, more than half"
            f" of the {available / 2**30:.1f} GiB available"
        )
    descriptors = descriptor_limit()
    if sockets and descriptors is not None and sockets + SPARE_DESCRIPTORS > descriptors:
        return (
            f"{runner} at {level:,} needs {sockets:,} sockets, but this process may open only"
            f" {descriptors:,} descriptors (RLIMIT_NOFILE); raise it with ulimit -n"
        )
    return None
