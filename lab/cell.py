"""One measurement of one cell, as data: what the lab asks a worker process for, and what
comes back. Both cross the process boundary as JSON, never pickle."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from lab.jobs import JobRecord


@dataclass(frozen=True)
class CellSpec:
    """Run ``jobs`` jobs of ``task`` at ``size`` with ``runner`` (``None``: inline in the main
    thread, for calibration) and ``workers``."""

    task: str
    runner: str | None
    workers: str
    jobs: int
    size: int | float
    start_method: str
    trace: bool = False
    blocked: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    autoload: bool = True
    sys_path: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> CellSpec:
        data = json.loads(text)
        for key in ("blocked", "modules", "sys_path"):
            data[key] = tuple(data[key])
        return cls(**data)


@dataclass(frozen=True)
class Measurement:
    """What a worker measured: phase times (seconds), the run's CPU time, the records, and the
    run's window on the shared clock. ``error`` is set when the runner failed."""

    startup: float | None = None
    wall: float | None = None
    teardown: float | None = None
    cpu: float | None = None
    run_start: float | None = None
    run_end: float | None = None
    records: list[JobRecord] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Measurement:
        """Parse a worker's answer; anything malformed raises ``ValueError``."""
        try:
            data: dict[str, Any] = json.loads(text)
            records = [JobRecord(**record) for record in data.pop("records")]
            return cls(records=records, **data)
        except (TypeError, KeyError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"malformed measurement: {exc}") from exc
