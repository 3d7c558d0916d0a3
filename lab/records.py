"""A run's job records kept by column: one sequence a field, a field every job shares kept once.

A large cell has hundreds of thousands of jobs; kept as one object a job, their records would
outweigh what the figures need of them. :class:`Records` holds each field of
:data:`~lab.jobs.RECORD_FIELDS` as a column (numbers in compact arrays where they fit, a shared
value once, the jobs' indices as a ``range`` where they are 0, 1, 2 … in order) and still reads
as a sequence of :class:`~lab.jobs.JobRecord`.

In a results file (and in a worker's answer) the records are an object of the same columns: a
list with one value a job, or one value that is not a list, shared by every job. The records
of a run of at least :data:`COMPACT_FROM` jobs are written more compactly still (version 3
reads both; files written before these forms are read as they were):

- ``index`` is left out where it is 0, 1, 2 … in order (:data:`JOBS` of them);
- ``start`` and ``end`` are ``{"from": B, "ns": [...]}``: whole nanoseconds after ``B``
  nanoseconds on the records' clock, where that gives back every time exactly (the lab's
  clock counts whole nanoseconds: a time is ``(B + ns) / 1e9``, the float it was); where it
  would not, they stay lists of seconds. Nothing is rounded.
"""

from __future__ import annotations

import itertools
import operator
from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from typing import Any, overload

from lab.jobs import RECORD_FIELDS, JobRecord

#: How many jobs the file form's ``jobs`` entry counts.
JOBS = "jobs"
#: From this many jobs a run is large: the worker keeps its records by column as its jobs end
#: (:mod:`lab.worker.recorder`), and its file form is the compact one.
COMPACT_FROM = 20_000
#: The fields written as whole nanoseconds in the compact form, and that form's keys.
NANOSECONDS = ("start", "end")
FROM, NS = "from", "ns"
_NS_PER_SECOND = 1e9
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
        return itertools.repeat(self.value, self.length)


Column = Sequence[Any]


def in_order(column: Sequence[Any]) -> bool:
    """Whether ``column`` is 0, 1, 2 … in order (whole numbers, not ``True`` for 1)."""
    if isinstance(column, range):
        return column.start == 0 and column.step == 1
    return all(map(operator.is_, map(type, column), itertools.repeat(int))) and all(
        map(operator.eq, column, itertools.count())
    )


def running_at_most(starts: Sequence[float], ends: Sequence[float]) -> int:
    """The most jobs running at one instant, from their starts and ends: after each start (in
    order), the starts so far less the jobs that had ended by then (at one instant, an end
    comes before a start)."""
    ended = map(bisect_right, itertools.repeat(sorted(ends)), sorted(starts))
    return max(map(operator.sub, range(1, len(starts) + 1), ended), default=0)


def nanoseconds(column: Sequence[float], base: int) -> dict[str, Any] | None:
    """``column`` (seconds) as whole nanoseconds after ``base`` nanoseconds, the compact file
    form; ``None`` where that would not give back every value exactly."""
    try:
        found = list(map(base.__rsub__, map(round, map(_NS_PER_SECOND.__mul__, column))))
        back = map(_NS_PER_SECOND.__rtruediv__, map(base.__add__, found))
        exact = all(map(operator.eq, column, back))
    except (OverflowError, ValueError, TypeError):  # an infinity, a NaN, a value not a number
        return None
    return {FROM: base, NS: found} if exact else None


def seconds(name: str, data: Any, length: int) -> array[float]:
    """The seconds of column ``name`` from its compact form (see :func:`nanoseconds`); what is
    not that form, or not ``length`` whole numbers, raises ``ValueError`` naming the column."""
    if not isinstance(data, dict) or set(data) != {FROM, NS}:
        raise ValueError(f"records.{name} must be a list, a value, or {{from, ns}}")
    base, found = data[FROM], data[NS]
    if type(base) is not int or not isinstance(found, list):
        raise ValueError(f"records.{name} must be whole nanoseconds after a whole number")
    if len(found) != length:
        raise ValueError(f"records.{name} has {len(found)} values for {length} jobs")
    if not set(map(type, found)) <= {int}:  # not bool, not float
        raise ValueError(f"records.{name} must be whole nanoseconds")
    try:
        return array("d", map(_NS_PER_SECOND.__rtruediv__, map(base.__add__, found)))
    except OverflowError:
        raise ValueError(f"records.{name} {_PAST}") from None


_PAST = "is past the largest figure a results file holds"


def check_times(columns: dict[str, Column], length: int) -> None:
    """Raise ``ValueError`` where a large run's start or end is one value for every job: the
    lab gives each job of a run of :data:`COMPACT_FROM` or more its own, and a file that claims
    more jobs than it holds values for would have the analysis walk every one of them."""
    if length < COMPACT_FROM:
        return
    for name in NANOSECONDS:
        if isinstance(columns[name], Shared):
            raise ValueError(
                f"records.{name} is one value for all {length:,} jobs: a run of {COMPACT_FROM:,}"
                f" jobs or more has a {name} for each"
            )


