"""Nothing a cell starts outlives it, whatever happens to the lab.

- The lab becomes a child subreaper (Linux): a process that double-forks out of a cell (a
  daemon, ``setsid -f``) is re-parented to the lab instead of init, and is ended with the cell.
- A watcher process of the lab's own (:mod:`lab.run.lab_watch`) kills the running cell's process
  group if the lab dies without cleaning up; it runs none of the cell's code, so a job holding
  the GIL cannot delay it.

- Temporary files carry the PID of the lab that made them: a lab removes, before its first
  cell, what a lab no longer running left behind (the watcher too was killed, or the machine
  stopped).

Where neither a subreaper nor the watcher exists (not Linux), a cell's worker still kills its
own group when it notices the lab is gone, and the lab kills every process of a cell's tree it
saw.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil

from lab.machine.process_tree import KILL_WAIT, tree

#: prctl(2)'s option that makes orphaned descendants come to this process.
PR_SET_CHILD_SUBREAPER = 36
#: The temporary folder of a running cell: this prefix, the lab's PID, a dash.
CELL_FOLDER = "lab-cell-"
#: The watcher's state file: this prefix, the lab's PID, ``.json``.
GUARD_STATE = "lab-guard-"
_OWNED = re.compile(rf"^(?:{CELL_FOLDER}(\d+)-.*|{GUARD_STATE}(\d+)\.(?:json|tmp))$")


@functools.cache
def become_subreaper() -> bool:
    """Make orphaned descendants this process's children (Linux, once); whether it could."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def end_adopted(before: set[int]) -> None:
    """Kill, with their descendants, and reap the children this process gained since
    ``before`` (as a subreaper: what a cell left behind)."""
    with contextlib.suppress(psutil.Error):
        adopted = [p for p in psutil.Process().children() if p.pid not in before]
        for process in [q for p in adopted for q in tree(p)]:
            with contextlib.suppress(psutil.Error):
                process.kill()
        psutil.wait_procs(adopted, timeout=KILL_WAIT)


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove the cell folders and guard files in ``folder`` whose lab is no longer running;
    what was removed."""
    removed = []
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            match = _OWNED.match(entry.name)
            if match is None or _running_since(int(match[1] or match[2]), entry):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _running_since(pid: int, entry: Path) -> bool:
    """Whether process ``pid`` runs and is old enough to have made ``entry`` (not a newer
    process that was given a dead lab's PID)."""
    try:
        started = psutil.Process(pid).create_time()
        return started <= entry.lstat().st_mtime + 1
    except (psutil.Error, OSError):
        return False


class Guard:
    """The lab's watcher process and the state it reads: the running cell's group and folder."""

    def __init__(self) -> None:
        self.watcher: subprocess.Popen[bytes] | None = None
        self.state = Path(tempfile.gettempdir(), f"{GUARD_STATE}{os.getpid()}.json")

    def start(self) -> None:
        """Start the watcher, once per lab process."""
        if self.watcher is not None and self.watcher.poll() is None:
            return
        remove_leftovers(Path(tempfile.gettempdir()))
        self.idle()
        self.watcher = subprocess.Popen(
            [sys.executable, "-P", "-m", "lab.run.lab_watch", str(os.getpid()), str(self.state)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        atexit.register(self.stop)

    def running(self, group: int, folder: str) -> None:
        self._write({"groups": [group], "folders": [folder]})

    def idle(self) -> None:
        self._write({})

    def stop(self) -> None:
        if self.watcher is not None and self.watcher.poll() is None:
            self.watcher.kill()
            self.watcher.wait()
        self.state.unlink(missing_ok=True)

    def _write(self, data: dict[str, object]) -> None:
        with contextlib.suppress(OSError):
            temporary = self.state.with_suffix(".tmp")
            temporary.write_text(json.dumps(data))
            temporary.replace(self.state)


#: One guard for the lab process.
GUARD = Guard()
