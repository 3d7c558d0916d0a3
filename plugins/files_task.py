"""``files``: each job reads the files of a folder that the cell's session writes, and removes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from lab import JobRecord, Size, Task, Timed, hookimpl
from lab.timing import clock

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: Files a job reads, one after another (every job reads the same ones).
FILES = 16
#: The folder's name starts with this and the pid of the process that made it.
PREFIX = "lab-files-"
_OWNED = re.compile(rf"^{PREFIX}(\d+)-")
#: The most bytes written at once while making the files.
CHUNK = 1024 * 1024


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove the folders in ``folder`` that sessions of processes no longer running left (a
    cell killed at its timeout cannot remove its own); what was removed."""
    import psutil  # not in the pools' workers, which import this module for its jobs

    removed = []
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            match = _OWNED.match(entry.name)
            if match is None or psutil.pid_exists(int(match[1])) or entry.is_symlink():
                continue
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _write(path: Path, size: int, block: bytes) -> None:
    with path.open("wb") as file:
        left = size
        while left > 0:
            left -= file.write(block[:left])


@contextlib.contextmanager
def files_folder(size: int | float) -> Iterator[tuple[str, ...]]:
    """The task's session: :data:`FILES` files of ``size`` bytes in a new folder of the
    temporary folder, yielding their paths; the folder is removed on exit. The files are read
    back from the page cache: the session has just written them."""
    size = int(size)
    remove_leftovers(Path(tempfile.gettempdir()))
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    try:
        block = os.urandom(min(size, CHUNK))
        paths = tuple(folder / f"{i:03d}.bin" for i in range(FILES))
        for path in paths:
            _write(path, size, block)
        yield tuple(str(path) for path in paths)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def sync_read(paths: tuple[str, ...]) -> Timed:
    """Blocking reads, for threads and processes: the bytes read, with each file's read time."""
    received = 0
    latencies = []
    for path in paths:
        started = clock()
        received += len(_read(path))
        latencies.append(clock() - started)
    return Timed(received, latencies)


async def asyncio_read(paths: tuple[str, ...]) -> Timed:
    """Each file read by ``asyncio.to_thread``, in the loop's default thread pool."""
    received = 0
    latencies = []
    for path in paths:
        started = clock()
        received += len(await asyncio.to_thread(_read, path))
        latencies.append(clock() - started)
    return Timed(received, latencies)


async def anyio_read(paths: tuple[str, ...]) -> Timed:
    """Each file read by ``anyio.Path.read_bytes``, in anyio's worker threads."""
    import anyio

    received = 0
    latencies = []
    for path in paths:
        started = clock()
        received += len(await anyio.Path(path).read_bytes())
        latencies.append(clock() - started)
    return Timed(received, latencies)


def check_bytes(record: JobRecord, size: int | float) -> str | None:
    expected = FILES * int(size)
    if record.result != expected:
        return f"expected {expected:,} bytes read ({FILES} files), got {record.result!r}"
    return None


FILES_TASK = Task(
    name="files",
    description=(
        f"file reads: each job reads {FILES} files of SIZE bytes, warm in the page cache;"
        " asyncio.to_thread and anyio.Path read on a thread pool"
    ),
    bound="transfer",
    # A file each running job holds open: a descriptor, counted against RLIMIT_NOFILE as a
    # socket is (and what lets lab sweep take a task that moves data).
    sockets_per_job=1,
    # Each waiting job holds a file's bytes, and copies it out of the page cache on a CPU.
    sweep_limit_per_cpu=500,
    forms={"sync": sync_read, "asyncio": asyncio_read, "anyio": anyio_read},
    size=Size(name="bytes a file", kind=int, default=2**20, soft_limit=16 * 2**20),
    trace_words=("Start reading...", "Finished reading..."),
    check=check_bytes,
    session=files_folder,
    operation="read",
)


@hookimpl
def lab_register_tasks(register: Callable[[Task], None]) -> None:
    register(FILES_TASK)
