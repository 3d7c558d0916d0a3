"""Numbers as the reports write them: sizes, durations, ratios, estimates."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lab.results.analysis import Estimate

KIB = 1024
MIB = 1024 * KIB


def memory(size: float) -> str:
    """A size in bytes, KiB or MiB."""
    if abs(size) >= MIB:
        return f"{size / MIB:.1f} MiB"
    if abs(size) >= KIB:
        return f"{size / KIB:.0f} KiB"
    return f"{size:.0f} B"


def memory_estimate(estimate: Estimate | None) -> str:
    """A size, or for one within its resolution the bound it is known to lie under."""
    if estimate is None:
        return ""
    if not estimate.resolved:
        return f"≤ {memory(estimate.resolution)}"
    return memory(estimate.value)


def duration(seconds: float) -> str:
    """Seconds from 1 s up, milliseconds from 1 ms, microseconds below."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.2f} ms" if seconds >= 0.001 else f"{seconds * 1e6:.0f} µs"


def times(value: float | None) -> str:
    """A ratio such as a speed-up: ``1.95x``."""
    return "" if value is None else f"{value:.2f}x"


def blank(value: float | None, spec: str) -> str:
    """``value`` formatted with ``spec``, or nothing."""
    return "" if value is None else format(value, spec)


def milliseconds(seconds: float) -> str:
    """Seconds as milliseconds to three significant digits, never in exponent form: a
    request's 21.2, a cached file read's 0.0172."""
    return significant(seconds * 1000)


def per_second(value: float | None) -> str:
    """A rate: whole numbers from 100 up (``2,079``), three significant digits below (``47.3``,
    ``0.250``); nothing for ``None``."""
    return "" if value is None else significant(value)


def significant(value: float) -> str:
    """Three significant digits below 100, never in exponent form; whole numbers with
    thousands separators from 100 up."""
    if value >= 100 or value <= 0:
        return f"{value:,.0f}"
    return f"{value:.{2 - math.floor(math.log10(value))}f}"
