"""Checking option values the measuring commands share; a bad one raises :class:`UsageError`
naming the option."""

from __future__ import annotations

import multiprocessing
import re
from typing import TYPE_CHECKING, Any

import tabulate

from lab.cli import pythons
from lab.errors import UsageError
from lab.plan import limits
from lab.runner import Workers

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping

    from lab.runner import Runner
    from lab.task import Task

DEFAULT_START_METHOD = "spawn"
DEFAULT_TABLEFMT = "simple"
#: A ``--workers`` setting: ``N`` or ``PxT``, in the digits 0-9.
_WORKERS = re.compile(r"\s*([0-9]+)\s*(?:[xX]\s*([0-9]+))?\s*", re.ASCII)


def add_measuring_arguments(parser: argparse.ArgumentParser) -> None:
    """The options ``lab matrix`` and ``lab sweep`` share: how their cells run and show."""
    pythons.add_argument(parser)
    add_start_method_argument(parser)
    add_tablefmt_argument(parser)
    add_wide_argument(parser)
    add_runner_option_argument(parser)
    add_task_option_argument(parser)


def add_saving_arguments(parser: argparse.ArgumentParser, save_help: str) -> None:
    """The files a measuring command writes, ``--save``'s folder, and ``--quiet``."""
    add_output_arguments(parser)
    parser.add_argument("--save", metavar="DIR", help=save_help)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """The files a run can be written to (``lab matrix``, ``lab sweep`` and ``lab report``)."""
    parser.add_argument("--json", metavar="PATH", help="write the run as JSON")
    parser.add_argument("--csv", metavar="PATH", help="write one row per cell as CSV")
    parser.add_argument("--markdown", metavar="PATH", help="write the report as Markdown")
    parser.add_argument("--plot", metavar="DIR", help="write the plots as PNG files in DIR")
    parser.add_argument(
        "--html", metavar="PATH", help="write the report as one HTML page to open in a browser"
    )


def add_tablefmt_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tablefmt",
        default=DEFAULT_TABLEFMT,
        help=f"any tabulate format (default: {DEFAULT_TABLEFMT})",
    )


def add_runner_option_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runner-option",
        action="append",
        default=[],
        metavar="RUNNER.KEY=VALUE",
        help="an option of one runner (lab list shows each runner's); repeatable",
    )


def runner_options(items: list[str], runners: list[Runner]) -> dict[str, dict[str, str]]:
    """``--runner-option`` values by runner, each key known to its runner and the values
    accepted by it; anything else is a :class:`UsageError` naming the item."""
    by_name = {r.name: r for r in runners}
    found = _options("--runner-option", "runner", items, {r.name: r.option_help for r in runners})
    for name, values in found.items():
        problem = by_name[name].check_options(values)
        if problem is not None:
            raise UsageError(f"--runner-option for {name}: {problem}")
    return found


def add_task_option_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--task-option",
        action="append",
        default=[],
        metavar="TASK.KEY=VALUE",
        help="an option of one task (lab list shows each task's); repeatable",
    )


def task_options(
    items: list[str], tasks: list[Task]
) -> tuple[dict[str, dict[str, str]], list[Task]]:
    """``--task-option`` values by task, each key known to its task, and the tasks with them
    in force (each configured once, here); a value its task refuses, or anything else, is a
    :class:`UsageError` naming the item."""
    found = _options("--task-option", "task", items, {t.name: t.option_help for t in tasks})
    configured = []
    for task in tasks:
        try:
            configured.append(task.with_options(found.get(task.name, {})))
        except ValueError as exc:
            raise UsageError(f"--task-option for {task.name}: {exc}") from None
    return found, configured


def _options(
    flag: str, kind: str, items: list[str], option_help: Mapping[str, Mapping[str, str]]
) -> dict[str, dict[str, str]]:
    """``NAME.KEY=VALUE`` items by name, each name one of ``option_help``'s and each key one
    of its; anything else is a :class:`UsageError` naming the item."""
    found: dict[str, dict[str, str]] = {}
    for item in items:
        target, equals, value = item.partition("=")
        name, dot, key = target.strip().partition(".")
        if not equals or not dot or not name or not key.strip():
            raise UsageError(f"{flag} takes {kind.upper()}.KEY=VALUE, not {item!r}")
        if name not in option_help:
            chosen = ", ".join(option_help)
            raise UsageError(f"{flag} {item!r}: {kind} {name!r} is not run ({chosen})")
        key = key.strip()
        if key not in option_help[name]:
            valid = ", ".join(sorted(option_help[name])) or "none"
            raise UsageError(
                f"{flag} {item!r}: {kind} {name!r} has no option {key!r}; its options: {valid}"
            )
        found.setdefault(name, {})[key] = value.strip()
    return found


def add_wide_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wide",
        action="store_true",
        help="every column of the tables, whatever the terminal's width",
    )


def add_start_method_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--start-method",
        default=DEFAULT_START_METHOD,
        help=f"multiprocessing start method: {', '.join(multiprocessing.get_all_start_methods())}"
        f" (default: {DEFAULT_START_METHOD})",
    )


