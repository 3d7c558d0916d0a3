"""Collecting what plugins register, one plugin at a time, so duplicates name both plugins.

A name two plugins register is a conflict: the listings still work and show it, a measuring
command refuses to start (:meth:`Catalog.check_conflicts`), and using the name is an error
naming both plugins; blocking one plugin (``-p no:NAME``) resolves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from lab.errors import PluginError, UsageError
from lab.host.manager import PluginSelection, get_plugin_manager
from lab.jobs import describe_exception
from lab.runner import Runner, bookkeeping_problem
from lab.task import Task

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    import pluggy

    from lab.host.manager import LoadReport

T = TypeVar("T", Runner, Task)


@dataclass
class Registry(Generic[T]):
    """Named items of one kind and the plugin that registered each."""

    kind: str
    item_type: type
    items: dict[str, T] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    #: Names registered more than once, with every plugin that registered each.
    conflicts: dict[str, list[str]] = field(default_factory=dict)

    def register_for(self, owner: str) -> Callable[[T], None]:
        """The ``register`` callable handed to one plugin's hook."""

        def register(item: T) -> None:
            if not isinstance(item, self.item_type):
                raise PluginError(
                    f"{owner} registered {item!r} as a {self.kind}, "
                    f"but it is not a {self.item_type.__name__}"
                )
            problem = bookkeeping_problem(item) if isinstance(item, Runner) else None
            if problem is not None:
                raise ValueError(f"runner {item.name!r}: {problem}")
            name = item.name
            if name in self.items:
                self.conflicts.setdefault(name, [self.owners[name]]).append(owner)
                return
            self.items[name] = item
            self.owners[name] = owner

        return register

    def drop(self, owner: str) -> None:
        """Forget everything ``owner`` registered."""
        for name in [n for n, o in self.owners.items() if o == owner]:
            del self.items[name], self.owners[name]
        for name, owners in list(self.conflicts.items()):
            owners[:] = [o for o in owners if o != owner]
            if len(owners) < 2:
                del self.conflicts[name]

    def get(self, name: str) -> T:
        """The item called ``name``; an unknown name lists the valid ones, a name two plugins
        registered names both."""
        if name in self.conflicts:
            raise PluginError(self.conflict(name))
        try:
            return self.items[name]
        except KeyError:
            valid = ", ".join(sorted(self.items)) or "none"
            raise UsageError(f"unknown {self.kind} {name!r}; valid {self.kind}s: {valid}") from None

    def conflict(self, name: str) -> str:
        """What to say of a name more than one plugin registered."""
        owners = self.conflicts[name]
        both = "both " + " and ".join(owners) if len(owners) == 2 else ", ".join(owners)
        return f"{self.kind} {name!r} is registered by {both}; block one with -p no:NAME"

    def names(self) -> list[str]:
        return list(self.items)


@dataclass
class Catalog:
    """Every runner and task the loaded plugins registered."""

    runners: Registry[Runner]
    tasks: Registry[Task]

    def conflicts(self) -> list[str]:
        """One line for each name more than one plugin registered."""
        return [
            registry.conflict(name)
            for registry in (self.runners, self.tasks)
            for name in registry.conflicts
        ]

    def check_conflicts(self) -> None:
        """Raise :class:`PluginError` for the first name two plugins registered: a measuring
        command cannot tell which one the user, or a cell's worker, means."""
        for conflict in self.conflicts():
            raise PluginError(conflict)


def collect(pm: pluggy.PluginManager, report: LoadReport, strict: bool = False) -> Catalog:
    """Call each registration hook plugin by plugin and gather what they register.

    A plugin whose hook raises loses everything it registered and is reported (fatal when
    ``strict``); a name registered twice is kept as a conflict (:attr:`Registry.conflicts`).
    """
    runners: Registry[Runner] = Registry("runner", Runner)
    tasks: Registry[Task] = Registry("task", Task)
    _call_per_plugin(pm, report, "lab_register_tasks", tasks, strict)
    _call_per_plugin(pm, report, "lab_register_runners", runners, strict)
    return Catalog(runners=runners, tasks=tasks)


def _call_per_plugin(
    pm: pluggy.PluginManager,
    report: LoadReport,
    hook_name: str,
    registry: Registry[T],
    strict: bool,
) -> None:
    hook = getattr(pm.hook, hook_name)
    plugins = [plugin for _, plugin in pm.list_name_plugin() if plugin is not None]
    for impl in hook.get_hookimpls():
        others = [p for p in plugins if p is not impl.plugin]
        owner = report.origin(impl.plugin_name)
        caller = pm.subset_hook_caller(hook_name, remove_plugins=others)
        try:
            caller(register=registry.register_for(owner))
        except PluginError:
            raise
        except Exception as exc:
            registry.drop(owner)
            message = f"{owner} failed in {hook_name}: {describe_exception(exc)}"
            if strict:
                raise PluginError(message) from exc
            report.warnings.append(f"{message}; skipped it")


def load_catalog(
    options: PluginSelection | None = None, plugins: Iterable[object] = ()
) -> tuple[Catalog, LoadReport, pluggy.PluginManager]:
    """Load the plugins and collect their runners and tasks."""
    options = options or PluginSelection()
    pm, report = get_plugin_manager(options, plugins)
    return collect(pm, report, strict=options.strict), report, pm
