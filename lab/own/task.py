"""A user's function as a task: built from its reference and the options that carry its
arguments, in the lab and again in every cell's worker, as a plugin's task is."""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.errors import UsageError
from lab.own import items, literals, reference
from lab.own.calls import Call, call, call_async, call_probed, for_job
from lab.results.model import UNSIZED
from lab.task import SYNC, Bound, Size, Task

if TYPE_CHECKING:
    from collections.abc import Mapping

#: The forms an async twin serves: asyncio's loops and anyio's backends.
ASYNC_FORMS = ("asyncio", "anyio")
#: The option that makes a job report its thread's time on and waiting for a CPU instead of
#: the function's result: how the lab tells the kind of work.
PROBE = "probe"
#: The options that say what a job calls, as ``--task-option`` would carry them.
OPTION_HELP = {
    "args": "the positional arguments, a JSON list of their texts as written",
    "kwargs": "the keyword arguments, a JSON object of their texts as written",
    "async": "the function's async twin, MODULE:FUNCTION, for event loops",
    "items": "MODULE:NAME of the items, one a job, each the call's first argument",
    "items_file": "a JSON Lines file of the items, one a job, each the call's first argument",
    "items_literals": "a file of Python literals, one a line: the items, one a job, each the"
    " call's first argument",
    "items_digest": "what the items are: every worker checks that it loaded the same",
    "source": "a digest of the function's source file, as the lab found it",
    "pickled": "the function itself, pickled by value (base64): one no process imports by name",
    "async_pickled": "the async twin, pickled by value (base64)",
    "pickled_on": "the Python version that pickled them: the only one that loads them",
    PROBE: "yes: each job returns its thread's time on and waiting for a CPU",
}
#: Where the items may come from: the option that names them, and the flag that gave it.
ITEM_SOURCES = {
    "items": items.ITEMS,
    "items_file": items.ITEMS_FILE,
    "items_literals": items.ITEMS_LITERALS,
}
#: A user's function has no size: each job is one call.
CALL = Size(UNSIZED, int, 1, 1)


def own_options(
    function: str,
    args: list[str],
    kwargs: list[str],
    async_twin: str | None = None,
    items_from: str | None = None,
    items_file: str | None = None,
    *,
    items_literals: str | None = None,
    pickled: str = "",
    async_pickled: str = "",
) -> dict[str, str]:
    """The options of a user's function's task, from the texts the user wrote: what each job
    calls, and what the run records of it (the source's digest, the items' digest). A function
    (or twin) ``pickled`` by value travels in them, with the Python version that pickled it."""
    found = {"args": json.dumps(args), "kwargs": json.dumps(dict(literals_texts(kwargs)))}
    if async_twin:
        found["async"] = async_twin
    sources = [s for s in (items_from, items_file, items_literals) if s is not None]
    if len(sources) > 1:
        raise UsageError("give the items once: --items or --items-file, not both")
    if items_from is not None:
        found["items"] = items_from
    elif items_file is not None:
        found["items_file"] = str(Path(items_file).absolute())
    elif items_literals is not None:
        found["items_literals"] = str(Path(items_literals).absolute())
    if pickled:
        found["pickled"] = pickled
    if async_pickled:
        found["async_pickled"] = async_pickled
    if pickled or async_pickled:
        found["pickled_on"] = python_version()
    source = reference.source_digest(function_reference(function, found))
    if source:
        found["source"] = source
    if loaded := own_items(found):
        found["items_digest"] = items.digest(loaded)
    return found


def own_items(options: Mapping[str, str]) -> tuple[Any, ...]:
    """The items the options name (none: every job takes the same arguments)."""
    for key, flag in ITEM_SOURCES.items():
        if key in options:
            return items.load(options[key], flag)
    return ()


def literals_texts(items: list[str]) -> list[tuple[str, str]]:
    """``NAME=VALUE`` items as (name, the value's text), each checked."""
    pairs = []
    for item in items:
        name, _ = literals.keyword(item)
        pairs.append((name, item.partition("=")[2]))
    return pairs


