"""The items a user's function takes one a job: an iterable in a module (``PKG.MODULE:NAME``,
a function called with no arguments to make them, or a script's ``path.py:NAME``), a
JSON Lines file (one JSON value a line), or a file of Python literals (one ``repr`` a line,
which :func:`lab.measure` writes for items given as Python values). Every worker loads them
again from where they are, and checks that they are the items the lab loaded (their digest)."""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.errors import UsageError
from lab.own import answers, literals, reference

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

#: The options that name items: an iterable in a module, a JSON Lines file, a file of Python
#: literals (written by :func:`write_literals`).
ITEMS, ITEMS_FILE, ITEMS_LITERALS = "--items", "--items-file", "items="
#: The largest items file read (its items travel to every job).
MOST_BYTES = 256 * 1024 * 1024


def load(source: str, option: str = ITEMS) -> tuple[Any, ...]:
    """The items ``source`` names (given as ``option``: :data:`ITEMS` or :data:`ITEMS_FILE`),
    as a tuple; a :class:`UsageError` naming ``option`` for a source that is missing,
    malformed or empty."""
    try:
        return _load(source, option)
    except UsageError:
        _load.cache_clear()  # a failed load is not kept: the next call says so again
        raise


def forget() -> None:
    """Let go of every item loaded in this process (the lab keeps them for a run's checks):
    after a run of :func:`lab.measure`, whose process goes on."""
    _load.cache_clear()


def digest(items: tuple[Any, ...]) -> str:
    """What the items are, in a few characters: equal items give the same digest in every
    process."""
    found = hashlib.sha256()
    for item in items:
        found.update(answers.answer(item).encode("utf-8", "surrogatepass"))
    return found.hexdigest()[: answers.DIGEST_CHARS]


@functools.cache
def _load(source: str, option: str) -> tuple[Any, ...]:
    if option == ITEMS_FILE:
        items = _from_file(source, option, json.loads, "JSON")
    elif option == ITEMS_LITERALS:
        items = _from_file(source, option, ast.literal_eval, "a Python literal")
    else:
        items = _from_module(source, option)
    if not items:
        raise UsageError(f"{option} {source!r} has no items")
    return items


def _from_module(source: str, option: str) -> tuple[Any, ...]:
    found = reference.check(reference.parse(source, option), source, option, callable_=False)
    if callable(found):
        try:
            found = found()
        except Exception as exc:
            raise UsageError(
                f"{option} {source!r}: calling it failed: {type(exc).__name__}: {exc}"
            ) from None
    if isinstance(found, str | bytes | dict) or not hasattr(found, "__iter__"):
        raise UsageError(
            f"{option} {source!r} is a {type(found).__name__}, not a list or iterable of items"
        )
    try:
        return tuple(found)
    except Exception as exc:
        raise UsageError(
            f"{option} {source!r}: iterating it failed: {type(exc).__name__}: {exc}"
        ) from None


def _from_file(source: str, option: str, read: Callable[[str], Any], what: str) -> tuple[Any, ...]:
    path = Path(source)
    try:
        if not path.is_file():
            raise UsageError(f"{option} {source!r}: no such file")
        if path.stat().st_size > MOST_BYTES:
            raise UsageError(f"{option} {source!r} is over {MOST_BYTES // 2**20} MiB")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{option} {source!r} cannot be read: {exc}") from None
    items = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append(read(line))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
            raise UsageError(f"{option} {source!r} line {number} is not {what}: {exc}") from None
    return tuple(items)


def write_literals(items: Iterable[Any], what: str = ITEMS_LITERALS) -> str:
    """Write ``items`` (each a Python literal, :func:`lab.own.literals.literal_text`) one a
    line into a new private file in the temporary folder, and return its path: for every
    worker to read with :data:`ITEMS_LITERALS`. The caller removes it. A :class:`UsageError`
    naming ``what`` for an item that is not a literal, or for no items."""
    lines = [literals.literal_text(item, f"{what} item {n}") for n, item in enumerate(items)]
    if not lines:
        raise UsageError(f"{what} has no items")
    descriptor, path = tempfile.mkstemp(prefix="lab-items-", suffix=".literals")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write("".join(line + "\n" for line in lines))
    except BaseException:
        os.unlink(path)
        raise
    return path
