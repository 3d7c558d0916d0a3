"""One matrix at a time on a machine: two would spoil each other's figures."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import filelock

from lab.errors import LabError

if TYPE_CHECKING:
    from collections.abc import Iterator

LOCK_ENV = "LAB_LOCK"


class LockedError(LabError):
    """Another matrix holds the machine."""

    exit_code = 1


def lock_path() -> Path:
    """``$LAB_LOCK``, or one file in the system's temporary folder for the whole machine."""
    return Path(os.environ.get(LOCK_ENV) or Path(tempfile.gettempdir(), "concurrency-lab.lock"))


@contextmanager
def machine_lock(path: Path | None = None) -> Iterator[None]:
    """Hold the lab's machine lock, or raise :class:`LockedError` naming who holds it."""
    path = path or lock_path()
    about = path.with_name(path.name + ".holder")
    lock = filelock.FileLock(path, timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise LockedError(
            f"another lab is measuring on this machine ({_holder(about)}); wait for it to finish"
        ) from None
    try:
        with contextlib.suppress(OSError):  # a full disk loses who holds the lock, not the lock
            about.write_text(
                json.dumps(
                    {"pid": os.getpid(), "since": time.strftime("%H:%M:%S"), "argv": sys.argv}
                )
            )
        yield
    finally:
        about.unlink(missing_ok=True)
        lock.release()


def _holder(about: Path) -> str:
    try:
        holder = json.loads(about.read_text())
        command = " ".join(["lab", *holder["argv"][1:]])
        return f"pid {holder['pid']} since {holder['since']}: {command}"
    except (OSError, ValueError, KeyError, TypeError):
        return f"lock file {about.with_suffix('')}"
