"""Hook specifications: what a lab plugin may implement.

Plugins implement these with ``@lab.hookimpl`` on module-level functions of the same name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.markers import hookspec

if TYPE_CHECKING:
    from collections.abc import Callable

    from lab.runner import Runner
    from lab.task import Task


@hookspec
def lab_register_runners(register: Callable[[Runner], None]) -> None:
    """Register the runners this plugin provides.

    Called once per plugin when the lab collects its runners, in the lab itself and again in
    every cell's worker process.

    :param register: call it with each :class:`lab.Runner` instance; a runner name that another
        plugin already registered is an error naming both plugins.
    :returns: nothing; results are ignored.
    """


@hookspec
def lab_register_tasks(register: Callable[[Task], None]) -> None:
    """Register the tasks this plugin provides.

    Called once per plugin when the lab collects its tasks, in the lab itself and again in every
    cell's worker process.

    :param register: call it with each :class:`lab.Task`; a task name that another plugin already
        registered is an error naming both plugins.
    :returns: nothing; results are ignored.
    """
