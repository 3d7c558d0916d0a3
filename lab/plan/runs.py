"""What every planned run shares, a matrix or a sweep: each interpreter's answer on which
runners it can run, each task as the run uses it, and the results its cells fill."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lab.results.model import Results, TaskInfo
from lab.run.availability import unavailable_on

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lab.boundary.requests import RunnersAnswer
    from lab.machine.metadata import Metadata
    from lab.results.model import Cell
    from lab.run.rounds import Rounds
    from lab.task import Task


def availability(rounds: Rounds) -> dict[str, RunnersAnswer]:
    """Each runner's ``unavailable()`` as each ``--python`` interpreter answers it, by label."""
    return {i.label: unavailable_on(rounds.worker.on(i)) for i in rounds.interpreters}


def task_info(task: Task, size: int | float, how: str = "") -> TaskInfo:
    """``task`` as the run uses it: at ``size``, chosen as ``how`` says."""
    return TaskInfo(
        name=task.name,
        description=task.description,
        bound=task.bound,
        size_name=task.size.name,
        size=size,
        size_text=task.size.format(size),
        how=how,
        shares_state=bool(task.shared),
        operation=task.operation,
        options=dict(task.options),
        session_name=task.session_name if task.session is not None else "",
        releases_gil=task.releases_gil,
        same_answers=task.same_answers,
    )


def new_results(
    kind: str,
    facts: Metadata,
    rounds: Rounds,
    tasks: Sequence[TaskInfo],
    cells: list[Cell],
    **settings: Any,
) -> Results:
    """The unmeasured results of a run of ``kind`` (``"matrix"``, ``"sweep"``), whose own
    ``settings`` come first (its jobs; a sweep's levels)."""
    return Results(
        metadata=facts,
        settings={
            "kind": kind,
            **settings,
            "warmups": rounds.warmups,
            "repeat": rounds.repeat,
            "timeout": rounds.timeout,
            "start_method": rounds.start_method,
        },
        tasks=list(tasks),
        cells=cells,
        complete=False,
        interpreters=[i.to_data() for i in rounds.interpreters],
    )
