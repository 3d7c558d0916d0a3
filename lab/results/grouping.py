"""Cells grouped once by a key (a task; a task, runner and interpreter): what the analysis and
the reports look cells up in, rather than scanning every cell for each."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterable

T = TypeVar("T")
K = TypeVar("K", bound="Hashable")


def group_by(items: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    """``items`` by ``key``: each group in the items' order, the groups in the order their keys
    first appear."""
    found: dict[K, list[T]] = {}
    for item in items:
        found.setdefault(key(item), []).append(item)
    return found
