"""A large run's job records, kept by column as its jobs end, in the cell's worker process.

A run of 1,000,000 sleeping jobs must measure the sleeps, not the lab: a record object a job
(about 180 bytes with its two times) would add an eighth to what a waiting asyncio task costs,
and a row a job to send back. From :data:`~lab.records.COMPACT_FROM` jobs the worker
gives each job a :class:`Recorder`: a job that ends in this process writes its times into
arrays made before the run (16 bytes a job), the thread that ran it as a small number where
more than one did, and its result, error and operations only where it has any; it returns
:data:`lab.jobs.RECORDED` for the runner to pass back. A job that ran in another process (a
pool's worker, a cluster) returns its record as ever, and the lab adds it here
(:meth:`Recorder.add_record`). The run's records are then one :class:`Records` by column, as
the host keeps and saves them; what the recorder held is :meth:`Recorder.nbytes`, which the
lab reports apart from the jobs' memory.

Nothing here trusts the runner more than the rows did: each job counts the times it ended, so
a job that never ran, or ran twice, shows in the records as it would have.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from array import array
from typing import TYPE_CHECKING, Any

from lab.jobs import RECORD_FIELDS, JobRecord, Timed
from lab.records import COMPACT_FROM, Column, Records, Shared, compact_column

if TYPE_CHECKING:
    from lab.jobs import Identity

__all__ = ["COMPACT_FROM", "Recorder", "records_nbytes"]

#: The identity fields of a record, in the order of :data:`lab.jobs.Identity`.
IDENTITY = ("pid", "process", "thread", "thread_id", "host", "clock_offset")
#: How many times a job's end is counted, at most (a byte a job).
MOST_RUNS = 255
_NAN = math.nan


class Recorder:
    """The records of the ``jobs`` jobs of one run, by index, filled as they end.

    A job keeps its record here only in the process that made the recorder (the identity a job
    reads says which process it runs in; a forked child's differs) and for an index of the
    run; otherwise :meth:`add` says no, and the job makes its record as ever.
    """

    __slots__ = (
        "_cpus",
        "_errors",
        "_first",
        "_identities",
        "_lock",
        "_operations",
        "_results",
        "_runs",
        "_strays",
        "_who",
        "ends",
        "length",
        "pid",
        "starts",
    )

    def __init__(self, jobs: int) -> None:
        self.pid = os.getpid()
        self.length = jobs
        self.starts = array("d", bytes(8 * jobs))
        self.ends = array("d", bytes(8 * jobs))
        self._runs = bytearray(jobs)
        #: The identity (process, thread, host) of the first thread a job ended on, and every
        #: identity's number; ``_who`` holds each job's where a second thread ran jobs.
        self._first: Identity | None = None
        self._identities: dict[Identity, int] = {}
        self._who: array[int] | None = None
        self._cpus: array[float] | None = None  # NaN: no CPU time (an awaited job)
        self._results: list[Any] | None = None  # None: every job returned None
        self._errors: dict[int, str] = {}
        self._operations: dict[int, list[float]] = {}
        #: Records of indices outside the run, which only a runner's own records can have.
        self._strays: list[JobRecord] = []
        self._lock = threading.Lock()

    def add(
        self,
        index: int,
        identity: Identity,
        start: float,
        end: float,
        cpu: float | None,
        result: Any,
        error: str | None,
    ) -> bool:
        """Keep the record of job ``index`` that just ended in this process; ``False`` (and
        nothing kept) where it ran in another one or is not a job of the run."""
        if identity[0] != self.pid or not 0 <= index < self.length:
            return False
        self.starts[index] = start
        self.ends[index] = end
        runs = self._runs
        if runs[index] < MOST_RUNS:
            runs[index] += 1
        if identity is not self._first:
            self._ran_on(index, identity)
        if cpu is not None:
            cpus = self._cpus
            if cpus is None:
                cpus = self._new_cpus()
            cpus[index] = cpu
        if result is not None or error is not None:
            self._outcome(index, result, error)
        return True

    def add_record(self, record: JobRecord) -> None:
        """Keep a record a runner returned (a job that ran in another process)."""
        index = record.index
        if type(index) is not int or not 0 <= index < self.length:
            self._strays.append(record)
            return
        identity: Identity = (
            record.pid, record.process, record.thread, record.thread_id, record.host,
            record.clock_offset,
        )  # fmt: skip
        self.starts[index] = record.start
        self.ends[index] = record.end
        if self._runs[index] < MOST_RUNS:
            self._runs[index] += 1
        self._ran_on(index, identity)
        if record.cpu is not None:
            (self._cpus or self._new_cpus())[index] = record.cpu
        self._outcome(index, record.result, record.error)
        if record.operations is not None:
            self._operations[index] = list(record.operations)

    def _ran_on(self, index: int, identity: Identity) -> None:
        """Note the thread job ``index`` ended on, where it is not the first one's."""
        with self._lock:
            if self._first is None:
                self._first = identity
                self._identities[identity] = 0
                return
            number = self._identities.setdefault(identity, len(self._identities))
            if self._who is None:
                if number == 0:
                    return
                self._who = array("I", bytes(4 * self.length))
            self._who[index] = number

    def _new_cpus(self) -> array[float]:
        with self._lock:
            if self._cpus is None:
                self._cpus = array("d", [_NAN]) * self.length
            return self._cpus

    def _outcome(self, index: int, result: Any, error: str | None) -> None:
        """Keep what a job returned (its operations apart) and its error."""
        if isinstance(result, Timed):
            self._operations[index] = [float(seconds) for seconds in result.operations]
            result = result.result
        if error is not None:
            self._errors[index] = error
        else:
            self._errors.pop(index, None)  # ran twice: its last run's outcome
        results = self._results
        if results is None and result is not None:
            with self._lock:
                if self._results is None:
                    self._results = [None] * self.length
                results = self._results
        if results is not None:
            results[index] = result

    def nbytes(self) -> int:
        """The bytes the records take in this process: their arrays, lists and maps (the
        values in them that are not shared, too)."""
        found = sum(
            sys.getsizeof(part)
            for part in (self.starts, self.ends, self._runs, self._who, self._cpus)
            if part is not None
        )
        if self._results is not None:
            found += sys.getsizeof(self._results)
        for kept in (self._errors, self._operations):
            if kept:
                found += sys.getsizeof(kept) + sum(map(sys.getsizeof, kept.values()))
        return found

    def records(self) -> Records:
        """The run's records by column, in the jobs' order: one for each time a job ended (none
        for a job that never ran, two for one that ran twice), then any stray ones."""
        if self._strays or self._runs.count(1) != self.length or self._first is None:
            return Records.of(self._rows())
        length = self.length
        columns: dict[str, Column] = {"index": range(length)}
        if self._who is None:
            for name, value in zip(IDENTITY, self._first, strict=True):
                columns[name] = Shared(value, length)
        else:
            numbered = list(self._identities)
            for position, name in enumerate(IDENTITY):
                values = [identity[position] for identity in numbered]
                columns[name] = compact_column(name, [values[w] for w in self._who])
        columns["start"], columns["end"] = self.starts, self.ends
        columns["cpu"] = self._cpu_column()
        results, errors, operations = self._results, self._errors, self._operations
        columns["result"] = Shared(None, length) if results is None else results
        columns["error"] = (
            Shared(None, length) if not errors else [errors.get(i) for i in range(length)]
        )
        columns["operations"] = (
            Shared(None, length) if not operations else [operations.get(i) for i in range(length)]
        )
        assert set(columns) == set(RECORD_FIELDS)
        return Records({name: columns[name] for name in RECORD_FIELDS}, length)

    def _cpu_column(self) -> Column:
        cpus = self._cpus
        if cpus is None:
            return Shared(None, self.length)
        if any(map(math.isnan, cpus)):
            return [None if math.isnan(c) else c for c in cpus]
        return cpus

    def _rows(self) -> list[JobRecord]:
        """A record for each time a job ended, from the columns: the slow way, for the runs
        whose records are wrong (a job that never ran or ran twice, a stray record)."""
        numbered = list(self._identities)
        found = []
        for index, runs in enumerate(self._runs):
            if not runs:
                continue
            identity = numbered[0 if self._who is None else self._who[index]]
            cpu = None if self._cpus is None or math.isnan(self._cpus[index]) else self._cpus[index]
            pid, process, thread, thread_id, host, offset = identity
            record = JobRecord(
                index, pid, process, thread, thread_id, self.starts[index], self.ends[index], cpu,
                None if self._results is None else self._results[index],
                self._errors.get(index), host, offset, self._operations.get(index),
            )  # fmt: skip
            found += [record] * runs
        return found + self._strays


def records_nbytes(records: list[JobRecord]) -> int:
    """The bytes a list of record objects takes: the list, each record and the numbers it
    holds apart (its times and CPU)."""
    found = sys.getsizeof(records)
    for record in records:
        found += sys.getsizeof(record) + sys.getsizeof(record.start) + sys.getsizeof(record.end)
        if record.cpu is not None:
            found += sys.getsizeof(record.cpu)
    return found
