"""``lab.measure``: ``lab run`` from Python, for a script or a notebook.

It runs what ``lab run`` runs (:class:`lab.cli.own_run.OwnRun`: the same checks, cell workers,
isolation, timeouts and validation) and hands back the results, quietly unless asked; bad
input is a :class:`lab.errors.UsageError` before anything runs, as ``lab run`` exits 2.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.cli.own_run import OwnRun
from lab.errors import UsageError
from lab.host.manager import PluginSelection
from lab.host.registry import load_catalog
from lab.own import items as own_items
from lab.own import literals, reference
from lab.report.fit import terminal_width
from lab.report.markdown_csv import to_markdown, to_rows
from lab.report.output_files import file_path, write_file
from lab.report.own_verdict import render_own_verdict
from lab.report.terminal import render
from lab.results.analysis import analyse
from lab.run import reaping

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from lab.results.model import Results

#: The table format of the text a :class:`Measured` shows.
TABLEFMT = "simple"
#: How ``lab run``'s options read in the errors of :func:`measure`: its keywords.
_KEYWORDS = {
    "--allow-large": "allow_large=True",
    "--async": "async_twin=",
    "--items-file": "items=",
    "--items": "items=",
    "--jobs": "jobs=",
    "--json": "json=",
    "--kw": "kwargs",
    "--python": "python=",
    "--repeat": "repeat=",
    "--runners": "runners=",
    "--timeout": "timeout=",
    "--workers": "workers=",
}
_FLAG = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, _KEYWORDS)) + r")(?![\w-])")
#: The command errors name.
COMMAND = "lab.measure"
#: Held while :func:`measure` runs: one run at a time in a process, as on the machine.
_RUNNING = threading.Lock()


class Measured:
    """What :func:`measure` measured: the run (:attr:`results`), and its report as ``lab run``
    prints it and ``lab report`` reads it back.

    In IPython and Jupyter its rich display is the report as Markdown, its plain display the
    text report; ``str()`` is the text report too.
    """

    def __init__(self, results: Results, exit_code: int) -> None:
        #: The run as data: :class:`lab.results.model.Results`.
        self.results = results
        #: What ``lab run`` would have exited with: 0, 1 when a cell failed (an error, a
        #: different answer), 130 or 143 when the run was interrupted.
        self.exit_code = exit_code

    @property
    def verdict(self) -> str:
        """The verdict on the function, as the terminal shows it."""
        return render_own_verdict(analyse(self.results), TABLEFMT, terminal_width())

    @property
    def table(self) -> str:
        """The whole text report, as ``lab report`` prints it: the facts, the table of cells,
        the legend and the verdict."""
        return render(self.results, TABLEFMT, terminal_width())

    @property
    def rows(self) -> list[dict[str, object]]:
        """One dict per cell, with the CSV export's fields (``None`` where it has none)."""
        return to_rows(self.results)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the run as JSON to ``path`` (what ``lab report PATH`` reads) and return the
        path; a :class:`UsageError` for a path that cannot be written."""
        found = file_path(os.fspath(path), "save")
        write_file(found, self.results.to_json())
        return found

    def __str__(self) -> str:
        return self.table

    def __repr__(self) -> str:
        names = ", ".join(t.name for t in self.results.tasks)
        return f"<Measured {names}: {len(self.results.cells)} cells, exit code {self.exit_code}>"

    def _repr_markdown_(self) -> str:
        return to_markdown(self.results)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self) if cycle else self.table)


def measure(
    func: Callable[..., object] | str,
    /,
    *args: object,
    kwargs: Mapping[str, object] | None = None,
    items: Iterable[object] | str | os.PathLike[str] | None = None,
    async_twin: Callable[..., object] | str | None = None,
    runners: Iterable[str] | str | None = None,
    workers: Iterable[int | str] | int | str | None = None,
    jobs: int | None = None,
    repeat: int | None = None,
    timeout: float | None = None,
    python: Iterable[str] | str | None = None,
    json: str | os.PathLike[str] | None = None,
    allow_large: bool = False,
    quiet: bool = True,
) -> Measured:
    """Measure ``func(*args, **kwargs)`` on every runner that can run it, as ``lab run`` does,
    and return the results.

    :param func: the function. One at module level of an importable module is imported by
        name in every worker (``module:qualname``), as is one in a script run as
        ``python script.py`` (by the script's path: its top level must be guarded by
        ``if __name__ == "__main__":``, as multiprocessing requires, since every worker
        imports it). Any other (defined in a notebook or the REPL, a lambda, a closure, a
        nested function) is pickled by value with cloudpickle and loaded again in whichever
        process runs a job; a runner that cannot load it there has error cells saying why. A
        ``MODULE:FUNCTION`` text is taken as ``lab run`` takes it.
    :param args: the positional arguments, each a Python literal (numbers, strings, bytes,
        tuples, lists, dicts, sets, None, booleans): they travel to the workers as text.
    :param kwargs: the keyword arguments, literals too.
    :param items: one job per item, the item the call's first argument: an iterable of
        literals, a ``MODULE:NAME`` text (an iterable in a module, or a function making one),
        or a path to a JSON Lines file (a ``.jsonl`` text, or a path object).
    :param async_twin: the function's ``async def`` twin (taking the same arguments), for the
        event-loop runners; referenced like ``func``.
    :param runners: runner names (default: every runner); the baseline is always added.
    :param workers: worker settings, each a number or a ``"PxT"`` text (default: 1 and the
        usable CPUs).
    :param jobs: calls a cell (default: one per item, else 2 x the largest workers).
    :param repeat: measured runs of each cell (default: 3).
    :param timeout: seconds one run of a cell may take before it is killed.
    :param python: interpreters to measure on, as ``--python`` names them (``"3.13"``, a path).
    :param json: also write the run to this JSON file as it goes.
    :param allow_large: go past the soft limits.
    :param quiet: print nothing (the default); ``False`` prints what ``lab run`` prints.
    :returns: a :class:`Measured`.
    :raises UsageError: for bad input, before anything runs (another :class:`lab.errors.LabError`
        when another lab is measuring on this machine).
    :raises KeyboardInterrupt: when interrupted before anything was measured (interrupted
        later, the results say what was measured and ``exit_code`` is 130).
    """
    if reference.importing():
        raise UsageError(
            f"{COMMAND} was called while the lab imported the module that calls it (as every worker"
            ' does): guard the script\'s top level with `if __name__ == "__main__":`'
        )
    if not _RUNNING.acquire(blocking=False):
        raise UsageError(f"{COMMAND} is already measuring in this process: one run at a time")
    try:
        return _measure(
            func, args, kwargs, items, async_twin, runners, workers, jobs, repeat, timeout,
            python, json, allow_large, quiet,
        )  # fmt: skip
    finally:
        _RUNNING.release()


def _measure(
    func: Callable[..., object] | str,
    args: tuple[object, ...],
    kwargs: Mapping[str, object] | None,
    items: Iterable[object] | str | os.PathLike[str] | None,
    async_twin: Callable[..., object] | str | None,
    runners: Iterable[str] | str | None,
    workers: Iterable[int | str] | int | str | None,
    jobs: int | None,
    repeat: int | None,
    timeout: float | None,
    python: Iterable[str] | str | None,
    json: str | os.PathLike[str] | None,
    allow_large: bool,
    quiet: bool,
) -> Measured:
    function, pickled = _named(func, "the function")
    twin, twin_pickled = ("", "") if async_twin is None else _named(async_twin, "async_twin=")
    literal_args = tuple(
        literals.literal_text(value, f"argument {number}") for number, value in enumerate(args)
    )
    keywords = tuple(f"{name}={text}" for name, text in _keywords(kwargs))
    sources: dict[str, str] = {}
    try:
        sources = _items(items)
        run = OwnRun(
            function=function,
            args=literal_args,
            kw=keywords,
            async_twin=twin or None,
            pickled=pickled,
            async_pickled=twin_pickled,
            runners=_names(runners, "runners="),
            workers=_workers(workers),
            jobs=_count(jobs, "jobs="),
            repeat=_count(repeat, "repeat="),
            timeout=_seconds(timeout),
            python=_names(python, "python="),
            allow_large=allow_large,
            outputs={"json": None if json is None else os.fspath(json)},
            quiet=quiet,
            silent=quiet,
            command=COMMAND,
            items=sources.get("items"),
            items_file=sources.get("items_file"),
            items_literals=sources.get("items_literals"),
        )
        selection = PluginSelection()
        catalog, report, _ = load_catalog(selection)
        for warning in report.warnings:
            print(f"lab: warning: {warning}", file=sys.stderr)
        catalog.check_conflicts()
        try:
            outcome = run.measure(catalog, selection)
        except UsageError as exc:
            raise UsageError(_FLAG.sub(lambda m: _KEYWORDS[m.group(1)], str(exc))) from None
    finally:
        if "items_literals" in sources:
            with contextlib.suppress(OSError):
                os.unlink(sources["items_literals"])
        own_items.forget()
        reference.forget()
        reaping.release()  # this process goes on: no watcher, and orphans are not its own
    if outcome.results is None:
        raise outcome.interrupted or KeyboardInterrupt()
    return Measured(outcome.results, outcome.code)


def _named(found: object, what: str) -> tuple[str, str]:
    """How the workers reach ``found``: its reference's text, and its pickle (base64) when it
    travels by value (``""`` when they import it by name)."""
    if isinstance(found, str):
        return found, ""
    if not callable(found):
        raise UsageError(f"{what} must be callable, not {type(found).__name__}")
    text = importable(found)
    if text is not None:
        return text, ""
    module = getattr(found, "__module__", None) or "__main__"
    name = getattr(found, "__qualname__", None) or type(found).__name__
    text = f"{module}{reference.SEPARATOR}{name}"
    return text, reference.pickle_by_value(found, text, what)


def importable(found: object) -> str | None:
    """``found``'s reference, where every worker can import it by name: ``module:qualname``
    for a module-level function of an importable module (``found`` itself is what the name
    leads to), or the script's path for one in the ``__main__`` of ``python script.py``;
    ``None`` for any other (a notebook's, a lambda, a closure, a method)."""
    module_name = getattr(found, "__module__", None)
    qualname = getattr(found, "__qualname__", None)
    if not isinstance(module_name, str) or not isinstance(qualname, str):
        return None
    if not all(part.isidentifier() for part in qualname.split(".")):
        return None  # <lambda>, <locals>
    module = sys.modules.get(module_name)
    if module is None or _attribute(module, qualname) is not found:
        return None
    spec = getattr(module, "__spec__", None)
    if module_name != "__main__":
        return f"{module_name}:{qualname}" if spec is not None else None
    if spec is not None and spec.name not in ("__main__", None):  # python -m pkg.module
        return f"{spec.name}:{qualname}"
    path = getattr(module, "__file__", None)
    if not isinstance(path, str) or not path.endswith(".py"):
        return None  # a notebook, the REPL, python -c
    script = Path(path).absolute()
    stem = script.stem
    taken = sys.modules.get(stem)
    if not stem.isidentifier() or stem in sys.stdlib_module_names:
        return None  # it cannot be imported as a module of its own name
    if taken is not None and getattr(taken, "__file__", None) != str(script):
        return None
    return f"{script}:{qualname}"


def _attribute(module: object, qualname: str) -> object:
    found: object = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found


def _keywords(kwargs: Mapping[str, object] | None) -> list[tuple[str, str]]:
    if kwargs is None:
        return []
    if not hasattr(kwargs, "items"):
        raise UsageError(f"kwargs= must be a dict, not {type(kwargs).__name__}")
    found = []
    for name, value in kwargs.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise UsageError(f"kwargs= names must be Python names, not {name!r}")
        found.append((name, literals.literal_text(value, f"kwargs {name}")))
    return found


def _items(given: object) -> dict[str, str]:
    """The items option ``given`` makes: its field of :class:`OwnRun` and its text (none for
    no items); items given as values are written to a temporary file."""
    if given is None:
        return {}
    if isinstance(given, os.PathLike) or (isinstance(given, str) and given.endswith(".jsonl")):
        return {"items_file": os.fspath(given)}
    if isinstance(given, str):
        return {"items": given}
    if isinstance(given, bytes | bytearray | dict) or not hasattr(given, "__iter__"):
        raise UsageError(
            f"items= must be an iterable of items, a MODULE:NAME text or a .jsonl path, not"
            f" {type(given).__name__}"
        )
    return {"items_literals": own_items.write_literals(given)}


def _names(given: Iterable[str] | str | None, what: str) -> str | None:
    """Names as ``--runners`` or ``--python`` take them: comma-separated."""
    if given is None or isinstance(given, str):
        return given
    found = list(given)
    if not all(isinstance(name, str) for name in found):
        raise UsageError(f"{what} takes names (texts), not {found!r}")
    if any("," in name for name in found):
        raise UsageError(f"{what} takes one name an item, not {found!r}")
    return ",".join(found)


def _workers(given: Iterable[int | str] | int | str | None) -> str | None:
    """Worker settings as ``--workers`` takes them."""
    if given is None or isinstance(given, str):
        return given
    settings = [given] if isinstance(given, int) else list(given)
    texts = []
    for setting in settings:
        if isinstance(setting, bool) or not isinstance(setting, int | str):
            raise UsageError(f"workers= takes numbers or 'PxT' texts, not {setting!r}")
        if isinstance(setting, str) and "," in setting:
            raise UsageError(f"workers= takes one setting an item, not {setting!r}")
        texts.append(str(setting))
    return ",".join(texts)


def _count(given: int | None, what: str) -> str | None:
    if given is None:
        return None
    if isinstance(given, bool) or not isinstance(given, int):
        raise UsageError(f"{what} must be a whole number, not {given!r}")
    if given < 1:
        raise UsageError(f"{what} must be at least 1, not {given!r}")
    return str(given)


def _seconds(given: float | None) -> str | None:
    if given is None:
        return None
    if isinstance(given, bool) or not isinstance(given, int | float):
        raise UsageError(f"timeout= must be a number of seconds, not {given!r}")
    if not (given > 0 and math.isfinite(given)):
        raise UsageError(f"timeout= must be a finite number of seconds above 0, not {given!r}")
    return repr(float(given))
