"""A process and its descendants, through psutil: CPU time, memory, and killing the lot."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from collections.abc import Iterable


#: Seconds to wait for killed processes to go.
KILL_WAIT = 5.0


def tree(root: psutil.Process) -> list[psutil.Process]:
    """``root`` and every living descendant."""
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def tree_cpu_seconds(root: psutil.Process | None = None) -> float:
    """User + system CPU seconds of ``root`` (default: this process), its waited-for children
    and its living descendants."""
    root = root or psutil.Process()
    total = 0.0
    for process in tree(root):
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
    return total


def tree_memory_bytes(processes: list[psutil.Process]) -> int:
    """Memory of ``processes`` together: the sum of each one's PSS (shared pages counted once,
    proportionally) where the OS reports it, else of RSS."""
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            info = process.memory_full_info() if MEMORY_METRIC == "PSS" else process.memory_info()
            total += getattr(info, "pss", info.rss)
    return total


def _memory_metric() -> str:
    try:
        return "PSS" if hasattr(psutil.Process().memory_full_info(), "pss") else "RSS"
    except psutil.Error:
        return "RSS"


#: What :func:`tree_memory_bytes` sums: ``"PSS"`` on Linux, ``"RSS"`` elsewhere.
MEMORY_METRIC = _memory_metric()


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
