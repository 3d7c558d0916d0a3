"""Nothing a cell starts outlives it, whatever happens to the lab.

- The lab becomes a child subreaper (Linux): a process that double-forks out of a cell (a
  daemon, ``setsid -f``) is re-parented to the lab instead of init. When the cell ends, the lab
  kills and reaps its adopted children again and again until none is left (within
  :data:`~lab.machine.process_tree.KILL_WAIT`): what a killed one had started, or the new PID
  of a daemon that forks again and again, comes back to the lab as its child and is ended in a
  later round.
- A watcher process of the lab's own (:mod:`lab.run.lab_watch`) kills the running cell's process
  group if the lab dies without cleaning up; it runs none of the cell's code, so a job holding
  the GIL cannot delay it. Its state is in a private folder (``mkdtemp``), replaced atomically,
  never written through a link planted in the shared temporary folder.

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
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from lab.machine.process_tree import KILL_WAIT, tree
from lab.run.lab_watch import STATE_FILE

#: prctl(2)'s options that make orphaned descendants come to this process, and tell whether
#: they do.
PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 36, 37
#: The temporary folder of a running cell: this prefix, the lab's PID, a dash.
CELL_FOLDER = "lab-cell-"
#: The watcher's private folder: this prefix, the lab's PID, a dash. (Older labs wrote a state
#: file named with this prefix, the PID, ``.json`` or ``.tmp``: removed when its lab is gone.)
GUARD_STATE = "lab-guard-"
_OWNED = re.compile(rf"^(?:{CELL_FOLDER}(\d+)-.*|{GUARD_STATE}(\d+)(?:-.*|\.json|\.tmp))$")


#: Whether :func:`become_subreaper` made this process a subreaper (it was none before).
_made_subreaper = False


@functools.cache
def become_subreaper() -> bool:
    """Make orphaned descendants this process's children (Linux, once); whether it could."""
    global _made_subreaper
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        already = ctypes.c_int(0)
        if libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(already), 0, 0, 0) == 0 and already:
            return True
        made = bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False
    _made_subreaper = made
    return made


def release() -> None:
    """Give back what running cells took, in a process that goes on after measuring
    (:func:`lab.measure`'s): the watcher and its folder, and the subreaper role where the lab
    took it (orphans go to init again, not to a process that would not reap them). The next
    run takes them again."""
    global _made_subreaper
    GUARD.stop()
    if _made_subreaper:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
        _made_subreaper = False
    become_subreaper.cache_clear()


def end_adopted(before: set[int], timeout: float = KILL_WAIT) -> None:
    """Kill and reap the children this process gained since ``before`` (as a subreaper: what a
    cell left behind), round after round until none is left or ``timeout`` seconds passed.

    A child's PID is this process's until it is reaped, so no signal reaches a stranger. A
    killed child's own children, and the new PID of a daemon that forked again meanwhile, are
    re-parented here before the child can be reaped: the next round ends them.
    """
    deadline = time.monotonic() + timeout
    while True:
        adopted = _children() - before
        if not adopted:
            adopted = _children(thorough=True) - before
            if not adopted:
                return
        if not become_subreaper():  # orphans go to init: end their descendants now
            _kill_descendants(adopted)
        for pid in adopted:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if not _reap(adopted, deadline) or time.monotonic() >= deadline:
            return


def _children(thorough: bool = False) -> set[int]:
    """The PIDs of this process's children (zombies too): from ``/proc`` at once where Linux
    lists them by thread, else (or ``thorough``) from every process's parent."""
    if not thorough:
        with contextlib.suppress(OSError):
            return {
                int(pid)
                for task in Path("/proc/self/task").iterdir()
                for pid in (task / "children").read_text().split()
            }
    with contextlib.suppress(psutil.Error):
        return {p.pid for p in psutil.Process().children()}
    return set()


def _kill_descendants(pids: set[int]) -> None:
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            for process in tree(psutil.Process(pid))[1:]:
                with contextlib.suppress(psutil.Error):
                    process.kill()


def _reap(pids: set[int], deadline: float) -> bool:
    """Reap the children ``pids``, which were killed; whether all went before ``deadline``."""
    waiting, pause = set(pids), 0.0005
    while True:
        for pid in list(waiting):
            with contextlib.suppress(ChildProcessError):  # else not a child (any more)
                if os.waitpid(pid, os.WNOHANG)[0] == 0:
                    continue
            waiting.discard(pid)
        if not waiting:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(2 * pause, 0.02)


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove the cell and guard folders (and old guard files) of this user in ``folder`` whose
    lab is no longer running, never following a link; what was removed."""
    removed = []
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            match = _OWNED.match(entry.name)
            if match is None or _running_since(int(match[1] or match[2]), entry):
                continue
            if not _mine(entry):  # another user's: not ours to judge
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _mine(entry: Path) -> bool:
    try:
        return entry.lstat().st_uid == os.geteuid()
    except OSError:
        return False


def _running_since(pid: int, entry: Path) -> bool:
    """Whether process ``pid`` runs and is old enough to have made ``entry`` (not a newer
    process that was given a dead lab's PID)."""
    try:
        started = psutil.Process(pid).create_time()
        return started <= entry.lstat().st_mtime + 1
    except (psutil.Error, OSError):
        return False


class Guard:
    """The lab's watcher process and the state it reads (the running cell's group and folder),
    in a private folder of the lab's."""

    def __init__(self) -> None:
        self.watcher: subprocess.Popen[bytes] | None = None
        self.folder: Path | None = None
        self.stops_at_exit = False

    @property
    def state(self) -> Path | None:
        return None if self.folder is None else self.folder / STATE_FILE

    def start(self) -> None:
        """Start the watcher, once per lab process (none if its folder cannot be made)."""
        if self.watcher is not None and self.watcher.poll() is None:
            return
        remove_leftovers(Path(tempfile.gettempdir()))
        if self.folder is None:
            try:
                self.folder = Path(tempfile.mkdtemp(prefix=f"{GUARD_STATE}{os.getpid()}-"))
            except OSError:
                return
        self.idle()
        self.watcher = subprocess.Popen(
            [sys.executable, "-P", "-m", "lab.run.lab_watch", str(os.getpid()), str(self.folder)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        if not self.stops_at_exit:  # once: a process that goes on starts it again (lab.measure)
            atexit.register(self.stop)
            self.stops_at_exit = True

    def running(self, group: int, folder: str) -> None:
        self._write({"groups": [group], "folders": [folder]})

    def idle(self) -> None:
        self._write({})

    def stop(self) -> None:
        if self.watcher is not None and self.watcher.poll() is None:
            self.watcher.kill()
            self.watcher.wait()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def _write(self, data: dict[str, object]) -> None:
        """Replace the state: a new file of the private folder renamed over it."""
        if self.folder is None:
            return
        with contextlib.suppress(OSError):
            fd, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            try:
                with os.fdopen(fd, "w") as file:
                    file.write(json.dumps(data))
                os.replace(temporary, self.folder / STATE_FILE)
            finally:
                Path(temporary).unlink(missing_ok=True)  # left only if the rename failed


#: One guard for the lab process.
GUARD = Guard()
