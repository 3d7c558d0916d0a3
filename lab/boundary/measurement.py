"""What a worker process answers for one cell: its measurement, each job's record as a list of
:data:`RECORD_FIELDS` (or, for a large run, the records by column in their compact file form:
see :mod:`lab.records`), every field's type checked when the lab reads it."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import math
import operator
import sys
from array import array
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lab.jobs import RECORD_FIELDS, JobRecord, Timed
from lab.records import JOBS, Records

JsonScalar = int | float | str | bool | None


@dataclass(frozen=True)
class Measurement:
    """What a worker measured: phase times (seconds), the run's CPU time and how far it may be
    off, the records, the run's window on the shared clock, and whether the GIL was on after
    the run. ``error`` is set when the runner failed. ``outside_tree``: the jobs ran outside
    the cell's process tree (a cluster the runner connected to), so its CPU and memory are not
    theirs."""

    startup: float | None = None
    wall: float | None = None
    teardown: float | None = None
    cpu: float | None = None
    cpu_resolution: float | None = None
    run_start: float | None = None
    run_end: float | None = None
    #: A list of records, or (a large run's, kept by column as its jobs ended) :class:`Records`.
    records: list[JobRecord] | Records = field(default_factory=list)
    error: str | None = None
    gil_enabled: bool | None = None
    outside_tree: bool = False
    #: The runner's :attr:`lab.runner.Runner.bookkeeping_cpu`: the CPU a job its checks allow.
    bookkeeping_cpu: float = 0.0
    #: The measuring process's host and clock offset (see :class:`lab.jobs.JobRecord`).
    host: str = ""
    clock_offset: float = 0.0
    #: The processes the task's session started (its server), measured apart from the cell's,
    #: and the CPU they used in the run.
    session_pids: list[int] = field(default_factory=list)
    session_cpu: float | None = None
    #: Each thread's CPU in the run, as ``[pid, native thread id, seconds]`` (threads that ran
    #: through the whole run; the session's apart), each count to within ``cpu_tick`` seconds.
    thread_cpu: list[list[float]] = field(default_factory=list)
    cpu_tick: float = 0.0
    #: The processes that vanished in the run with nobody of the tree accounting for their
    #: CPU (their parent let the system reap them), as ``[pid, creation time, seconds used at
    #: the run's start, 1 if kept apart else 0]``: the lab, which sampled the tree, adds what
    #: they used up to its last sample of them to ``cpu`` (or ``session_cpu``).
    vanished_cpu: list[list[float]] = field(default_factory=list)
    #: How many times each job was called, by index, counted in the processes that called it
    #: (``None``: not counted; calls on another host are not counted).
    calls: list[int] | None = None
    #: The bytes the worker held for the records and the call counts of the run's jobs
    #: (``None``: not known), which its peak memory includes: the lab's, not the jobs'.
    records_memory: int | None = None

    def to_json(self) -> str:
        """JSON with each record as a list of its fields, in :data:`RECORD_FIELDS` order, or
        records by column in their compact file form."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        records = self.records
        if isinstance(records, Records):
            data["records"] = _columns_to_json(records)
            if self.calls is not None:
                data["calls"] = _packed(array("q", self.calls))
        else:
            data["records"] = [_portable_values(r) for r in records]
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Measurement:
        """Parse a worker's answer; anything malformed raises ``ValueError``."""
        try:
            data: dict[str, Any] = json.loads(text)
            found = data.pop("records")
            records: list[JobRecord] | Records
            if isinstance(found, dict):
                records = _checked_columns(found)
                if isinstance(data.get("calls"), dict):
                    data["calls"] = _unpacked("calls", data["calls"], "q").tolist()
            else:
                records = [_checked(JobRecord(*values)) for values in found]
            measurement = cls(records=records, **data)
        except (TypeError, KeyError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"malformed measurement: {exc}") from exc
        return _checked(measurement)


#: The columns a worker sends as packed arrays, each with its array's type code: 64-bit
#: floats and integers, sent whole (8 bytes a job, base64) and read back exactly.
PACKED = {
    "index": "q",
    "pid": "q",
    "thread_id": "q",
    "start": "d",
    "end": "d",
    "cpu": "d",
    "clock_offset": "d",
}
ARRAY, BASE64 = "array", "base64"


def _packed(values: array[Any]) -> dict[str, str]:
    """An array as JSON: its type code and its bytes in little-endian order, in base64."""
    if sys.byteorder != "little":
        values = array(values.typecode, values)
        values.byteswap()
    return {ARRAY: values.typecode, BASE64: base64.b64encode(values.tobytes()).decode("ascii")}


def _unpacked(name: str, data: dict[str, Any], typecode: str) -> array[Any]:
    """The array :func:`_packed` made of column ``name``; ``ValueError`` for anything else."""
    if set(data) != {ARRAY, BASE64} or data[ARRAY] != typecode:
        raise ValueError(f"malformed measurement: {name} is not an array of {typecode!r}")
    values = array(typecode)
    try:
        values.frombytes(base64.b64decode(data[BASE64], validate=True))
    except (TypeError, ValueError, binascii.Error) as exc:
        raise ValueError(f"malformed measurement: {name}: {exc}") from None
    if sys.byteorder != "little":
        values.byteswap()
    if typecode == "d" and not all(map(math.isfinite, values)):
        raise ValueError(f"malformed measurement: {name} is not finite")
    return values


def _columns_to_json(records: Records) -> dict[str, Any]:
    """A large run's records for the lab: each column that is an array of :data:`PACKED`
    packed, the others in their file form, the results made portable."""
    data = records.to_data(compact=False, arrays=True)
    for name, value in data.items():
        if isinstance(value, array):
            data[name] = _packed(value)
    if isinstance(data.get("result"), list):
        data["result"] = list(map(portable, data["result"]))
    elif "result" in data:
        data["result"] = portable(data["result"])
    return data


