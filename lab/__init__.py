"""concurrency-lab: threads, processes, threads inside processes or an event loop, measured.

Plugin authors import from here: ``hookimpl`` and the types of the runner and task contracts.
"""

from __future__ import annotations

from lab.jobs import Job, JobRecord, Timed
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
    "hookimpl",
]
