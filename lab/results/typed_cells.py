"""A results file's cell line decoded and checked in one pass, where msgspec is installed.

The schema (:mod:`lab.results.schema`) says what a cell may be, and the line reader
(:mod:`lab.results.lines`) checks each cell against it once decoded: two passes over every
figure in Python, most of the time a large file takes to read. msgspec decodes a line straight
into the typed structures below, checking each value's type and bounds as it goes, in C.

The structures take the cells the lab writes today and no more: every form they accept, the
schema accepts, and they make of it the cell the schema's reader makes (the tests hold both
to that). Anything else, an older form, a figure past what they bound, a field of another type,
is refused here, and the line is read as before, where the schema says what is wrong with it.
Without msgspec (it has no wheel for every interpreter), every line is read as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from lab.records import FROM, NANOSECONDS, NS, Records, Shared
from lab.results.model import Cell, Sample, failure_from_data
from lab.results.schema import LARGEST
from lab.runner import Layout

if TYPE_CHECKING:
    from collections.abc import Callable

try:
    import msgspec
    from msgspec import UNSET, Meta, Struct, UnsetType
except ImportError:  # pragma: no cover - make's set-up installs it wherever it has a wheel
    INSTALLED = False
else:
    INSTALLED = True

if INSTALLED:
    # The schema's figures, bounded as it bounds them, but whole numbers by their 64 bits (the
    # schema allows 30 digits: a larger one is refused here and read as before). A figure is a
    # whole number or a float as the file has it, as the schema's reader keeps it.
    _TOP = 2**63 - 1
    Whole = Annotated[int, Meta(ge=-_TOP - 1, le=_TOP)]
    Count = Annotated[int, Meta(ge=0, le=_TOP)]
    Positive = Annotated[int, Meta(ge=1, le=_TOP)]
    Number = Whole | Annotated[float, Meta(ge=-LARGEST, le=LARGEST)]
    Seconds = Count | Annotated[float, Meta(ge=0, le=LARGEST)]

    class _Strict(Struct, forbid_unknown_fields=True):
        """A JSON object with exactly the fields declared."""

    class _Layout(_Strict):
        processes: Positive
        threads: Positive
        tasks: Positive

    class _Status(_Strict):
        kind: str
        detail: str
        traceback: str = ""

    class _Nanoseconds(_Strict):
        from_: Whole = msgspec.field(name=FROM)
        ns: list[Any]

    class _Records(_Strict):
        jobs: Count
        pid: list[Whole] | Whole
        process: list[str] | str
        thread: list[str] | str
        thread_id: list[Whole] | Whole
        start: list[Number] | Number | _Nanoseconds
        end: list[Number] | Number | _Nanoseconds
        cpu: list[Number | None] | Number | None
        index: list[Count] | Count | UnsetType = UNSET  # unset: 0, 1, 2 … in order
        # the others as a file that leaves them out gives them (lab.records.OMITTED)
        result: Any = None
        error: list[str | None] | str | None = None
        host: list[str] | str = ""
        clock_offset: list[Number] | Number = 0.0
        operations: list[list[Seconds] | None] | None = None

    class _Sample(_Strict):
        # In Sample's order, records first of those with defaults; the defaults are Sample's.
        startup: Seconds
        wall: Seconds
        teardown: Seconds
        cpu: Number
        job_span: Seconds
        peak_memory: Count
        records: _Records
        gil_enabled: bool | None = None
        cpu_resolution: Number = 0.0
        outside_tree: bool = False
        session_cpu: Seconds | None = None
        session_peak_memory: Count | None = None
        records_memory: Count | None = None
        others_peak_memory: Count | None = None

    class _Cell(_Strict):
        task: str
        bound: str
        runner: str
        kind: str
        workers: str
        layout: _Layout
        jobs: Positive
        size: Number
        not_applicable: str | None
        failure: _Status | None
        samples: list[_Sample]
        interpreter: str = ""
        failed_peak_memory: Count = None  # type: ignore[assignment]  # absent: not measured
        distributed: bool = False


def decoder() -> Callable[[bytes], Cell] | None:
    """A decoder of one cell line (its bytes, no trailing comma) to its cell; ``None`` without
    msgspec. The decoder raises ``ValueError`` for a line it does not take."""
    if not INSTALLED:
        return None
    decode = msgspec.json.Decoder(_Cell).decode
    shared: dict[tuple[Any, ...], Shared] = {}  # one of each shared column, for all the cells

    def cell(line: bytes) -> Cell:
        try:
            return _cell(decode(line), shared)
        except msgspec.MsgspecError as exc:
            raise ValueError(str(exc)) from None

    return cell


def _cell(found: _Cell, shared: dict[tuple[Any, ...], Shared]) -> Cell:
    layout = found.layout
    failure = found.failure
    return Cell(
        found.task,
        found.bound,
        found.runner,
        found.kind,
        found.workers,
        Layout(layout.processes, layout.threads, layout.tasks),
        found.jobs,
        found.size,
        found.not_applicable,
        [_sample(s, shared) for s in found.samples],
        None if failure is None else failure_from_data(msgspec.structs.asdict(failure)),
        found.interpreter,
        found.failed_peak_memory,
        found.distributed,
    )


def _sample(found: _Sample, shared: dict[tuple[Any, ...], Shared]) -> Sample:
    return Sample(
        found.startup,
        found.wall,
        found.teardown,
        found.cpu,
        found.job_span,
        found.peak_memory,
        found.gil_enabled,
        _records(found.records, shared),
        found.cpu_resolution,
        found.outside_tree,
        found.session_cpu,
        found.session_peak_memory,
        found.records_memory,
        found.others_peak_memory,
    )


def _records(found: _Records, shared: dict[tuple[Any, ...], Shared]) -> Records:
    """The records by column, as :meth:`Records.from_data` makes them of the fields given."""
    data = msgspec.structs.asdict(found)
    if data["index"] is UNSET:
        del data["index"]
    for name in NANOSECONDS:
        if type(value := data[name]) is _Nanoseconds:
            data[name] = {FROM: value.from_, NS: value.ns}
    return Records.from_data(data, shared)
