"""Writing results durably, and reading them back.

While a matrix runs, every run of a cell is appended to ``PATH.partial`` as one JSON line and
flushed to disk, so a crash or Ctrl-C keeps what was measured. At the end the whole document
is written to a temporary file and renamed over ``PATH``, so an earlier file stays intact
until the new one is complete. A journal that cannot grow (a full disk) stops without stopping
the run. :func:`load` reads either form.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import TYPE_CHECKING, Any, TextIO

from lab.boundary.files import write_atomically
from lab.results.model import (
    BadResultsFile,
    Results,
    ResultsError,
    failure_from_data,
    sample_from_data,
    sample_to_data,
)
from lab.results.schema import JOURNAL_ENTRY, SchemaError, validate

if TYPE_CHECKING:
    from pathlib import Path

    from lab.results.model import Cell, Sample

PARTIAL_SUFFIX = ".partial"


class Journal:
    """The durable record of one run, written as it goes.

    A write that fails (a full disk) does not stop the run: the journal stops there, keeps
    the runs written so far, and says once what failed (:attr:`error`); the whole document is
    still tried at the end.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + PARTIAL_SUFFIX)
        self.error: str | None = None
        self.begun = False
        self.runs = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file: TextIO | None = self.partial.open("w", encoding="utf-8")
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
        if self._write(entry):
            self.runs += 1

    def finish(self, results: Results) -> str | None:
        """Write the whole document over ``path`` (write, then rename) and drop the journal;
        what failed, if that could not be done."""
        self.close()
        try:
            write_atomically(self.path, results.to_json(), durable=True)
        except OSError as exc:
            if self.runs:
                kept = f"{self.partial} keeps the first {self.runs} runs"
            else:
                self.partial.unlink(missing_ok=True)
                kept = "the tables above are all that was kept"
            return f"cannot write results to {self.path}: {exc.strerror or exc}; {kept}"
        self.partial.unlink(missing_ok=True)
        return None

    def close(self) -> None:
        """Close the journal; what a full disk keeps from being flushed is already lost."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def discard(self) -> None:
        """Close and remove the journal: the run measured nothing."""
        self.close()
        self.partial.unlink(missing_ok=True)

    def _write(self, data: dict[str, Any]) -> bool:
        if self._file is None:
            return False
        try:
            self._file.write(json.dumps(data, separators=(",", ":")) + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            self.error = (
                f"cannot write {self.partial}: {exc.strerror or exc}; the run goes on, and what"
                " it measures is kept in memory"
            )
            self.close()
            if not self.begun:  # not even the header: nothing a reader could use
                self.partial.unlink(missing_ok=True)
            return False
        self.begun = True
        return True


def load(path: Path) -> Results:
    """A results file, complete or the journal of an interrupted run, validated whole; a
    missing, truncated, damaged or foreign file raises :class:`BadResultsFile` with one line."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise BadResultsFile(f"cannot read {path}: {reason}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if _is_journal(text):
            return _from_journal(text, source)
        raise BadResultsFile(_json_problem(exc, text, source)) from None
    return Results.from_data(data, source)


def _is_journal(text: str) -> bool:
    """Whether ``text`` is one JSON document a line, a results header first."""
    try:
        header = json.loads(text.partition("\n")[0])
    except json.JSONDecodeError:
        return False
    return isinstance(header, dict) and "schema" in header


def _json_problem(exc: json.JSONDecodeError, text: str, source: str) -> str:
    """Why ``text`` is not JSON, in the reader's terms: empty, cut short, or not JSON."""
    if not text.strip():
        return f"{source} is empty"
    if not text.lstrip().startswith("{"):
        return f"{source} is not a concurrency-lab results file"
    if exc.lineno >= text.rstrip().count("\n") + 1:  # the document stops mid-way
        return f"{source}: truncated JSON at line {exc.lineno}"
    return f"{source}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"


def _from_journal(text: str, source: str) -> Results:
    lines = text.splitlines()
    results = Results.from_data(json.loads(lines[0]), source)
    results.complete = False
    for number, line in enumerate(lines[1:], start=2):
        try:
            entry = json.loads(line)
            validate(JOURNAL_ENTRY, entry)
            cell = results.cells[entry["cell"]]
            if "sample" in entry:
                cell.samples.append(sample_from_data(dict(entry["sample"])))
            cell.failure = failure_from_data(entry["failure"])
        except json.JSONDecodeError:
            if number == len(lines):
                break  # the last line was cut short when the run stopped
            raise BadResultsFile(f"{source} is damaged at line {number}: not JSON") from None
        except SchemaError as exc:
            raise BadResultsFile(f"{source} is damaged at line {number}: {exc}") from None
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise BadResultsFile(f"{source} is damaged at line {number}: {exc}") from None
    return results
