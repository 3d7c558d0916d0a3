"""The installed distributions the lab reads, past a build's leftovers.

``python -m lab`` puts the current folder first on the import path, and a checkout that was
built (``pip install .``) keeps the build's metadata there (``concurrency_lab.egg-info``).
``importlib.metadata`` takes the first copy of a distribution on the path, so that copy, stale
or half-written, would stand for the installed one: its entry points, the built-in plugins
among them, would be the lab's. An installer writes a ``RECORD`` of the files it installed and
a build leaves none, so the installed copy is the one read.
"""

from __future__ import annotations

import importlib.metadata
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

#: The entry-point group plugins register under.
ENTRY_POINT_GROUP = "lab"
#: The lab's own distribution, whose entry points are the built-in plugins.
LAB_DISTRIBUTION = "concurrency-lab"


def normalized(name: str) -> str:
    """A distribution's name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed(name: str) -> importlib.metadata.Distribution:
    """The installed copy of the distribution ``name``: the one an installer recorded, rather
    than a build's leftover metadata in the current folder."""
    copies = list(importlib.metadata.distributions(name=name))
    if not copies:
        return importlib.metadata.distribution(name)  # raises PackageNotFoundError
    return _installed_copy(copies)


def plugin_entry_points() -> list[importlib.metadata.EntryPoint]:
    """The ``lab`` entry points of every distribution that has some, each distribution read
    from its installed copy, in the order of the import path."""
    names = [
        normalized(dist.metadata["Name"] or "")
        for dist in importlib.metadata.distributions()
        if _plugin_points(dist)
    ]
    return [
        point
        for name in dict.fromkeys(filter(None, names))
        for point in _plugin_points(installed(name))
    ]


def _plugin_points(dist: importlib.metadata.Distribution) -> list[importlib.metadata.EntryPoint]:
    return [point for point in dist.entry_points if point.group == ENTRY_POINT_GROUP]


def _installed_copy(
    copies: Sequence[importlib.metadata.Distribution],
) -> importlib.metadata.Distribution:
    return next((d for d in copies if d.read_text("RECORD") is not None), copies[0])


def version(name: str) -> str:
    """The version of the installed copy of ``name``; PackageNotFoundError if it is not."""
    return installed(name).version
