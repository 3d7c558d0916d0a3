"""What a worker process answers for one cell: its measurement, each job's record as a list of
:data:`RECORD_FIELDS`, every field's type checked when the lab reads it."""

from __future__ import annotations

import dataclasses
import json
import operator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lab.jobs import JobRecord, Timed

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
    records: list[JobRecord] = field(default_factory=list)
    error: str | None = None
    gil_enabled: bool | None = None
    outside_tree: bool = False
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
    #: How many times each job was called, by index, counted in the processes that called it
    #: (``None``: not counted; calls on another host are not counted).
    calls: list[int] | None = None

    def to_json(self) -> str:
        """JSON with each record as a list of its fields, in :data:`RECORD_FIELDS` order."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["records"] = [_portable_values(r) for r in self.records]
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Measurement:
        """Parse a worker's answer; anything malformed raises ``ValueError``."""
        try:
            data: dict[str, Any] = json.loads(text)
            records = [_checked(JobRecord(*values)) for values in data.pop("records")]
            measurement = cls(records=records, **data)
        except (TypeError, KeyError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"malformed measurement: {exc}") from exc
        return _checked(measurement)


RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(JobRecord))
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
    "records": (list,),
    "gil_enabled": (bool, type(None)),
    "outside_tree": (bool,),
    "host": (str,),
    "clock_offset": _NUMBER,
    "operations": (list, type(None)),
    "session_pids": (list,),
    "session_cpu": (*_NUMBER, type(None)),
    "thread_cpu": (list,),
    "cpu_tick": _NUMBER,
    "calls": (list, type(None)),
}


Checked = TypeVar("Checked", JobRecord, "Measurement")


def _checked(value: Checked) -> Checked:
    """``value`` (a record or a measurement) if every field has its type, else ``ValueError``."""
    for item in dataclasses.fields(value):
        field_value = getattr(value, item.name)
        if not isinstance(field_value, _TYPES[item.name]) or (
            isinstance(field_value, bool) and bool not in _TYPES[item.name]
        ):
            raise ValueError(f"malformed measurement: {item.name} is {type(field_value).__name__}")
    operations = getattr(value, "operations", None)
    if operations is not None and not all(
        type(seconds) in _NUMBER and seconds >= 0 for seconds in operations
    ):
        raise ValueError("malformed measurement: operations must be seconds, none negative")
    calls = getattr(value, "calls", None)
    if calls is not None and not all(type(count) is int and count >= 0 for count in calls):
        raise ValueError("malformed measurement: calls must be counts, none negative")
    thread_cpu = getattr(value, "thread_cpu", [])
    if not all(
        isinstance(item, list) and len(item) == 3 and all(type(v) in _NUMBER for v in item)
        for item in thread_cpu
    ):
        raise ValueError("malformed measurement: thread_cpu must be [pid, thread, seconds]")
    return value
