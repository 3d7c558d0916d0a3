"""Writing a file so that a reader never sees half of it: write beside it, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def write_atomically(path: Path, text: str, durable: bool = False) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it over ``path``; with
    ``durable``, on disk before the rename. An earlier file stays whole until the rename.
    Raises ``OSError``, having removed the temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~current_umask())  # as open() would: mkstemp's is 0600
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def current_umask() -> int:
    """The process's umask (read by setting it, and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def cannot_create_in(folder: Path) -> str | None:
    """Why no file can be created in ``folder``, or None: a file is created there and removed,
    the one test that no permission bit, read-only mount or pseudo-filesystem (``/proc``) can
    fool."""
    try:
        descriptor, name = tempfile.mkstemp(prefix=".lab-probe-", dir=folder)
    except OSError as exc:
        return str(exc.strerror or exc)
    os.close(descriptor)
    with contextlib.suppress(OSError):
        os.unlink(name)
    return None
