"""A function named by reference: ``PKG.MODULE:FUNC`` or ``path/to/script.py:FUNC``."""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.errors import UsageError

#: What separates the module (or script) from the function's name.
SEPARATOR = ":"


@dataclass(frozen=True)
class Reference:
    """Where a function is: the module to import (a script's folder put first on the import
    path, when it was named by its path) and the dotted name in it."""

    module: str
    name: str
    folder: str = ""

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
        """The object it names, imported in this process (once); any import error is raised."""
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


def check(
    reference: Reference, text: str, option: str = "the function", callable_: bool = True
) -> Any:
    """The object ``reference`` names, imported here to check it; every failure is a
    :class:`UsageError` naming ``option`` (a module not found, no such name, not callable
    where ``callable_``)."""
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
    a built-in module): what the run records of the function's code."""
    try:
        reference.load()
        module = sys.modules[reference.module]
        path = getattr(module, "__file__", None)
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16] if path else ""
    except Exception:  # the function's own check says what is wrong with it
        return ""


@functools.cache
def _load(reference: Reference) -> Any:
    if reference.folder and reference.folder not in sys.path:
        sys.path.insert(0, reference.folder)
    found: Any = importlib.import_module(reference.module)
    for part in reference.name.split("."):
        found = getattr(found, part)
    return found
