"""Which runners can run on an interpreter, asked of that interpreter itself.

A runner's ``unavailable()`` answers for the Python it runs on: subinterpreters need 3.13, a
library may have no build for a free-threaded Python. For cells on another interpreter
(``--python``), the lab asks a worker process on that interpreter, in its environment, with the
same plugins: the same worker a cell runs in, started the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.boundary.requests import RunnersQuestion, runners_answer_from_json
from lab.errors import LabError
from lab.run.supervisor import run_worker

if TYPE_CHECKING:
    from lab.boundary.requests import RunnersAnswer, WorkerOptions

#: Seconds an interpreter may take to load the plugins and answer.
ASK_TIMEOUT = 120.0


def unavailable_on(worker: WorkerOptions, timeout: float = ASK_TIMEOUT) -> RunnersAnswer:
    """Each runner's ``unavailable()`` on the worker's interpreter, loading the plugins its
    options name; a :class:`LabError` when the interpreter cannot answer."""
    done = run_worker(RunnersQuestion(worker), timeout)
    label = worker.interpreter.label
    try:
        if done.answer is None:
            raise ValueError(str(done.failure))
        return runners_answer_from_json(done.answer)
    except ValueError as exc:
        raise LabError(f"could not ask {label} which runners it can run: {exc}") from None
