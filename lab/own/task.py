"""A user's function as a task: built from its reference and the options that carry its
arguments, in the lab and again in every cell's worker, as a plugin's task is."""

from __future__ import annotations

import inspect
import json
from typing import TYPE_CHECKING, Any

from lab.errors import UsageError
from lab.own import literals, reference
from lab.own.calls import Call, call, call_async, call_probed
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
    PROBE: "yes: each job returns its thread's time on and waiting for a CPU",
}
#: A user's function has no size: each job is one call.
CALL = Size(UNSIZED, int, 1, 1)


def own_options(args: list[str], kwargs: list[str], async_twin: str | None) -> dict[str, str]:
    """The options of a user's function's task, from the texts the user wrote."""
    found = {"args": json.dumps(args), "kwargs": json.dumps(dict(literals_texts(kwargs)))}
    if async_twin:
        found["async"] = async_twin
    return found


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
    function = reference.parse(name)
    args = tuple(literals.literal(text, "the argument") for text in _texts(options, "args"))
    kwargs = tuple(
        (key, literals.literal(text, f"--kw {key}"))
        for key, text in dict(json.loads(options.get("kwargs", "{}"))).items()
    )
    twin = reference.parse(options["async"], "--async") if options.get("async") else None
    job = Call(function, args, kwargs, twin)
    forms: dict[str, Any] = {SYNC: call_probed if options.get(PROBE) else call}
    if twin is not None:
        forms.update(dict.fromkeys(ASYNC_FORMS, call_async))
    return Task(
        name=name,
        description=description or f"your function {function.text}",
        bound=bound,
        forms=forms,
        size=CALL,
        argument=lambda _: job,
        missing_form_reason=f"{function.short} has no async twin: give one with --async",
        option_help=OPTION_HELP,
        options=dict(options),
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


def check_arguments(function: Any, task: Task, text: str) -> None:
    """Refuse, before anything runs, arguments that ``function``'s signature does not take."""
    job = task.argument(task.size.default) if task.argument is not None else None
    if not isinstance(job, Call):
        return
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # a builtin without one: its calls will say
        return
    try:
        signature.bind(*job.args, **dict(job.kwargs))
    except TypeError as exc:
        raise UsageError(f"lab run {text!r}: {exc} (its signature: {signature})") from None
