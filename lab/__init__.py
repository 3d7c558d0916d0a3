"""concurrency-lab: threads, processes, threads inside processes or an event loop, measured.

The public contract, everything a plugin imports, is three modules:

- ``lab`` itself, the names of :data:`__all__`: ``hookimpl``, the runner and task contracts,
  the ready-made sessions, the clock jobs time their operations with, and the exception
  describer for errors a runner reports as data;
- :mod:`lab.pools`, its ``__all__``: pools whose workers have all started and warmed up, for
  runner plugins;
- :mod:`lab.testing`, its ``__all__``: the conformance kit, for a plugin's tests.

Everything else under ``lab`` (``lab.cli``, ``lab.plan``, ``lab.run``, ``lab.worker``,
``lab.boundary``, ``lab.results``, ``lab.report``, ``lab.host``, ``lab.machine``, ``lab.envs``
and the modules behind the names above) is the host's interior: it may change in any release,
and the tests fail when a built-in plugin imports from it.

For users rather than plugins, ``lab.measure`` is ``lab run`` from Python (:mod:`lab.api`):
not part of the plugin contract, nor of :data:`__all__`, and loaded only when first used, so
that a plugin or a worker importing ``lab`` never loads the host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.jobs import Job, JobRecord, Timed, describe_exception
from lab.markers import hookimpl
from lab.runner import (
    EVENT_LOOP,
    INLINE,
    INTERPRETERS,
    ISOLATIONS,
    KINDS,
    ONE_INTERPRETER,
    OTHER,
    OTHER_INTERPRETERS,
    OTHER_PROCESSES,
    PROCESSES,
    PROCESSES_THREADS,
    THREADS,
    Layout,
    RunContext,
    Runner,
    Session,
    Workers,
)
from lab.sessions import ExecutorSession, InlineSession
from lab.task import Size, Task
from lab.timing import clock

__all__ = [
    "EVENT_LOOP",
    "INLINE",
    "INTERPRETERS",
    "ISOLATIONS",
    "KINDS",
    "ONE_INTERPRETER",
    "OTHER",
    "OTHER_INTERPRETERS",
    "OTHER_PROCESSES",
    "PROCESSES",
    "PROCESSES_THREADS",
    "THREADS",
    "ExecutorSession",
    "InlineSession",
    "Job",
    "JobRecord",
    "Layout",
    "RunContext",
    "Runner",
    "Session",
    "Size",
    "Task",
    "Timed",
    "Workers",
    "clock",
    "describe_exception",
    "hookimpl",
]

if TYPE_CHECKING:
    from lab.api import measure as measure
else:

    def __getattr__(name: str) -> object:
        """``lab.measure``, imported from the top of the house when first asked for."""
        if name == "measure":
            from lab.api import measure

            globals()["measure"] = measure
            return measure
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
