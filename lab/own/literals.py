"""A function's arguments as written on the command line.

The rule: each argument is read as a Python literal (``3``, ``2.5``, ``'text'``, ``[1, 2]``,
``{"a": 1}``, ``None``, ``True``, ``b'bytes'``); a word that is not one is the string it spells
(``hello``, ``data/a.txt``, ``3.5.1``, ``+``); but a text that starts with a quote or a
bracket must be a valid literal (``[1, 2`` is refused). Quote a string that reads as a
literal: ``"'3'"`` is the string ``3``. ``--kw NAME=VALUE`` follows the same rule for its
value.
"""

from __future__ import annotations

import ast
from typing import Any

from lab.errors import UsageError

#: What starts a quoted or bracketed literal: a text that starts so must be a valid literal.
LITERAL_STARTS = (*"'\"[({", "b'", 'b"')


def literal(text: str, what: str) -> Any:
    """``text`` as a Python literal, or as itself when it is a plain word; a
    :class:`UsageError` naming ``what`` for a malformed literal (``[1, 2``)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        stripped = text.strip()
        if stripped.startswith(LITERAL_STARTS) or stripped in ("", "True", "False", "None"):
            raise UsageError(
                f"{what} {text!r} is not a Python literal; quote a string: \"'...'\""
            ) from None
        return text


def keyword(item: str) -> tuple[str, Any]:
    """``NAME=VALUE`` as a keyword argument."""
    name, equals, value = item.partition("=")
    if not equals or not name.strip().isidentifier():
        raise UsageError(f"--kw takes NAME=VALUE, not {item!r}")
    return name.strip(), literal(value, f"--kw {name.strip()}")


#: What :func:`literal_text` takes: Python's own literal values.
LITERAL_KINDS = "numbers, strings, bytes, tuples, lists, dicts, sets, None, booleans"


def literal_text(value: Any, what: str) -> str:
    """``value`` written as the literal that :func:`literal` reads back as it is (its ``repr``,
    when that reads back as an equal value of the same types); a :class:`UsageError` naming
    ``what`` for any other value: it does not reach the workers this way."""
    text, back = "", _NOTHING
    try:
        text = repr(value)
        back = ast.literal_eval(text)
    except Exception:  # a repr that is no literal, or one that fails
        pass
    if back is _NOTHING or not _same(back, value):
        text = " ".join(text.split())  # a message is one line
        shown = f" {text}" if len(text) <= SHOWN else ""
        raise UsageError(
            f"{what} is not a Python literal: {type(value).__name__}{shown}; these cross to the"
            f" workers: {LITERAL_KINDS}. Pass other values as items from a module"
            " (items='MODULE:NAME'), or make them in the function"
        )
    return text


#: What :func:`literal_text` found when a ``repr`` did not read back.
_NOTHING = object()
#: The longest ``repr`` an error message shows.
SHOWN = 40


def _same(found: Any, value: Any) -> bool:
    """Whether ``found`` is ``value``: equal, and of the same types all the way down."""
    if type(found) is not type(value):
        return False
    if isinstance(value, list | tuple):
        return len(found) == len(value) and all(map(_same, found, value))
    if isinstance(value, dict):
        pairs = zip(found.items(), value.items(), strict=False)
        return len(found) == len(value) and all(
            _same(k, key) and _same(v, item) for (k, v), (key, item) in pairs
        )
    try:
        return bool(found == value)
    except Exception:
        return False
