"""A run's results as data: what the tables, the files, ``lab report`` and ``lab compare`` read.

Nothing here refers to plugins, so a saved run re-renders without them. Results cross to and
from files as JSON in a versioned schema, never as pickle.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lab.errors import LabError
from lab.machine.metadata import Metadata
from lab.records import Records
from lab.results.schema import RESULTS, SchemaError, validate
from lab.results.status import Status
from lab.runner import Layout

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lab.jobs import JobRecord

SCHEMA = "concurrency-lab/results"
SCHEMA_VERSION = 3
#: The versions this lab reads: version 2 kept each job's record as a row of its fields.
READ_VERSIONS = (2, SCHEMA_VERSION)
#: What ``settings["kind"]`` says of a run; a comparison needs both runs of one kind.
MATRIX = "matrix"
SWEEP = "sweep"


#: The size of work that has none (a user's function: each job is one call): it is not a
#: wait, a count or a number of bytes.
UNSIZED = "call"


class ResultsError(LabError):
    """A results file that cannot be read or written."""

    exit_code = 1


class BadResultsFile(ResultsError):
    """A results file given as input that is missing, foreign, damaged or of another version:
    bad input, like a bad option."""

    exit_code = 2


@dataclass(slots=True)
class Sample:
    """One measured run of a cell, in seconds and bytes, with its job records.

    ``cpu_resolution`` is how far ``cpu`` may be off (seconds): the clock-tick rounding of
    every process it was read from.
    """

    startup: float
    wall: float
    teardown: float
    cpu: float
    job_span: float
    peak_memory: int
    gil_enabled: bool | None = None
    records: Records = field(default_factory=lambda: Records.of([]))
    cpu_resolution: float = 0.0
    #: The jobs ran outside the cell's process tree (a remote cluster): ``cpu`` and
    #: ``peak_memory`` are the lab's side only.
    outside_tree: bool = False
    #: The CPU (in the run) and peak memory of the processes the task's session started (its
    #: server), which ``cpu`` and ``peak_memory`` leave out; ``None`` when it started none.
    session_cpu: float | None = None
    session_peak_memory: int | None = None
    #: The bytes the cell's worker held for the run's records and call counts, which
    #: ``peak_memory`` includes (``None``: not known, as in files written before it was).
    records_memory: int | None = None
    #: The peak memory of the tree's processes that ran no job (the cell's own unless it ran
    #: them, a pool's or an engine's others: a raylet, nannies), which ``peak_memory``
    #: includes (``None``: not known, or the jobs ran outside the tree).
    others_peak_memory: int | None = None

    def __post_init__(self) -> None:
        if type(self.records) is not Records:  # a list of records: kept by column
            self.records = Records.of(self.records)


def span(records: Sequence[JobRecord]) -> float:
    """From the first job's start to the last job's end (0 without records): on the records'
    own clock when they come from one host, on the wall clock when from several."""
    if not records:
        return 0.0
    starts, ends = Records.of(records).times()
    return float(max(ends) - min(starts))


@dataclass
class Cell:
    """One task on one runner with one worker setting, and what was measured of it.

    ``kind`` is the runner's kind (:data:`lab.runner.KINDS`), kept so that a saved run is
    analysed without its plugins; ``failure`` is why the cell stopped being run, if it did,
    and ``failed_peak_memory`` the peak memory of that run's process tree, when it was measured.
    """

    task: str
    bound: str
    runner: str
    kind: str
    workers: str
    layout: Layout
    jobs: int
    size: int | float
    not_applicable: str | None = None
    samples: list[Sample] = field(default_factory=list)
    failure: Status | None = None
    interpreter: str = ""
    failed_peak_memory: int | None = None
    #: The runner is an engine whose jobs may run on other machines (``Runner.distributed``).
    distributed: bool = False

    @property
    def runnable(self) -> bool:
        return self.not_applicable is None and self.failure is None

    @property
    def place(self) -> tuple[str, str, str, str]:
        """Where the cell sits in a table: task, interpreter, runner and workers."""
        return self.task, self.interpreter, self.runner, self.workers

    @property
    def work(self) -> tuple[int | float, int]:
        """The work each run of the cell does besides its task: the size and the jobs."""
        return self.size, self.jobs

    @property
    def key(self) -> tuple[str, int | float, int, str, str, str]:
        """What identifies the cell across runs: the work (task, size, jobs) and how it ran
        (interpreter, runner, workers). Only cells with equal keys are compared."""
        return self.task, self.size, self.jobs, self.interpreter, self.runner, self.workers


@dataclass(frozen=True)
class TaskInfo:
    """A task as the run used it: its size and how that size was chosen."""

    name: str
    description: str
    bound: str
    size_name: str
    size: int | float
    size_text: str
    how: str = ""
    #: Whether the task's jobs share state (a lock, a counter, a dict) rather than nothing.
    shares_state: bool = False
    #: What the operations its jobs time are called (``"request"``); empty when they time none.
    operation: str = ""
    #: What the processes its session starts are called (``"server"``).
    session_name: str = ""
    #: Whether the task declares that its jobs release the GIL (hashing, compressing, C code):
    #: threads may then compute in parallel with the GIL on.
    releases_gil: bool = False
    #: Whether every job's answer must be the same whichever runner ran it (its records'
    #: results are answers: the start of a ``repr`` and a digest).
    same_answers: bool = False
    #: The values ``--task-option`` set: part of the work, like the size.
    options: dict[str, str] = field(default_factory=dict)

    @property
    def options_text(self) -> str:
        """``key=value`` pairs, or nothing."""
        return ", ".join(f"{key}={value}" for key, value in sorted(self.options.items()))


@dataclass
class Results:
    """Everything one run of ``lab matrix`` measured, and the facts it ran under."""

    metadata: Metadata
    settings: dict[str, Any]
    tasks: list[TaskInfo]
    cells: list[Cell]
    complete: bool = True
    #: The interpreters ``--python`` named, the reference first (their ``to_data`` forms);
    #: empty when the cells ran on the lab's own, the one the metadata describes.
    interpreters: list[dict[str, Any]] = field(default_factory=list)
    #: What the lab warned about when it ran (a busy machine, oversubscribed cells).
    warnings: list[str] = field(default_factory=list)

    def task(self, name: str) -> TaskInfo:
        return next(t for t in self.tasks if t.name == name)

    @property
    def interpreter_labels(self) -> list[str]:
        """The interpreters' labels, the reference first (``[""]``: the lab's own)."""
        return [str(i["label"]) for i in self.interpreters] or [""]

    @property
    def kind(self) -> str:
        """``"matrix"`` or ``"sweep"``."""
        return str(self.settings.get("kind", MATRIX))

    @property
    def repeat(self) -> int:
        """The measured runs each cell was to have."""
        return int(self.settings["repeat"])

    def check(self, source: str) -> None:
        """Raise :class:`ResultsError` unless every cell belongs to a task of the run and has
        that task's size: within one run, a task is one piece of work."""
        sizes = {t.name: t.size for t in self.tasks}
        for number, cell in enumerate(self.cells):
            if cell.task not in sizes:
                raise BadResultsFile(
                    f"{source} is damaged: cell {number} has no task {cell.task!r}"
                )
            if cell.size != sizes[cell.task]:
                raise BadResultsFile(
                    f"{source} is damaged: cell {number} has size {cell.size}, its task"
                    f" {cell.task!r} {sizes[cell.task]}"
                )

    def to_json(self) -> str:
        """The results file: its header indented for people to read, then one cell a line
        (a large run's cells would otherwise take a line for every figure of every job)."""
        data = self.to_data()
        cells = data.pop("cells")
        head = json.dumps(data, indent=1)[: -len("\n}")]
        lines = ",\n  ".join(json.dumps(cell, separators=(",", ":")) for cell in cells)
        return f'{head},\n "cells": [\n  {lines}\n ]\n}}' if cells else head + ',\n "cells": []\n}'

    def to_data(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "version": SCHEMA_VERSION,
            "complete": self.complete,
            "metadata": dataclasses.asdict(self.metadata),
            "settings": self.settings,
            "tasks": [dataclasses.asdict(t) for t in self.tasks],
            "interpreters": self.interpreters,
            "warnings": self.warnings,
            "cells": [cell_to_data(c) for c in self.cells],
        }

    @classmethod
    def from_data(cls, data: Any, source: str) -> Results:
        """Results from parsed JSON, validated whole against the schema first; a foreign or
        damaged document raises :class:`BadResultsFile` naming the field."""
        check_schema(data, source)
        try:
            validate(RESULTS, data)
            results = cls(
                metadata=Metadata(**data["metadata"]),
                settings=dict(data["settings"]),
                tasks=[TaskInfo(**t) for t in data["tasks"]],
                cells=[_cell_from_data(number, c) for number, c in enumerate(data["cells"])],
                complete=bool(data["complete"]),
                interpreters=[dict(i) for i in data.get("interpreters", [])],
                warnings=list(data.get("warnings", [])),
            )
        except SchemaError as exc:
            raise BadResultsFile(f"{source}: {exc}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadResultsFile(f"{source} is damaged: {exc}") from None
        results.check(source)
        return results


def check_schema(data: Any, source: str) -> None:
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise BadResultsFile(f"{source} is not a concurrency-lab results file")
    version = data.get("version")
    if version not in READ_VERSIONS:
        earlier = isinstance(version, int) and version < SCHEMA_VERSION
        raise BadResultsFile(
            f"{source} has results version {version!r}"
            + (" from an earlier lab" if earlier else "")
            + f"; this lab reads versions {' and '.join(map(str, READ_VERSIONS))}"
            + ("; measure it again" if earlier else "")
        )


def sample_to_data(sample: Sample) -> dict[str, Any]:
    """A sample's file form: its records by column (a large run's in the compact form), its
    records' memory where it is known."""
    data = {f.name: getattr(sample, f.name) for f in dataclasses.fields(Sample)}
    data["records"] = sample.records.to_data()
    for name in ("records_memory", "others_peak_memory"):
        if data[name] is None:
            del data[name]
    return data


def sample_from_data(data: dict[str, Any]) -> Sample:
    """A sample from its file form: records by column, or (version 2) a row a job."""
    found = data.pop("records")
    records = Records.from_rows(found) if isinstance(found, list) else Records.from_data(found)
    return Sample(**data, records=records)


def cell_to_data(cell: Cell) -> dict[str, Any]:
    return {
        "task": cell.task,
        "bound": cell.bound,
        "runner": cell.runner,
        "kind": cell.kind,
        "interpreter": cell.interpreter,
        "workers": cell.workers,
        "layout": dataclasses.asdict(cell.layout),
        "jobs": cell.jobs,
        "size": cell.size,
        "not_applicable": cell.not_applicable,
        "failure": None if cell.failure is None else cell.failure.to_data(),
        "samples": [sample_to_data(s) for s in cell.samples],
        **(
            {}
            if cell.failed_peak_memory is None
            else {"failed_peak_memory": cell.failed_peak_memory}
        ),
        **({"distributed": True} if cell.distributed else {}),
    }


def _cell_from_data(number: int, data: dict[str, Any]) -> Cell:
    """Cell ``number`` of a results file; what is wrong with its records names the cell."""
    try:
        return cell_from_data(data)
    except ValueError as exc:
        raise ValueError(f"cell {number}: {exc}") from None


def cell_from_data(data: dict[str, Any]) -> Cell:
    data = dict(data)
    data["layout"] = Layout(**data["layout"])
    data["samples"] = [sample_from_data(dict(s)) for s in data["samples"]]
    data["failure"] = failure_from_data(data["failure"])
    return Cell(**data)


def failure_from_data(data: Any) -> Status | None:
    """A cell's failure from JSON: ``None``, or a status of a failing kind."""
    if data is None:
        return None
    failure = Status.from_data(data)
    if not failure.failed:
        raise ValueError(f"a failure cannot be {failure.kind.value!r}")
    return failure
