"""A run's job records kept by column: one sequence a field, a field every job shares kept once.

A large cell has hundreds of thousands of jobs; kept as one object a job, their records would
outweigh what the figures need of them. :class:`Records` holds each field of
:data:`~lab.boundary.measurement.RECORD_FIELDS` as a column (numbers in compact arrays where
they fit, a shared value once) and still reads as a sequence of :class:`~lab.jobs.JobRecord`.
In a results file the records are an object of the same columns: a list with one value a job,
or one value that is not a list, shared by every job.
"""

from __future__ import annotations

import operator
from array import array
from collections.abc import Iterator, Sequence
from typing import Any, overload

from lab.boundary.measurement import RECORD_FIELDS
from lab.jobs import JobRecord

#: How many jobs the file form's ``jobs`` entry counts.
JOBS = "jobs"
#: The fields a file leaves out when every job has the value here: no result, no error, this
#: host, no operations timed.
OMITTED: dict[str, Any] = {
    "result": None,
    "error": None,
    "host": "",
    "clock_offset": 0.0,
    "operations": None,
}
#: The columns whose values are floats and never missing: kept as arrays of doubles.
_FLOATS = frozenset({"start", "end", "clock_offset"})
#: The columns whose values are whole numbers: kept as arrays of 64-bit integers where they fit.
_INTEGERS = frozenset({"index", "pid", "thread_id"})


class Shared(Sequence[Any]):
    """One value every job of a run has: a column of ``length`` times ``value``."""

    __slots__ = ("length", "value")

    def __init__(self, value: Any, length: int) -> None:
        self.value = value
        self.length = length

    def __len__(self) -> int:
        return self.length

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self.value] * len(range(*index.indices(self.length)))
        if not -self.length <= index < self.length:
            raise IndexError("job index out of range")
        return self.value

    def __iter__(self) -> Iterator[Any]:
        for _ in range(self.length):
            yield self.value


Column = Sequence[Any]


def _compact(name: str, values: list[Any]) -> Column:
    """``values`` as the column keeps them: one shared value, or an array where they fit one."""
    if values and not isinstance(values[0], list) and all(v == values[0] for v in values):
        first = values[0]
        if all(type(v) is type(first) for v in values):
            return Shared(first, len(values))
    if name in _FLOATS or (name == "cpu" and None not in values):
        try:
            return array("d", values)
        except TypeError:
            return values
    if name in _INTEGERS:
        try:
            return array("q", values)
        except (OverflowError, TypeError):
            return values
    return values


class Records(Sequence[JobRecord]):
    """A run's job records by column; indexing or iterating gives :class:`JobRecord` objects,
    made when asked for."""

    __slots__ = ("_columns", "_length")

    def __init__(self, columns: dict[str, Column], length: int) -> None:
        self._columns = columns
        self._length = length

    @classmethod
    def of(cls, records: Sequence[JobRecord]) -> Records:
        """The records of ``records`` (a list of them, or already :class:`Records`)."""
        if isinstance(records, Records):
            return records
        columns = {
            name: _compact(name, [getattr(r, name) for r in records]) for name in RECORD_FIELDS
        }
        return cls(columns, len(records))

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]]) -> Records:
        """Records from rows of field values in :data:`RECORD_FIELDS` order (a results file of
        version 2); fields a row leaves out take :class:`JobRecord`'s defaults."""
        return cls.of([JobRecord(*row) for row in rows])

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Records:
        """Records from their file form, already checked against the schema; a column of
        another length than ``jobs`` raises ``ValueError`` naming it."""
        length = data[JOBS]
        columns: dict[str, Column] = {}
        for name in RECORD_FIELDS:
            value = data.get(name, OMITTED.get(name))
            if isinstance(value, list):
                if len(value) != length:
                    raise ValueError(f"records.{name} has {len(value)} values for {length} jobs")
                columns[name] = value
            else:
                columns[name] = Shared(value, length)
        return cls(columns, length)

    def to_data(self) -> dict[str, Any]:
        """The file form: the job count, then each column as a list or its shared value, but
        for the fields every job leaves as they were (:data:`OMITTED`)."""
        data: dict[str, Any] = {JOBS: self._length}
        for name in RECORD_FIELDS:
            column = self._columns[name]
            if not isinstance(column, Shared):
                data[name] = list(column)
            elif name not in OMITTED or column.value != OMITTED[name]:
                data[name] = column.value
        return data

    def column(self, name: str) -> Column:
        """Field ``name`` of every job, in the records' order."""
        return self._columns[name]

    def shared(self, name: str) -> bool:
        """Whether every job has the same value of field ``name``."""
        return isinstance(self._columns[name], Shared)

    def total(self, name: str) -> float | None:
        """The sum of numeric field ``name`` over the jobs; ``None`` if a job has none."""
        column = self._columns[name]
        if isinstance(column, Shared):
            return None if column.value is None else column.value * column.length
        if isinstance(column, array):
            return sum(column)
        return None if None in column else sum(column)

    def durations(self) -> list[float]:
        """Each job's time from its start to its end."""
        return list(map(operator.sub, self._columns["end"], self._columns["start"]))

    def on_one_host(self) -> bool:
        """Whether every job ran on one host (whose clock the starts and ends are on)."""
        hosts = self._columns["host"]
        return isinstance(hosts, Shared) or len(set(hosts)) <= 1

    def times(self) -> tuple[Column, Column]:
        """The jobs' starts and ends, on one clock: the host's where all ran on one, else the
        wall clock (each host's clock offset added)."""
        starts, ends = self._columns["start"], self._columns["end"]
        if self.on_one_host():
            return starts, ends
        offsets = self._columns["clock_offset"]
        return list(map(operator.add, starts, offsets)), list(map(operator.add, ends, offsets))

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> JobRecord: ...
    @overload
    def __getitem__(self, index: slice) -> list[JobRecord]: ...
    def __getitem__(self, index: int | slice) -> JobRecord | list[JobRecord]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if not -self._length <= index < self._length:
            raise IndexError("job index out of range")
        return JobRecord(*(self._columns[name][index] for name in RECORD_FIELDS))

    def __iter__(self) -> Iterator[JobRecord]:
        columns = [self._columns[name] for name in RECORD_FIELDS]
        for values in zip(*columns, strict=True):
            yield JobRecord(*values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Records | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Records({list(self)!r})"
