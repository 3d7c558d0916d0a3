"""The installed distributions the lab reads, past a build's leftovers.

``python -m lab`` puts the current folder first on the import path, and a checkout that was
built (``pip install .``) keeps the build's metadata there (``concurrency_lab.egg-info``).
``importlib.metadata`` takes the first copy of a distribution on the path, so that copy, stale
or half-written, would stand for the installed one: its entry points, the built-in plugins
among them, would be the lab's. Of several copies of one distribution, the lab reads the one
an installer recorded (its ``RECORD``, which a build does not write), and else one outside the
current folder; only a copy that is the only one is read whatever it is.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import warnings
from typing import TYPE_CHECKING

from lab.jobs import describe_exception

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

#: The entry-point group plugins register under.
ENTRY_POINT_GROUP = "lab"
#: The lab's own distribution, whose entry points are the built-in plugins.
LAB_DISTRIBUTION = "concurrency-lab"

Distribution = importlib.metadata.Distribution
EntryPoint = importlib.metadata.EntryPoint


def normalized(name: str) -> str:
    """A distribution's name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed(name: str) -> Distribution:
    """The installed copy of the distribution ``name`` (see the module's docstring);
    ``PackageNotFoundError`` when there is none."""
    copies = list(importlib.metadata.distributions(name=name))
    if not copies:
        return importlib.metadata.distribution(name)  # raises PackageNotFoundError
    return _installed_copy(copies)


def version(name: str) -> str:
    """The version of the installed copy of ``name``; PackageNotFoundError if it is not."""
    return installed(name).version


def plugin_entry_points(warn: Callable[[str], None] | None = None) -> list[EntryPoint]:
    """The ``lab`` entry points of every distribution that has some, each read from its
    installed copy, in the order of the import path. A copy whose entry points cannot be read
    is passed over, said through ``warn``."""
    copies: dict[str, list[Distribution]] = {}
    points: dict[int, list[EntryPoint]] = {}  # by copy, those read already
    for dist in importlib.metadata.distributions():
        if found := _plugin_points(dist, warn):
            points[id(dist)] = found
            copies.setdefault(normalized(_name(dist)), []).append(dist)
    copies.pop("", None)  # no name: half-written metadata
    # Of each name, the copies with entry points, then every copy (a newer one may have none).
    chosen = [
        _installed_copy([*found, *importlib.metadata.distributions(name=name)])
        for name, found in copies.items()
    ]
    return [
        point for dist in chosen for point in points.get(id(dist)) or _plugin_points(dist, warn)
    ]


def _plugin_points(dist: Distribution, warn: Callable[[str], None] | None) -> list[EntryPoint]:
    try:
        return [point for point in dist.entry_points if point.group == ENTRY_POINT_GROUP]
    except Exception as exc:  # a half-written entry_points.txt
        if warn is not None:
            where = getattr(dist, "_path", None) or _name(dist) or "a distribution"
            warn(f"the entry points of {where} cannot be read: {describe_exception(exc)}")
        return []


def _name(dist: Distribution) -> str:
    """The name ``dist``'s metadata gives; ``""`` for metadata without one (half-written),
    which newer Pythons say with ``KeyError`` and older ones with ``None``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12 and 3.13: None, deprecated
        try:
            return dist.metadata["Name"] or ""
        except KeyError:
            return ""


def _installed_copy(copies: Iterable[Distribution]) -> Distribution:
    """The copy an installer recorded, else one outside the current folder, else the first."""
    here = os.path.realpath(os.getcwd())

    def rank(dist: Distribution) -> tuple[bool, bool]:
        elsewhere = os.path.realpath(str(dist.locate_file(""))) != here
        return dist.read_text("RECORD") is None, not elsewhere

    return min(copies, key=rank)  # the first of the best: min keeps the path's order
