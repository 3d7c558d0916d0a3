"""What a call returned, as a short text two processes can compare: a digest of the value in a
canonical form (a dict's items and a set's members sorted, so that equal values read the same
in every process whatever its hash seed), after the start of its ``repr`` for people.

Values that compare equal give the same digest when they are built of Python's own values
(numbers, strings, bytes, containers of them); any other object is digested from its pickle,
or its ``repr`` where it does not pickle; an object compared by identity never equals one of
another process, so such a value's digest is :data:`UNCOMPARABLE`.
"""

from __future__ import annotations

import hashlib
import pickle
from typing import Any

#: How much of a value's ``repr`` an answer keeps for people to read.
SHOWN = 48
#: What separates the shown ``repr`` from the digest in an answer.
DIGEST_MARK = " #"
#: Characters of the digest an answer keeps (64 bits: no two different values of a run meet).
DIGEST_CHARS = 16


#: The digest of a value that holds an object compared by identity: equal to nothing made in
#: another call, so not compared.
UNCOMPARABLE = "?" * DIGEST_CHARS


class _ComparedByIdentity(Exception):
    """A value holds an object whose ``==`` is ``is``."""


def answer(value: Any) -> str:
    """``value`` as ``"<start of its repr> #<digest>"`` (:data:`UNCOMPARABLE` for a value that
    holds an object compared by identity)."""
    shown = _shown(value)
    try:
        digest = hashlib.sha256(_canonical(value)).hexdigest()[:DIGEST_CHARS]
    except (_ComparedByIdentity, RecursionError, MemoryError):  # or too deep to compare
        digest = UNCOMPARABLE
    return f"{shown}{DIGEST_MARK}{digest}"


def digest_of(text: object) -> str | None:
    """The digest of an answer (``None`` for anything that is not one)."""
    if not isinstance(text, str):
        return None
    _, mark, digest = text.rpartition(DIGEST_MARK)
    return digest if mark and len(digest) == DIGEST_CHARS else None


def _shown(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not fail the job
        text = f"<{type(value).__name__}: repr failed: {type(exc).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def _canonical(value: Any) -> bytes:
    """Bytes equal for equal values of Python's own types, whatever the process."""
    kind = type(value)
    if value is None or kind in (bool, int, float, complex, str):
        return f"{kind.__name__}:{value!r}".encode("utf-8", "surrogatepass")
    if kind in (bytes, bytearray):
        return b"bytes:" + bytes(value)
    if kind in (tuple, list):
        parts = [_canonical(v) for v in value]
        return _joined(kind.__name__, parts)
    if kind in (set, frozenset):
        return _joined(kind.__name__, sorted(_canonical(v) for v in value))
    if kind is dict:
        items = sorted(_canonical(k) + b"=" + _canonical(v) for k, v in value.items())
        return _joined("dict", items)
    if getattr(kind, "__eq__", None) is object.__eq__:  # equal to nothing made elsewhere
        raise _ComparedByIdentity
    try:
        return b"pickle:" + pickle.dumps(value, protocol=5)
    except Exception:
        return ("repr:" + _shown(value)).encode("utf-8", "surrogatepass")


def _joined(kind: str, parts: list[bytes]) -> bytes:
    """Parts with their lengths, so that no two different containers join to the same bytes."""
    out = [kind.encode(), b"(", str(len(parts)).encode(), b")"]
    for part in parts:
        out += [str(len(part)).encode(), b":", part]
    return b"".join(out)