def _shared(value: Any, length: int, made: dict[tuple[Any, ...], Shared] | None) -> Shared:
    """A column of ``length`` times ``value``: the one in ``made`` where there is one."""
    if made is None:
        return Shared(value, length)
    kind = type(value)
    # 1, 1.0 and True are equal but not the same value, nor are 0.0 and -0.0
    key = (kind, value.hex() if kind is float else value, length)
    try:
        return made[key]
    except KeyError:
        found = made[key] = Shared(value, length)
        return found
    except TypeError:  # a value that cannot be a key (a list of results)
        return Shared(value, length)


def compact_column(name: str, values: list[Any]) -> Column:
    """``values`` as the column keeps them: one shared value, the jobs' indices in order as a
    ``range``, or an array where they fit one."""
    if values and not isinstance(values[0], list) and all(v == values[0] for v in values):
        first = values[0]
        if all(type(v) is type(first) for v in values):
            return Shared(first, len(values))
    if name == "index" and in_order(values):
        return range(len(values))
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


#: The types of a value one for every job, as a file gives it (not a list, not the compact
#: form's object of nanoseconds).
_SCALARS = frozenset({int, float, str, bool, type(None)})
#: Each field, and the value a file that leaves it out gives every job.
_DEFAULTS = tuple((name, OMITTED.get(name)) for name in RECORD_FIELDS)
_ABSENT = object()


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
            name: compact_column(name, [getattr(r, name) for r in records])
            for name in RECORD_FIELDS
        }
        return cls(columns, len(records))

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]]) -> Records:
        """Records from rows of field values in :data:`RECORD_FIELDS` order (a results file of
        version 2); fields a row leaves out take :class:`JobRecord`'s defaults."""
        return cls.of([JobRecord(*row) for row in rows])

    @classmethod
    def from_data(
        cls, data: dict[str, Any], shared: dict[tuple[Any, ...], Shared] | None = None
    ) -> Records:
        """Records from their file form (either form), already checked against the schema; a
        column of another length than ``jobs`` raises ``ValueError`` naming it, as does a
        compact column that is not whole nanoseconds. ``shared``: the columns of one value
        made so far, reused where a run has the same (a large file's runs share most: their
        process, their host, no error)."""
        length = data[JOBS]
        columns: dict[str, Column] = {}
        for name, default in _DEFAULTS:
            value = data.get(name, _ABSENT)
            kind = type(value)
            if kind in _SCALARS:  # one value every job has (the most common case first)
                columns[name] = _shared(value, length, shared)
            elif kind is list or kind is array or isinstance(value, list | array):
                if len(value) != length:
                    raise ValueError(f"records.{name} has {len(value)} values for {length} jobs")
                columns[name] = value
            elif value is _ABSENT and name == "index":
                columns[name] = range(length)  # the compact form's jobs in order
            elif kind is dict and name in NANOSECONDS:
                columns[name] = seconds(name, value, length)
            else:  # one value, or a field every job left as it was
                columns[name] = _shared(default if value is _ABSENT else value, length, shared)
        check_times(columns, length)
        return cls(columns, length)

    def to_data(self, compact: bool | None = None, arrays: bool = False) -> dict[str, Any]:
        """The file form: the job count, then each column as a list or its shared value, but
        for the fields every job leaves as they were (:data:`OMITTED`); ``compact`` (by default
        for :data:`COMPACT_FROM` jobs and more): no ``index`` where the jobs are in order, and
        the times as whole nanoseconds after the first start where that is exact. ``arrays``:
        the columns kept as arrays stay arrays (for a worker's answer, which packs them), and
        no ``index`` where the jobs are in order."""
        if compact is None:
            compact = self._length >= COMPACT_FROM
        data: dict[str, Any] = {JOBS: self._length}
        base = self._base() if compact else None
        for name in RECORD_FIELDS:
            column = self._columns[name]
            if (compact or arrays) and name == "index" and in_order(column):
                continue
            if isinstance(column, Shared):
                if name not in OMITTED or column.value != OMITTED[name]:
                    data[name] = column.value
            elif arrays and isinstance(column, array):
                data[name] = column
            elif base is not None and name in NANOSECONDS:
                data[name] = nanoseconds(column, base) or list(column)
            else:
                data[name] = list(column)
        return data

    def _base(self) -> int | None:
        """Where the compact form's nanoseconds count from: the first start, in whole
        nanoseconds (``None`` without a start that is a finite number)."""
        starts = self._columns["start"]
        try:
            return round(min(starts) * _NS_PER_SECOND) if starts else None
        except (OverflowError, ValueError, TypeError):
            return None

    def with_column(self, name: str, values: Sequence[Any]) -> Records:
        """These records with field ``name`` of every job replaced by ``values``."""
        if len(values) != self._length:
            raise ValueError(f"records.{name} has {len(values)} values for {self._length} jobs")
        return Records({**self._columns, name: values}, self._length)

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
        return map(JobRecord, *(self._columns[name] for name in RECORD_FIELDS))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Records | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Records({list(self)!r})"