def own_task(
    name: str, options: Mapping[str, str], bound: Bound = "cpu", description: str = ""
) -> Task:
    """The task that calls the function ``name`` names with the arguments ``options`` carry,
    judged as ``bound`` work (as the lab measured it); a :class:`UsageError` for anything that
    cannot be called so."""
    function = function_reference(name, options)
    args = tuple(literals.literal(text, "the argument") for text in _texts(options, "args"))
    kwargs = tuple(
        (key, literals.literal(text, f"--kw {key}"))
        for key, text in dict(json.loads(options.get("kwargs", "{}"))).items()
    )
    twin = twin_reference(options)
    loaded = own_items(options)
    if loaded and items.digest(loaded) != options.get("items_digest"):
        raise UsageError(
            "the items loaded here differ from those the lab loaded: make them the same in"
            " every process (sorted, not random)"
        )
    job = Call(function, args, kwargs, twin, loaded)
    async_only = twin is None and is_coroutine_function(reference.check(function, name))
    forms: dict[str, Any] = {}
    if options.get(PROBE):
        forms[SYNC] = call_probed
    elif not async_only:
        forms[SYNC] = call
    if twin is not None or async_only:
        forms.update(dict.fromkeys(ASYNC_FORMS, call_async))
    missing = (
        f"{function.short} is an async def: it runs on event loops"
        if async_only
        else f"{function.short} has no async twin: give one with --async"
    )
    return Task(
        name=name,
        description=description or f"your function {function.text}",
        bound=bound,
        forms=forms,
        size=CALL,
        argument=lambda _: job,
        job_argument=for_job if loaded else None,
        missing_form_reason=missing,
        option_help=OPTION_HELP,
        options=dict(options),
        same_answers=not options.get(PROBE),
        warm_up=1,  # one call in each process before timing: it imports what it needs
        warm_up_calls=1,
    )


def function_reference(name: str, options: Mapping[str, str]) -> reference.Reference:
    """The reference of the function a task ``name`` calls: by value where the options carry
    it pickled, else ``name`` parsed."""
    if options.get("pickled"):
        return reference.by_value(name, options["pickled"])
    return reference.parse(name)


def twin_reference(options: Mapping[str, str]) -> reference.Reference | None:
    """The reference of the async twin the options name, if they name one."""
    name = options.get("async")
    if not name:
        return None
    if options.get("async_pickled"):
        return reference.by_value(name, options["async_pickled"], "--async")
    return reference.parse(name, "--async")


def python_version() -> str:
    """This Python's ``MAJOR.MINOR``: a function pickled by value loads only on it."""
    return "{}.{}".format(*sys.version_info[:2])


def pickled_elsewhere(options: Mapping[str, str], version: str) -> str | None:
    """Why a task with ``options`` cannot run on a Python of ``version`` (``3.13.1``): its
    function was pickled by value on another (its code is that Python's bytecode)."""
    pickled_on = options.get("pickled_on")
    if not pickled_on or ".".join(version.split(".")[:2]) == pickled_on:
        return None
    return (
        f"a function pickled by value loads only on the Python that pickled it ({pickled_on}):"
        " define it at module level in a module to measure it here"
    )


def _texts(options: Mapping[str, str], key: str) -> list[str]:
    texts = json.loads(options.get(key, "[]"))
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise UsageError(f"the option {key!r} must be a JSON list of texts")
    return texts


def is_coroutine_function(found: Any) -> bool:
    """Whether calling ``found`` makes a coroutine: an ``async def`` (or a partial of one)."""
    return inspect.iscoroutinefunction(found)


def task_named(tasks: Any, name: str, options: Mapping[str, str]) -> Task:
    """The task ``name`` names with ``options`` in force: a user's function by its reference,
    else the registered task of that name (``tasks``, a catalog's registry)."""
    if reference.is_reference(name):
        return own_task(name, options)
    found: Task = tasks.get(name)
    return found.with_options(options)


def check_arguments(function: Any, task: Task, text: str, command: str = "lab run") -> None:
    """Refuse, before anything runs, arguments that ``function``'s signature does not take
    (the first job's: with items, its item first); the error names ``command``."""
    shared = task.argument(task.size.default) if task.argument is not None else None
    if not isinstance(shared, Call):
        return
    job = shared.for_job(0)
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # a builtin without one: its calls will say
        return
    try:
        signature.bind(*job.args, **dict(job.kwargs))
    except TypeError as exc:
        raise UsageError(f"{command} {text!r}: {exc} (its signature: {signature})") from None
