"""Every call of a job counted where it runs, whatever the runner reports.

The cell's worker makes a file of one counter a job in the cell's own folder; a job carries
its name and, wherever it is unpickled on this host (a pool's process, a subinterpreter, a
dask worker), the counters are mapped once a process. A call then adds one to its own job's
counter in shared memory: no lock, no system call. After the session has ended, the lab reads
how often each job ran and compares it with the records that came back, so a runner that ran
work no record shows is caught on any task, whatever its records claim.
"""

from __future__ import annotations

import contextlib
import mmap
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

#: Bytes of one job's counter: an unsigned 32-bit integer (memoryview format ``"I"``).
COUNTER_BYTES = 4

#: The counters this process has mapped, by file: a job unpickled here finds them without a
#: system call once the first one has mapped them.
_mapped: dict[str, memoryview | None] = {}


class Counters:
    """The counters of one run's jobs, mapped in this process (``view`` is ``None`` where the
    file cannot be reached, on another host: those calls go uncounted). Pickled by name."""

    __slots__ = ("path", "view")

    def __init__(self, path: str, view: memoryview | None) -> None:
        self.path = path
        self.view = view

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return attached, (self.path,)

    def counts(self) -> list[int]:
        """How many times each job has been called so far, by index."""
        return [] if self.view is None else self.view.tolist()


def attached(path: str) -> Counters:
    """The counters in ``path``, mapped once a process (and once an interpreter)."""
    if path not in _mapped:
        _mapped[path] = _mapping(path)
    return Counters(path, _mapped[path])


def _mapping(path: str) -> memoryview | None:
    try:
        with open(path, "r+b") as file:
            return memoryview(mmap.mmap(file.fileno(), 0)).cast("I")
    except Exception:  # unreachable here (another host), or no mmap in this interpreter
        return None


@contextlib.contextmanager
def counters(folder: Path, jobs: int) -> Iterator[Counters]:
    """Fresh counters for ``jobs`` jobs in a file in ``folder``, removed afterwards."""
    path = folder / f"invocations-{os.getpid()}-{id(folder):x}"
    with open(path, "xb") as file:
        file.truncate(max(jobs, 1) * COUNTER_BYTES)
    try:
        yield attached(str(path))
    finally:
        _mapped.pop(str(path), None)
        with contextlib.suppress(OSError):
            path.unlink()


def repeated(counts: list[int]) -> list[list[int]]:
    """``[index, calls]`` for every job called more than once."""
    return [[index, calls] for index, calls in enumerate(counts) if calls > 1]
