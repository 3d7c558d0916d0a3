"""Building the plugin manager: blocked names, entry points, ``-p`` modules, then checks.

Nothing is loaded at import time; every caller (the CLI, a cell's worker, a test) builds its
own manager with :func:`get_plugin_manager`. ``LAB_DISABLE_PLUGIN_AUTOLOAD`` stops the
third-party entry points only, as pytest's variable does: the built-in plugins (this
distribution's own entry points) always load unless blocked.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys
import types
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pluggy

from lab import hookspecs
from lab.distributions import LAB_DISTRIBUTION, normalized, plugin_entry_points
from lab.errors import PluginError, UsageError
from lab.jobs import describe_exception
from lab.markers import PROJECT_NAME

if TYPE_CHECKING:
    from collections.abc import Iterable

AUTOLOAD_ENV = "LAB_DISABLE_PLUGIN_AUTOLOAD"
TRACE_ENV = "LAB_TRACE_PLUGINS"


@dataclass(frozen=True)
class PluginSelection:
    """How to load plugins: what the CLI's ``-p`` and ``--strict-plugins`` said.

    :param blocked: plugin names not to load (``-p no:NAME``).
    :param modules: modules to import and register (``-p MODULE``).
    :param strict: a plugin that fails to load is fatal instead of a warning.
    :param autoload: load third-party entry points; ``None``: unless
        ``LAB_DISABLE_PLUGIN_AUTOLOAD`` is set.
    :param builtins: load the built-in plugins; ``False`` only for a test that wants nothing
        but its own plugins.
    """

    blocked: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    strict: bool = False
    autoload: bool | None = None
    builtins: bool = True

    @classmethod
    def from_args(cls, plugin_args: Iterable[str], strict: bool = False) -> PluginSelection:
        """The options ``-p`` gave; an empty name is a :class:`UsageError`."""
        plugin_args = list(plugin_args)
        for argument in plugin_args:
            if not argument.removeprefix("no:").strip():
                raise UsageError(f"-p needs a plugin name, not {argument!r}")
        blocked = tuple(a[3:] for a in plugin_args if a.startswith("no:"))
        modules = tuple(a for a in plugin_args if not a.startswith("no:"))
        return cls(blocked=blocked, modules=modules, strict=strict)

    def should_autoload(self) -> bool:
        """Whether third-party entry points load (the built-in ones do unless blocked)."""
        if self.autoload is not None:
            return self.autoload
        return not os.environ.get(AUTOLOAD_ENV)


@dataclass
class LoadReport:
    """What loading said: one-line warnings, and the distribution behind each plugin name."""

    warnings: list[str] = field(default_factory=list)
    distributions: dict[str, str] = field(default_factory=dict)

    def origin(self, plugin_name: str) -> str:
        dist = self.distributions.get(plugin_name)
        return f"plugin {plugin_name!r} ({dist})" if dist else f"plugin {plugin_name!r}"


def get_plugin_manager(
    options: PluginSelection | None = None, plugins: Iterable[object] = ()
) -> tuple[pluggy.PluginManager, LoadReport]:
    """A manager with the lab's hookspecs and every plugin loaded, plus what loading said.

    Order: blocked names, entry points of group ``lab`` (the built-in ones always, third-party
    ones unless autoload is off), ``plugins`` given as objects (tests), ``-p`` modules, then a
    check for hooks that no spec knows. A plugin that fails is skipped with a warning, or
    raises :class:`PluginError` when strict.
    """
    options = options or PluginSelection()
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    if os.environ.get(TRACE_ENV):
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()
    report = LoadReport()
    for name in options.blocked:
        pm.set_blocked(name)
    autoload = options.should_autoload()
    if autoload or options.builtins:
        for entry_point in plugin_entry_points(report.warnings.append):
            if pm.is_blocked(entry_point.name) or pm.has_plugin(entry_point.name):
                continue
            if not (options.builtins if is_builtin(entry_point) else autoload):
                continue
            dist = entry_point.dist
            if dist is not None:
                report.distributions[entry_point.name] = f"{dist.name} {dist.version}"
            _load(pm, report, options, entry_point.name, entry_point.load)
    for plugin in plugins:
        _register(pm, report, options, plugin, name=None)
    for module_name in options.modules:
        if not pm.is_blocked(module_name):
            _load(pm, report, options, module_name, lambda m=module_name: _import(m))
    _drop_plugins_with_unknown_hooks(pm, report, options)
    return pm, report


def is_builtin(entry_point: importlib.metadata.EntryPoint) -> bool:
    """Whether ``entry_point`` is one of the built-in plugins: it comes with this project."""
    dist = entry_point.dist
    return dist is not None and normalized(dist.name) == LAB_DISTRIBUTION


def _import(reference: str) -> object:
    """The plugin ``reference`` names: a module, or ``module:attribute``. A module found
    nowhere on the import path is looked for in the current folder too, as ``python -m lab``
    finds it (put last, so it shadows nothing installed; workers inherit the path)."""
    module_name, _, attribute = reference.partition(":")
    try:
        found: object = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        here = os.getcwd()
        top = module_name.partition(".")[0]
        if exc.name != top or {here, "", os.curdir} & set(sys.path):
            raise
        sys.path.append(here)
        try:
            found = importlib.import_module(module_name)
        except ModuleNotFoundError:
            sys.path.remove(here)
            raise exc from None
    for part in filter(None, attribute.split(".")):
        found = getattr(found, part)
    return found


def plugin_reference(plugin: object) -> str:
    """How a worker process imports ``plugin``: a module's name, or ``module:name`` for an
    object bound to a name at the top of its module (a class, a function, an instance). A
    plugin no other process can import is a :class:`UsageError`."""
    if isinstance(plugin, types.ModuleType):
        reference = plugin.__name__
    else:
        module_name = getattr(plugin, "__module__", None) or type(plugin).__module__
        module = sys.modules.get(module_name)
        names = [n for n, value in vars(module).items() if value is plugin] if module else []
        reference = f"{module_name}:{names[0]}" if names else ""
    try:
        importable = bool(reference) and not reference.startswith("__main__")
        importable = importable and _import(reference) is plugin
    except Exception:
        importable = False
    if not importable:
        raise UsageError(
            f"plugin {plugin!r} cannot reach the cells' worker processes: give a module, or an"
            " object they can import by its module and name"
        )
    return reference


def _load(
    pm: pluggy.PluginManager,
    report: LoadReport,
    options: PluginSelection,
    name: str,
    load: object,
) -> None:
    assert callable(load)
    try:
        plugin = load()
    except (Exception, SystemExit) as exc:  # a plugin's sys.exit() at import is its failure
        _fail(report, options, f"{report.origin(name)} failed to import: {describe_exception(exc)}")
        return
    _register(pm, report, options, plugin, name=name)


def _register(
    pm: pluggy.PluginManager,
    report: LoadReport,
    options: PluginSelection,
    plugin: object,
    name: str | None,
) -> None:
    try:
        pm.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        label = name or pm.get_canonical_name(plugin)
        _fail(report, options, f"{report.origin(label)} is invalid: {_first_line(exc)}")


def _drop_plugins_with_unknown_hooks(
    pm: pluggy.PluginManager, report: LoadReport, options: PluginSelection
) -> None:
    """Unregister every plugin that implements a hook no spec declares (a misspelt hook)."""
    while True:
        try:
            pm.check_pending()
            return
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin) or pm.get_canonical_name(exc.plugin)
            pm.unregister(exc.plugin)
            _fail(report, options, f"{report.origin(name)} is invalid: {_first_line(exc)}")


def _fail(report: LoadReport, options: PluginSelection, message: str) -> None:
    if options.strict:
        raise PluginError(message)
    report.warnings.append(f"{message}; skipped it")


def _first_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
