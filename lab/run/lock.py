"""One matrix at a time on a machine: two would spoil each other's figures.

The lock is one file (``$LAB_LOCK``, or one in the system's temporary folder for the whole
machine), locked with :mod:`filelock`, which never opens it through a link. The lab holding it
writes who it is into the lock file itself, through the locked descriptor: nothing else is
written in a shared folder. A ``LAB_LOCK`` that cannot be a lock file is a one-line error
before anything runs; no folder is created for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import filelock

from lab.boundary.files import cannot_create_in
from lab.errors import LabError, UsageError

if TYPE_CHECKING:
    from collections.abc import Iterator

LOCK_ENV = "LAB_LOCK"
#: The most of the lock file read to say who holds it.
HOLDER_BYTES = 4096
#: Flags that read a file without following a link or waiting on a FIFO.
READ_NO_LINK = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK | os.O_CLOEXEC


class LockedError(LabError):
    """Another matrix holds the machine."""

    exit_code = 1


def lock_path() -> Path:
    """``$LAB_LOCK``, or one file in the system's temporary folder for the whole machine."""
    return Path(os.environ.get(LOCK_ENV) or Path(tempfile.gettempdir(), "concurrency-lab.lock"))


@contextmanager
def machine_lock(path: Path | None = None) -> Iterator[None]:
    """Hold the lab's machine lock, or raise :class:`LockedError` naming who holds it (a
    :class:`UsageError` if ``path`` cannot be a lock file)."""
    path = path or lock_path()
    check_lock_path(path)
    lock = filelock.FileLock(path, timeout=0, on_acquired=_write_holder)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise LockedError(
            f"another lab is measuring on this machine ({_holder(path)}); wait for it to finish"
        ) from None
    except OSError as exc:
        raise UsageError(f"{_named(path)}: cannot lock it: {exc.strerror or exc}") from None
    try:
        yield
    finally:
        lock.release()


def check_lock_path(path: Path) -> None:
    """Raise :class:`UsageError` unless ``path`` is a regular file, or can be created as one
    in an existing folder: never a link, a folder, a device or a missing folder."""
    what = _named(path)
    try:
        found = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        found = None
    except OSError as exc:
        raise UsageError(f"{what}: {exc.strerror or exc}") from None
    if found is not None:
        if stat.S_ISLNK(found.st_mode):
            raise UsageError(f"{what}: is a symbolic link; the lab opens its lock file only itself")
        if stat.S_ISDIR(found.st_mode):
            raise UsageError(f"{what}: is a folder; name a file")
        if not stat.S_ISREG(found.st_mode):
            raise UsageError(f"{what}: is not a regular file")
        return
    folder = path.parent
    try:
        is_folder = stat.S_ISDIR(os.stat(folder).st_mode)
    except FileNotFoundError:
        raise UsageError(f"{what}: no folder {folder}") from None
    except OSError as exc:
        raise UsageError(f"{what}: {folder}: {exc.strerror or exc}") from None
    if not is_folder:
        raise UsageError(f"{what}: {folder} is not a folder")
    problem = cannot_create_in(folder)
    if problem is not None:
        raise UsageError(f"{what}: cannot create files in {folder}: {problem}")


def _named(path: Path) -> str:
    return f"{LOCK_ENV}={path}" if os.environ.get(LOCK_ENV) else f"the lock file {path}"


def _write_holder(descriptor: int) -> None:
    """Say who holds the lock, in the lock file (a full disk loses who, not the lock)."""
    holder = {"pid": os.getpid(), "since": time.strftime("%H:%M:%S"), "argv": sys.argv}
    with contextlib.suppress(OSError):
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(holder).encode()[:HOLDER_BYTES], 0)


def _holder(path: Path) -> str:
    """Who holds the lock at ``path``, as its holder wrote it, read without following a link."""
    try:
        descriptor = os.open(path, READ_NO_LINK)
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise ValueError(path)
            holder = json.loads(os.read(descriptor, HOLDER_BYTES))
        finally:
            os.close(descriptor)
        command = " ".join(["lab", *map(str, holder["argv"][1:])])
        return f"pid {int(holder['pid'])} since {holder['since']}: {command}"
    except (OSError, ValueError, KeyError, TypeError):
        return f"lock file {path}"
