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