def names(text: str | None, default: list[str], what: str) -> list[str]:
    """A comma-separated list of names; ``default`` (without repeats) when none is given. An
    empty list, an empty item or a name given twice is a :class:`UsageError` naming the
    option."""
    if text is None:
        return list(dict.fromkeys(default))
    found = [n.strip() for n in text.split(",")]
    if not any(found):
        raise UsageError(f"{what} must name at least one, not {text!r}")
    if not all(found):
        raise UsageError(f"{what} has an empty item: {text!r}")
    refuse_repeats(found, found, what, text)
    return found


def refuse_repeats(values: list[Any], given: list[str], what: str, text: str) -> None:
    """A :class:`UsageError` naming the first of ``values`` given twice (as ``given`` spells
    them), as ``--python 3.11,3.11`` and ``--levels 1,1`` are refused."""
    for number, value in enumerate(values):
        if value in values[:number]:
            first = given[values.index(value)]
            twice = f"{first!r}" if first == given[number] else f"{first!r} and {given[number]!r}"
            raise UsageError(f"{what} gives {twice} twice: {text!r}; name each once")


def worker_settings(text: str | None, default: list[str]) -> list[Workers]:
    """The ``--workers`` settings, each checked (:func:`workers`); one given twice (``2,02``)
    is a :class:`UsageError`."""
    given = names(text, default, "--workers")
    found = [workers(w) for w in given]
    if text is not None:
        refuse_repeats(found, given, "--workers", text)
    return list(dict.fromkeys(found))


def job_counts(text: str | None, default: int) -> tuple[int, ...]:
    """The ``--jobs`` counts, each a whole number of at least 1, from the least; one given
    twice (``4,04``) is a :class:`UsageError`."""
    if text is None:
        return (default,)
    given = [count.strip() for count in text.split(",")]
    found = [positive_int(count, "--jobs") for count in given]
    refuse_repeats(found, given, "--jobs", text)
    return tuple(sorted(found))


def check_start_method(name: str) -> str:
    if name not in multiprocessing.get_all_start_methods():
        raise UsageError(
            f"unknown start method {name!r}; valid start methods: "
            + ", ".join(multiprocessing.get_all_start_methods())
        )
    return name


def check_tablefmt(name: str) -> str:
    if name not in tabulate.tabulate_formats:
        raise UsageError(
            f"unknown table format {name!r}; valid formats: "
            + ", ".join(sorted(tabulate.tabulate_formats))
        )
    return name


def positive_int(text: str, what: str, minimum: int = 1) -> int:
    """``text`` as a whole number of at least ``minimum``, written in the digits 0-9
    (:data:`lab.plan.limits.WHOLE`); a :class:`UsageError` naming ``what`` for anything else."""
    value = limits.whole_number(text)
    if value is None:
        raise UsageError(f"{what} must be a whole number{limits.spelling(text)}, not {text!r}")
    if value < minimum:
        raise UsageError(f"{what} must be at least {minimum}, not {text!r}")
    return value


def workers(text: str) -> Workers:
    """One ``--workers`` setting, ``N`` or ``PxT``, in the digits 0-9; a :class:`UsageError`
    naming the option for anything else."""
    match = _WORKERS.fullmatch(text)
    found = [limits.whole_number(n) for n in match.groups() if n] if match else [None]
    numbers = [n for n in found if n is not None]
    if len(numbers) != len(found):
        raise UsageError(
            "--workers must be a whole number or PxT (processes x threads)"
            f"{limits.spelling(text)}, not {text!r}"
        )
    if min(numbers) < 1:
        raise UsageError(f"--workers must be at least 1, not {text!r}")
    return Workers(numbers[0], numbers[1] if len(numbers) > 1 else None)


def percentage(text: str, what: str) -> float:
    """``5%`` or ``5`` as 0.05; a :class:`UsageError` for anything else or a negative value."""
    number = limits.decimal(text.strip().removesuffix("%"))
    if number is None:
        raise UsageError(
            f"{what} must be a percentage such as 5%{limits.spelling(text)}, not {text!r}"
        )
    value = number / 100
    if not 0 <= value < float("inf"):
        raise UsageError(f"{what} must be 0% or more, not {text!r}")
    return value


def positive_float(text: str, what: str) -> float:
    """``text`` as a number of seconds greater than 0, written in the digits 0-9
    (:data:`lab.plan.limits.DECIMAL`: no ``nan`` or ``inf``); a :class:`UsageError` naming
    ``what`` for anything else."""
    value = limits.decimal(text)
    if value is None:
        raise UsageError(f"{what} must be a number of seconds{limits.spelling(text)}, not {text!r}")
    if value == float("inf"):
        raise UsageError(f"{what} is too large: {text!r}")
    if not value > 0:
        raise UsageError(f"{what} must be greater than 0, not {text!r}")
    return value


def size(task: Task, text: str, option: str, allow_large: bool) -> int | float:
    """``task``'s size written as ``text`` for ``option``: a number in the digits 0-9, then
    checked by the task's size; a :class:`UsageError` naming the option."""
    number = limits.decimal(text)
    if number is None:
        raise UsageError(
            f"{option}: {task.name} {task.size.name} must be a number{limits.spelling(text)},"
            f" not {text!r}"
        )
    if number == float("inf"):
        raise UsageError(f"{option}: {task.name} {task.size.name} is too large: {text!r}")
    try:
        return task.size.parse(text, task=task.name, allow_large=allow_large)
    except UsageError as exc:
        raise UsageError(f"{option}: {exc}") from None
