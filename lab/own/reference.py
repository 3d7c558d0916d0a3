"""A function named by reference: ``PKG.MODULE:FUNC`` or ``path/to/script.py:FUNC``; or, for
a function no process can import by name (defined in a notebook, a lambda, a closure), its
reference carries the function itself, pickled by value with cloudpickle, and every process
that runs it loads it from there."""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterator

#: What separates the module (or script) from the function's name.
SEPARATOR = ":"
#: The most bytes a function pickled by value may take: it travels with every cell's request,
#: every job a process runner hands out, and the run's results file.
MOST_PICKLED = 1024 * 1024
#: Imports of a user's module by :meth:`Reference.load` under way in this process (a script
#: whose top level is not guarded by ``if __name__ == "__main__":`` runs again in them).
_importing = 0


@dataclass(frozen=True)
class Reference:
    """Where a function is: the module to import (a script's folder put first on the import
    path, when it was named by its path) and the dotted name in it."""

    module: str
    name: str
    folder: str = ""
    #: The function itself, pickled by value (cloudpickle), in base64; empty for a function
    #: imported by name. ``module`` and ``name`` then only say where it was defined.
    pickled: str = ""

    @property
    def text(self) -> str:
        """How the reference reads: ``MODULE:NAME``, or the script's path."""
        where = str(Path(self.folder, self.module + ".py")) if self.folder else self.module
        return f"{where}{SEPARATOR}{self.name}"

    @property
    def short(self) -> str:
        """``module:name``, for tables."""
        return f"{self.module}{SEPARATOR}{self.name}"

    def load(self) -> Any:
        """The object it names, imported in this process (once), or unpickled for one pickled
        by value; any import or unpickling error is raised."""
        return _load(self)


def is_reference(text: str) -> bool:
    """Whether ``text`` names a function rather than a task (a task's name has no colon)."""
    return SEPARATOR in text


def parse(text: str, option: str = "the function") -> Reference:
    """``text`` as a reference; a :class:`UsageError` naming ``option`` when it is not one. A
    script's path is made absolute, so that every worker finds it."""
    where, separator, name = text.rpartition(SEPARATOR)
    if not separator or not where or not name:
        raise UsageError(f"{option} must be MODULE:FUNCTION or SCRIPT.py:FUNCTION, not {text!r}")
    if not all(part.isidentifier() for part in name.split(".")):
        raise UsageError(f"{option} {text!r}: {name!r} is not a Python name")
    if where.endswith(".py") or os.sep in where:
        script = Path(where).absolute()
        if not script.is_file():
            raise UsageError(f"{option} {text!r}: no script {where}")
        if not script.stem.isidentifier():
            raise UsageError(f"{option} {text!r}: {script.name} cannot be imported as a module")
        return Reference(script.stem, name, str(script.parent))
    if not all(part.isidentifier() for part in where.split(".")):
        raise UsageError(f"{option} {text!r}: {where!r} is not a module name")
    return Reference(where, name)


def by_value(text: str, pickled: str, option: str = "the function") -> Reference:
    """The reference of a function pickled by value (:func:`pickle_by_value`), named ``text``
    (``MODULE:QUALNAME``, where it was defined) in tables; a :class:`UsageError` naming
    ``option`` for a ``text`` without a colon or ``pickled`` that is not base64."""
    where, separator, name = text.rpartition(SEPARATOR)
    if not separator or not where or not name:
        raise UsageError(f"{option} must be MODULE:QUALNAME, not {text!r}")
    try:
        base64.b64decode(pickled, validate=True)
    except (binascii.Error, ValueError):
        raise UsageError(f"{option} {text!r}: its pickled form is not base64") from None
    return Reference(where, name, pickled=pickled)


def pickle_by_value(found: Any, text: str, option: str = "the function") -> str:
    """``found`` pickled by value with cloudpickle, as base64 text: what a
    :class:`Reference` carries for a function no process can import by name. A
    :class:`UsageError` naming ``option`` when it does not pickle or is over
    :data:`MOST_PICKLED` bytes."""
    import cloudpickle

    try:
        data = cloudpickle.dumps(found, protocol=5)
    except Exception as exc:
        raise UsageError(
            f"{option} {text!r} cannot be pickled by value: {type(exc).__name__}: {exc}; define"
            " it at module level in a module, so that it is imported by name"
        ) from None
    if len(data) > MOST_PICKLED:
        raise UsageError(
            f"{option} {text!r} pickles to {len(data) / 2**20:.1f} MiB, over"
            f" {MOST_PICKLED // 2**20} MiB (what it refers to travels with every job): define"
            " it at module level in a module, or pass its data as items"
        )
    return base64.b64encode(data).decode("ascii")


def forget() -> None:
    """Let go of every function loaded in this process (those pickled by value among them):
    after a run of :func:`lab.measure`, whose process goes on."""
    _load.cache_clear()


def importing() -> bool:
    """Whether this process is importing a user's module for :meth:`Reference.load` (its top
    level is running): a script that measures from there lacks its ``__main__`` guard."""
    return _importing > 0


def check(
    reference: Reference, text: str, option: str = "the function", callable_: bool = True
) -> Any:
    """The object ``reference`` names, imported here to check it; every failure is a
    :class:`UsageError` naming ``option`` (a module not found, no such name, not callable
    where ``callable_``, a function pickled by value that does not load here)."""
    if reference.pickled:
        try:
            found = reference.load()
        except Exception as exc:
            raise UsageError(
                f"{option} {text!r}: its pickled form does not load here:"
                f" {type(exc).__name__}: {exc}"
            ) from None
        if callable_ and not callable(found):
            raise UsageError(f"{option} {text!r}: {type(found).__name__} is not callable")
        return found
    try:
        found = reference.load()
    except ModuleNotFoundError as exc:
        raise UsageError(f"{option} {text!r}: no module named {exc.name!r}") from None
    except AttributeError:
        raise UsageError(
            f"{option} {text!r}: module {reference.module!r} has no {reference.name!r}"
        ) from None
    except Exception as exc:  # the module's own code failed as it was imported
        raise UsageError(
            f"{option} {text!r}: importing {reference.module!r} failed: {type(exc).__name__}: {exc}"
        ) from None
    if callable_ and not callable(found):
        raise UsageError(f"{option} {text!r}: {type(found).__name__} is not callable")
    return found


def source_digest(reference: Reference) -> str:
    """A digest of the file the function's module was loaded from (empty where it has none,
    a built-in module, or a function pickled by value, whose pickle is recorded itself):
    what the run records of the function's code."""
    if reference.pickled:
        return ""
    try:
        reference.load()
        module = sys.modules[reference.module]
        path = getattr(module, "__file__", None)
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16] if path else ""
    except Exception:  # the function's own check says what is wrong with it
        return ""


@functools.cache
def _load(reference: Reference) -> Any:
    if reference.pickled:
        import cloudpickle

        return cloudpickle.loads(base64.b64decode(reference.pickled))
    if reference.folder and reference.folder not in sys.path:
        sys.path.insert(0, reference.folder)
    with _counted_import():
        found: Any = importlib.import_module(reference.module)
    for part in reference.name.split("."):
        found = getattr(found, part)
    return found


@contextlib.contextmanager
def _counted_import() -> Iterator[None]:
    global _importing
    _importing += 1
    try:
        yield
    finally:
        _importing -= 1