def _checked_columns(data: dict[str, Any]) -> Records:
    """Records by column from a worker's answer, every value of every column checked for its
    field's type (the packed columns as arrays of theirs)."""
    length = data.get(JOBS)
    if type(length) is not int or length < 0:
        raise ValueError("malformed measurement: records.jobs must be a count")
    unknown = sorted(set(data) - {JOBS, *RECORD_FIELDS})
    if unknown:
        raise ValueError(f"malformed measurement: records has no field {unknown[0]!r}")
    columns: dict[str, Any] = {JOBS: length}
    for name, value in data.items():
        if name == JOBS:
            continue
        if name in PACKED and isinstance(value, dict) and ARRAY in value:
            columns[name] = _unpacked(name, value, PACKED[name])
        else:  # a list, one value a job, or one value every job shares
            _check_column(name, value if isinstance(value, list) else [value])
            columns[name] = value
    try:
        return Records.from_data(columns)
    except ValueError as exc:
        raise ValueError(f"malformed measurement: {exc}") from None


def _check_column(name: str, values: list[Any]) -> None:
    """``ValueError`` unless every value in ``values`` has field ``name``'s type."""
    allowed = set(_TYPES[name])  # by exact type: True is not a whole number here
    if name == "operations":
        for value in values:
            if value is not None and not (isinstance(value, list) and _seconds(value)):
                raise ValueError(_NOT_SECONDS)
        return
    found = set(map(type, values))
    if not found <= allowed:
        wrong = sorted(t.__name__ for t in found - allowed)
        raise ValueError(f"malformed measurement: records.{name} has a {wrong[0]}")


_record_values = operator.attrgetter(*RECORD_FIELDS)
_RESULT = RECORD_FIELDS.index("result")
_OPERATIONS = RECORD_FIELDS.index("operations")


def portable(value: Any) -> JsonScalar:
    """A JSON scalar for a result: the value itself, the size of bytes, or the ``repr``."""
    if value is None or isinstance(value, int | float | str | bool):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    return repr(value)


def _portable_values(record: JobRecord) -> list[Any]:
    """The record's fields for JSON: a :class:`Timed` result split into its result and the
    durations of its operations."""
    values = list(_record_values(record))
    result = values[_RESULT]
    if isinstance(result, Timed):
        values[_OPERATIONS] = [float(seconds) for seconds in result.operations]
        result = result.result
    values[_RESULT] = portable(result)
    return values


_NUMBER = (int, float)
_TYPES: dict[str, tuple[type, ...]] = {
    "index": (int,),
    "pid": (int,),
    "process": (str,),
    "thread": (str,),
    "thread_id": (int,),
    "start": _NUMBER,
    "end": _NUMBER,
    "cpu": (*_NUMBER, type(None)),
    "cpu_resolution": (*_NUMBER, type(None)),
    "result": (*_NUMBER, str, bool, type(None)),
    "error": (str, type(None)),
    "startup": (*_NUMBER, type(None)),
    "wall": (*_NUMBER, type(None)),
    "teardown": (*_NUMBER, type(None)),
    "run_start": (*_NUMBER, type(None)),
    "run_end": (*_NUMBER, type(None)),
    "records": (list, Records),
    "records_memory": (int, type(None)),
    "gil_enabled": (bool, type(None)),
    "outside_tree": (bool,),
    "bookkeeping_cpu": _NUMBER,
    "host": (str,),
    "clock_offset": _NUMBER,
    "operations": (list, type(None)),
    "session_pids": (list,),
    "session_cpu": (*_NUMBER, type(None)),
    "thread_cpu": (list,),
    "cpu_tick": _NUMBER,
    "vanished_cpu": (list,),
    "calls": (list, type(None)),
}


Checked = TypeVar("Checked", JobRecord, "Measurement")
_NOT_SECONDS = "malformed measurement: operations must be seconds, none negative"


def _seconds(values: list[Any]) -> bool:
    """Whether ``values`` are durations: numbers (not ``True``), none negative."""
    return all(type(seconds) in _NUMBER and seconds >= 0 for seconds in values)


def _checked(value: Checked) -> Checked:
    """``value`` (a record or a measurement) if every field has its type, else ``ValueError``."""
    for item in dataclasses.fields(value):
        field_value = getattr(value, item.name)
        if not isinstance(field_value, _TYPES[item.name]) or (
            isinstance(field_value, bool) and bool not in _TYPES[item.name]
        ):
            raise ValueError(f"malformed measurement: {item.name} is {type(field_value).__name__}")
    operations = getattr(value, "operations", None)
    if operations is not None and not _seconds(operations):
        raise ValueError(_NOT_SECONDS)
    calls = getattr(value, "calls", None)
    if calls is not None and not all(type(count) is int and count >= 0 for count in calls):
        raise ValueError("malformed measurement: calls must be counts, none negative")
    thread_cpu = getattr(value, "thread_cpu", [])
    if not all(
        isinstance(item, list) and len(item) == 3 and all(type(v) in _NUMBER for v in item)
        for item in thread_cpu
    ):
        raise ValueError("malformed measurement: thread_cpu must be [pid, thread, seconds]")
    vanished = getattr(value, "vanished_cpu", [])
    if not all(
        isinstance(item, list) and len(item) == 4 and all(type(v) in _NUMBER for v in item)
        for item in vanished
    ):
        raise ValueError(
            "malformed measurement: vanished_cpu must be [pid, creation time, seconds, apart]"
        )
    return value
