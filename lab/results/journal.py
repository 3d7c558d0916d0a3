"""Writing results durably, and reading them back.

While a matrix runs, every run of a cell is appended to ``PATH.partial`` as one JSON line and
flushed to disk, so a crash or Ctrl-C keeps what was measured. At the end the whole document
is written to a temporary file and renamed over ``PATH``, so an earlier file stays intact
until the new one is complete. :func:`load` reads either form.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from lab.results.files import write_atomically
from lab.results.model import (
    Results,
    ResultsError,
    check_schema,
    failure_from_data,
    sample_from_data,
    sample_to_data,
)

if TYPE_CHECKING:
    from pathlib import Path

    from lab.results.model import Cell, Sample

PARTIAL_SUFFIX = ".partial"


class Journal:
    """The durable record of one run, written as it goes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + PARTIAL_SUFFIX)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.partial.open("w", encoding="utf-8")
        except OSError as exc:
            raise ResultsError(f"cannot write results to {path}: {exc.strerror or exc}") from None

    def begin(self, results: Results) -> None:
        """The facts and the planned cells, before anything is measured."""
        self._write(results.to_data())

    def add(self, cells: list[Cell], cell: Cell, sample: Sample | None) -> None:
        """One run of ``cell``: its kept sample, or its failure."""
        failure = None if cell.failure is None else cell.failure.to_data()
        entry: dict[str, Any] = {"cell": cells.index(cell), "failure": failure}
        if sample is not None:
            entry["sample"] = sample_to_data(sample)
        self._write(entry)

    def finish(self, results: Results) -> None:
        """Write the whole document over ``path`` (write, then rename) and drop the journal."""
        self._file.close()
        try:
            write_atomically(self.path, results.to_json(), durable=True)
        except OSError as exc:
            raise ResultsError(
                f"cannot write results to {self.path}: {exc.strerror or exc};"
                f" what was measured is in {self.partial}"
            ) from None
        self.partial.unlink(missing_ok=True)

    def close(self) -> None:
        self._file.close()

    def discard(self) -> None:
        """Close and remove the journal: the run measured nothing."""
        self._file.close()
        self.partial.unlink(missing_ok=True)

    def _write(self, data: dict[str, Any]) -> None:
        try:
            self._file.write(json.dumps(data, separators=(",", ":")) + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            raise ResultsError(f"cannot write results to {self.partial}: {exc}") from None


def load(path: Path) -> Results:
    """A results file, complete or the journal of an interrupted run; a missing, corrupt or
    foreign file raises :class:`ResultsError` with one line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return Results.from_data(json.loads(text), str(path))
    except json.JSONDecodeError:
        return _from_journal(text, str(path))


def _from_journal(text: str, source: str) -> Results:
    lines = text.splitlines()
    try:
        header = json.loads(lines[0]) if lines else None
    except json.JSONDecodeError:
        raise ResultsError(f"{source} is not a concurrency-lab results file") from None
    check_schema(header, source)
    results = Results.from_data(header, source)
    results.complete = False
    for number, line in enumerate(lines[1:], start=2):
        try:
            entry = json.loads(line)
            cell = results.cells[entry["cell"]]
            if "sample" in entry:
                cell.samples.append(sample_from_data(dict(entry["sample"])))
            cell.failure = failure_from_data(entry["failure"])
        except json.JSONDecodeError:
            if number == len(lines):
                break  # the last line was cut short when the run stopped
            raise ResultsError(f"{source} is damaged at line {number}") from None
        except (KeyError, IndexError, TypeError, ValueError):
            raise ResultsError(f"{source} is damaged at line {number}") from None
    return results
