"""A run's results as data: what the tables, the files, ``lab report`` and ``lab compare`` read.

Nothing here refers to plugins, so a saved run re-renders without them. Results cross to and
from files as JSON in a versioned schema, never as pickle.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from lab.worker.protocol import RECORD_FIELDS
from lab.errors import LabError
from lab.jobs import JobRecord
from lab.results.metadata import Metadata
from lab.runner import Layout

SCHEMA = "concurrency-lab/results"
SCHEMA_VERSION = 1


class ResultsError(LabError):
    """A results file that cannot be read or written."""

    exit_code = 1


@dataclass(slots=True)
class Sample:
    """One measured run of a cell, in seconds and bytes, with its job records."""

    startup: float
    wall: float
    teardown: float
    cpu: float
    job_span: float
    peak_memory: int
    gil_enabled: bool | None = None
    records: list[JobRecord] = field(default_factory=list)


@dataclass
class Cell:
    """One task on one runner with one worker setting, and what was measured of it."""

    task: str
    bound: str
    runner: str
    workers: str
    layout: Layout
    jobs: int
    size: int | float
    not_applicable: str | None = None
    samples: list[Sample] = field(default_factory=list)
    failure: str | None = None

    @property
    def runnable(self) -> bool:
        return self.not_applicable is None and self.failure is None

    @property
    def status(self) -> str:
        if self.not_applicable is not None:
            return f"n/a: {self.not_applicable}"
        return self.failure or "ok"

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies the cell across runs: task, runner and workers."""
        return self.task, self.runner, self.workers


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


@dataclass
class Results:
    """Everything one run of ``lab matrix`` measured, and the facts it ran under."""

    metadata: Metadata
    settings: dict[str, Any]
    tasks: list[TaskInfo]
    cells: list[Cell]
    complete: bool = True

    def task(self, name: str) -> TaskInfo:
        return next(t for t in self.tasks if t.name == name)

    def to_json(self) -> str:
        return json.dumps(self.to_data(), indent=1)

    def to_data(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "version": SCHEMA_VERSION,
            "complete": self.complete,
            "metadata": dataclasses.asdict(self.metadata),
            "settings": self.settings,
            "tasks": [dataclasses.asdict(t) for t in self.tasks],
            "record_fields": list(RECORD_FIELDS),
            "cells": [cell_to_data(c) for c in self.cells],
        }

    @classmethod
    def from_data(cls, data: Any, source: str) -> Results:
        """Results from parsed JSON; a foreign or damaged document raises ResultsError."""
        check_schema(data, source)
        try:
            return cls(
                metadata=Metadata(**data["metadata"]),
                settings=dict(data["settings"]),
                tasks=[TaskInfo(**t) for t in data["tasks"]],
                cells=[cell_from_data(c) for c in data["cells"]],
                complete=bool(data["complete"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ResultsError(f"{source} is damaged: {exc}") from None


def check_schema(data: Any, source: str) -> None:
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ResultsError(f"{source} is not a concurrency-lab results file")
    if data.get("version") != SCHEMA_VERSION:
        raise ResultsError(
            f"{source} has results version {data.get('version')!r}; this lab reads version"
            f" {SCHEMA_VERSION}"
        )


def sample_to_data(sample: Sample) -> dict[str, Any]:
    data = {f.name: getattr(sample, f.name) for f in dataclasses.fields(Sample)}
    data["records"] = [[getattr(r, name) for name in RECORD_FIELDS] for r in sample.records]
    return data


def sample_from_data(data: dict[str, Any]) -> Sample:
    records = [JobRecord(*values) for values in data.pop("records")]
    return Sample(**data, records=records)


def cell_to_data(cell: Cell) -> dict[str, Any]:
    return {
        "task": cell.task,
        "bound": cell.bound,
        "runner": cell.runner,
        "workers": cell.workers,
        "layout": dataclasses.asdict(cell.layout),
        "jobs": cell.jobs,
        "size": cell.size,
        "not_applicable": cell.not_applicable,
        "failure": cell.failure,
        "samples": [sample_to_data(s) for s in cell.samples],
    }


def cell_from_data(data: dict[str, Any]) -> Cell:
    data = dict(data)
    data["layout"] = Layout(**data["layout"])
    data["samples"] = [sample_from_data(dict(s)) for s in data["samples"]]
    return Cell(**data)
