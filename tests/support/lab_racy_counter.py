"""The shared counter without its lock, loaded with ``-p lab_racy_counter``: on threads its
jobs lose updates, and the cell must be an error that says so, never a figure."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from lab import ONE_INTERPRETER, OTHER_INTERPRETERS, OTHER_PROCESSES, Task, hookimpl
from lab_plugins.sharing import (
    SHARED_COUNTER,
    LocalCounter,
    check_counted,
    local_counter,
    settle_counter,
)

if TYPE_CHECKING:
    from collections.abc import Callable


def racy_count_up(counter: LocalCounter) -> int:
    """Read the count, let another thread run, write it back one more: no lock, so two threads
    that read the same count write the same count, and one increment is lost."""
    for _ in range(counter.increments):
        value = counter.value
        time.sleep(0)  # releases the GIL: another thread reads the same value meanwhile
        counter.value = value + 1
    return counter.increments


RACY_COUNTER = Task(
    name="racy-counter",
    description="the shared counter without its lock: read, yield, write",
    bound="transfer",
    forms={"sync": racy_count_up},
    size=SHARED_COUNTER.size,
    check=check_counted,
    shared={ONE_INTERPRETER: local_counter},
    shared_reasons={
        OTHER_PROCESSES: "the racy counter is a plain attribute: for threads only",
        OTHER_INTERPRETERS: "the racy counter is a plain attribute: for threads only",
    },
    settle=settle_counter,
)


@hookimpl
def lab_register_tasks(register: Callable[[Task], None]) -> None:
    register(RACY_COUNTER)
