"""``files``: each job reads the files of a folder that the cell's session writes, and removes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from lab import JobRecord, Size, Task, Timed, clock, hookimpl

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

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
def session_folder() -> Iterator[Path]:
    """A new folder of the temporary folder, removed on exit (and by the next session, if its
    process is killed first)."""
    remove_leftovers(Path(tempfile.gettempdir()))
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def files_folder(size: int | float) -> Iterator[tuple[str, ...]]:
    """The task's session: :data:`FILES` files of ``size`` bytes in a :func:`session_folder`,
    yielding their paths. The files are read back from the page cache: the session has just
    written them."""
    size = int(size)
    with session_folder() as folder:
        block = os.urandom(min(size, CHUNK))
        paths = tuple(folder / f"{i:03d}.bin" for i in range(FILES))
        for path in paths:
            _write(path, size, block)
        yield tuple(str(path) for path in paths)


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


class Writes(NamedTuple):
    """The argument of jobs that write: the session's folder, and the bytes of a file."""

    folder: str
    size: int


@contextlib.contextmanager
def writes_folder(size: int | float) -> Iterator[Writes]:
    """The session of jobs that write their own files: an empty :func:`session_folder`."""
    with session_folder() as folder:
        yield Writes(str(folder), int(size))


def _write_read(folder: str, data: bytes) -> int:
    """Write ``data`` to a new file of ``folder``, read it back, remove it; the bytes read."""
    handle, path = tempfile.mkstemp(suffix=".bin", dir=folder)
    try:
        with open(handle, "wb") as file:
            file.write(data)
        return len(_read(path))
    finally:
        os.remove(path)


def sync_write_read(work: Writes) -> Timed:
    """Blocking writes and reads, for threads and processes: the bytes read back, with each
    file's write and read time."""
    data = bytes(work.size)
    received = 0
    latencies = []
    for _ in range(FILES):
        started = clock()
        received += _write_read(work.folder, data)
        latencies.append(clock() - started)
    return Timed(received, latencies)


async def asyncio_write_read(work: Writes) -> Timed:
    """Each file written and read back by ``asyncio.to_thread``, in the loop's thread pool."""
    data = bytes(work.size)
    received = 0
    latencies = []
    for _ in range(FILES):
        started = clock()
        received += await asyncio.to_thread(_write_read, work.folder, data)
        latencies.append(clock() - started)
    return Timed(received, latencies)


async def anyio_write_read(work: Writes) -> Timed:
    """Each file written, read back and removed through ``anyio.Path``: three calls in anyio's
    worker threads."""
    import anyio

    data = bytes(work.size)
    received = 0
    latencies = []
    for _ in range(FILES):
        started = clock()
        handle, name = tempfile.mkstemp(suffix=".bin", dir=work.folder)
        os.close(handle)
        path = anyio.Path(name)
        await path.write_bytes(data)
        received += len(await path.read_bytes())
        await path.unlink()
        latencies.append(clock() - started)
    return Timed(received, latencies)


def files_task(write: bool = False) -> Task:
    """The task: jobs that read the session's files, or with ``write`` jobs that write files
    of their own and read them back."""
    return Task(
        name="files",
        description=(
            f"file writes and reads: each job writes {FILES} files of SIZE bytes of its own,"
            " reads each back and removes it (page cache, no fsync); asyncio.to_thread and"
            " anyio.Path run on a thread pool"
            if write
            else f"file reads: each job reads {FILES} files of SIZE bytes, warm in the page"
            " cache; asyncio.to_thread and anyio.Path read on a thread pool"
        ),
        bound="transfer",
        # A file each running job holds open: a descriptor, counted against RLIMIT_NOFILE as a
        # socket is (and what lets lab sweep take a task that moves data).
        sockets_per_job=1,
        # Each waiting job holds a file's bytes (4 MiB by default), and copies it out of the
        # page cache on a CPU.
        sweep_limit_per_cpu=100,
        forms={"sync": sync_write_read, "asyncio": asyncio_write_read, "anyio": anyio_write_read}
        if write
        else {"sync": sync_read, "asyncio": asyncio_read, "anyio": anyio_read},
        size=Size(name="bytes a file", kind=int, default=4 * 2**20, soft_limit=64 * 2**20),
        trace_words=("Start writing...", "Finished writing...")
        if write
        else ("Start reading...", "Finished reading..."),
        check=check_bytes,
        session=writes_folder if write else files_folder,
        operation="file" if write else "read",
        option_help={"write": "yes: each job writes its files and reads them back (default: no)"},
        configure=_configure,
        options={"write": "yes" if write else "no"},
    )


def _configure(options: Mapping[str, str]) -> Task:
    write = options.get("write", "no").strip().lower()
    if write not in ("yes", "no"):
        raise ValueError(f"write must be yes or no, not {options.get('write')!r}")
    return files_task(write == "yes")


FILES_TASK = files_task()


@hookimpl
def lab_register_tasks(register: Callable[[Task], None]) -> None:
    register(FILES_TASK)
