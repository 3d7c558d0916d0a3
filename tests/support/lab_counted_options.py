"""A task that counts, in each process, how often its options were applied (``configure``),
loaded with ``-p lab_counted_options``: each job returns its process's count."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from lab import Size, Task, hookimpl

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

#: How often ``configure`` ran in this process.
APPLIED = [0]


def applied(size: float) -> int:
    return APPLIED[0]


def configure(options: Mapping[str, str]) -> Task:
    APPLIED[0] += 1
    return replace(COUNTED, options=dict(options))


COUNTED = Task(
    name="counted-options",
    description="returns how often its options were applied in the job's process",
    bound="io",
    forms={"sync": applied},
    size=Size(name="seconds", kind=float, default=0.01, soft_limit=10.0, unit=" s"),
    option_help={"mark": "any value (default: none)"},
    configure=configure,
    options={"mark": ""},
)


@hookimpl
def lab_register_tasks(register: Callable[[Task], None]) -> None:
    register(COUNTED)
