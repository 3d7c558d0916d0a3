"""The items a user's function takes one a job: an iterable in a module (``PKG.MODULE:NAME``,
a function called with no arguments to make them, or a script's ``path.py:NAME``), or a
JSON Lines file (one JSON value a line). Every worker loads them again from where they are,
and checks that they are the items the lab loaded (their digest)."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from lab.errors import UsageError
from lab.own import answers, reference

#: The options that name items: an iterable in a module, a JSON Lines file.
ITEMS, ITEMS_FILE = "--items", "--items-file"
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


def digest(items: tuple[Any, ...]) -> str:
    """What the items are, in a few characters: equal items give the same digest in every
    process."""
    found = hashlib.sha256()
    for item in items:
        found.update(answers.answer(item).encode("utf-8", "surrogatepass"))
    return found.hexdigest()[: answers.DIGEST_CHARS]


@functools.cache
def _load(source: str, option: str) -> tuple[Any, ...]:
    items = _from_file(source, option) if option == ITEMS_FILE else _from_module(source, option)
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


def _from_file(source: str, option: str) -> tuple[Any, ...]:
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
            items.append(json.loads(line))
        except (json.JSONDecodeError, RecursionError) as exc:
            raise UsageError(f"{option} {source!r} line {number} is not JSON: {exc}") from None
    return tuple(items)
