"""What the machine and the Python are: the facts printed above every table."""

from __future__ import annotations

import os
import platform
import sys
import sysconfig


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
