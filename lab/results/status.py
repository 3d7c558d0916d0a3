"""A cell's status as data: a kind and a detail. Words are made only when it is shown."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Kind(enum.Enum):
    """What became of a cell, from best to worst for the figures it has."""

    OK = "ok"
    UNSTABLE = "unstable"
    INTERRUPTED = "interrupted"
    NOT_APPLICABLE = "n/a"
    NOT_RUN = "not run"
    ERROR = "error"
    TIMEOUT = "timeout"
    CRASHED = "crashed"


#: Kinds that end a cell: it is not run again, and its samples are not trusted.
FAILURES = frozenset({Kind.ERROR, Kind.TIMEOUT, Kind.CRASHED})
#: Kinds whose figures are shown: measured, perhaps with a caveat.
MEASURED = frozenset({Kind.OK, Kind.UNSTABLE, Kind.INTERRUPTED})


@dataclass(frozen=True)
class Status:
    """A kind and what to say about it (a reason, an error message, ``"2 s"`` for a timeout)."""

    kind: Kind
    detail: str = ""
    #: For a job that raised: the last lines of its traceback (kept in the results, not shown).
    traceback: str = ""

    @property
    def failed(self) -> bool:
        return self.kind in FAILURES

    @property
    def measured(self) -> bool:
        return self.kind in MEASURED

    def __str__(self) -> str:
        if self.kind is Kind.TIMEOUT:
            return f"timeout after {self.detail}"
        return f"{self.kind.value}: {self.detail}" if self.detail else self.kind.value

    def to_data(self) -> dict[str, str]:
        found = {"kind": self.kind.value, "detail": self.detail}
        return {**found, "traceback": self.traceback} if self.traceback else found

    @classmethod
    def from_data(cls, data: Any) -> Status:
        """A status from its JSON form; anything else raises ``ValueError``."""
        if not isinstance(data, dict) or not isinstance(data.get("detail"), str):
            raise ValueError(f"a status must be an object with a kind and a detail, not {data!r}")
        return cls(Kind(data["kind"]), data["detail"], str(data.get("traceback", "")))


def error(detail: str, traceback: str = "") -> Status:
    return Status(Kind.ERROR, detail, traceback)


def timeout(seconds: float) -> Status:
    return Status(Kind.TIMEOUT, f"{seconds:g} s")


def crashed(detail: str) -> Status:
    return Status(Kind.CRASHED, detail)
