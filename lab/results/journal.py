"""Writing results durably, and reading them back.

While a matrix runs, every run of a cell is appended to ``PATH.partial`` as one JSON line and
flushed to disk, so a crash or Ctrl-C keeps what was measured. The journal is created new
(never opened through a link, never over an earlier run's journal, which is kept: the run
then journals to ``PATH.2.partial``, and so on). At the end the whole document is written to a
temporary file and renamed over ``PATH``, so an earlier file stays intact until the new one is
complete. A journal that cannot grow (a full disk) stops without stopping the run.
:func:`load` reads either form.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import stat
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from lab.boundary.files import write_atomically
from lab.results.lines import read_lines
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
    from collections.abc import Iterator
    from pathlib import Path

    from lab.results.model import Cell, Sample

PARTIAL_SUFFIX = ".partial"
#: The largest results file read unless the reader asks for more (``--allow-large``).
MOST_BYTES = 512 * 2**20
#: The most digits of a whole number in a results file (nanoseconds since 1970 take 19).
MOST_DIGITS = 30
#: How many journals of earlier, interrupted runs may lie beside one results file.
MOST_JOURNALS = 100
#: The bytes read from a results file at a time: a file of cells is read a line at a time,
#: and a line (a cell) is a few KiB; a small buffer would refill for every line or two.
READ_BUFFER = 2**16
#: Flags that create a file new, never through a link, never over another file.
CREATE_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC


class Journal:
    """The durable record of one run, written as it goes.

    A write that fails (a full disk) does not stop the run: the journal stops there, keeps
    the runs written so far, and says once what failed (:attr:`error`); the whole document is
    still tried at the end. :attr:`earlier` names the journals of earlier runs left beside
    ``path``, which this one keeps.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: str | None = None
        self.begun = False
        self.runs = 0
        self.earlier: list[Path] = []
        #: Each cell's position in the list ``add`` was last given, by identity: found once,
        #: not by comparing every cell's fields on every run.
        self._positions: dict[int, int] = {}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.partial, self._file = self._create()
        except OSError as exc:
            raise ResultsError(f"cannot write results to {path}: {exc.strerror or exc}") from None

    def _create(self) -> tuple[Path, TextIO | None]:
        """The first free journal name beside ``path``, created new, and its open file."""
        for number in range(1, MOST_JOURNALS + 1):
            middle = "" if number == 1 else f".{number}"
            partial = self.path.with_name(f"{self.path.name}{middle}{PARTIAL_SUFFIX}")
            try:
                descriptor = os.open(partial, CREATE_NEW, 0o666)
            except FileExistsError:
                self.earlier.append(partial)
                continue
            return partial, os.fdopen(descriptor, "w", encoding="utf-8")
        raise OSError(
            0, f"{MOST_JOURNALS} journals of earlier runs are in the way; move or remove them"
        )

    def begin(self, results: Results) -> None:
        """The facts and the planned cells, before anything is measured."""
        self._write(results.to_data())

    def _position(self, cells: list[Cell], cell: Cell) -> int:
        """Where ``cell`` is in ``cells``."""
        found = self._positions.get(id(cell))
        if found is None or found >= len(cells) or cells[found] is not cell:
            self._positions = {id(c): i for i, c in enumerate(cells)}
            found = self._positions[id(cell)]
        return found

    def add(self, cells: list[Cell], cell: Cell, sample: Sample | None) -> None:
        """One run of ``cell``: its kept sample, or its failure."""
        failure = None if cell.failure is None else cell.failure.to_data()
        entry: dict[str, Any] = {"cell": self._position(cells, cell), "failure": failure}
        if sample is not None:
            entry["sample"] = sample_to_data(sample)
        if cell.failed_peak_memory is not None:
            entry["failed_peak_memory"] = cell.failed_peak_memory
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


def load(path: Path, most_bytes: int | None = MOST_BYTES) -> Results:
    """A results file, complete or the journal of an interrupted run, validated whole; a
    missing, truncated, damaged, foreign or oversized file (``most_bytes``; None: no limit),
    or anything but a regular file, raises :class:`BadResultsFile` with one line."""
    source = str(path)
    with _collector_paused():
        found = _read_by_lines(path, most_bytes, source)
        if found is not None:
            return found
        text = _read(path, most_bytes)
        try:
            data = _decode(text, source)
        except json.JSONDecodeError as exc:
            if _is_journal(text):
                return _from_journal(text, source)
            raise BadResultsFile(_json_problem(exc, text, source)) from None
        del text  # parsed: not kept while the results are built from it
        return Results.from_data(data, source)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a file's objects are made (none of them forms a
    cycle: they go when their count of references does), and those kept set apart from its
    later passes: each pass would otherwise walk every object made so far, which on a file of
    100,000 cells costs more than reading it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.freeze()


def _read_by_lines(path: Path, most_bytes: int | None, source: str) -> Results | None:
    """The results of a file the lab wrote, read a cell at a time (:mod:`lab.results.lines`);
    ``None`` when it cannot be read so, which :func:`_read` then reads whole (and says why
    when it cannot be read at all)."""
    try:
        with _open(path, most_bytes) as file:
            return read_lines(iter(file), source)
    except (OSError, ResultsError, MemoryError):
        return None


def _open(path: Path, most_bytes: int | None) -> BinaryIO:
    """The regular file ``path``, opened without waiting on a FIFO or a device, refused past
    ``most_bytes``."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    file = os.fdopen(descriptor, "rb", buffering=READ_BUFFER)
    try:
        found = os.fstat(descriptor)
        if not stat.S_ISREG(found.st_mode):
            raise BadResultsFile(f"{path} is not a regular file")
        if most_bytes is not None and found.st_size > most_bytes:
            raise BadResultsFile(
                f"{path} is {found.st_size / 2**20:,.0f} MiB, past the"
                f" {most_bytes / 2**20:,.0f} MiB a results file is read to;"
                " --allow-large reads it whole"
            )
    except BaseException:
        file.close()
        raise
    return file


def _read(path: Path, most_bytes: int | None) -> str:
    """The text of the regular file ``path`` (see :func:`_open`)."""
    try:
        with _open(path, most_bytes) as file:
            return file.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise BadResultsFile(f"cannot read {path}: {reason}") from None
    except MemoryError:
        raise BadResultsFile(f"{path} does not fit in the memory the lab may use") from None


def _decode(text: str, source: str) -> Any:
    """JSON as a results file may hold it: finite numbers of sensible length, nested to a
    sensible depth; anything else is a :class:`BadResultsFile` (a syntax error stays a
    ``JSONDecodeError``, for the caller to explain).

    Numbers are read by the decoder's own fast path: a figure past the largest float, which it
    reads as an infinity, is refused by the schema's bounds; a whole number past the decoder's
    limit is read again, by hooks that say why."""
    try:
        try:
            return json.loads(text, parse_constant=_no_constant)
        except json.JSONDecodeError:
            raise
        except ValueError:  # a number the decoder refused: say which
            return json.loads(
                text, parse_constant=_no_constant, parse_float=_finite, parse_int=_whole_number
            )
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise BadResultsFile(f"{source}: nested too deeply to be a results file") from None
    except ValueError as exc:
        raise BadResultsFile(f"{source}: {exc}") from None
    except MemoryError:
        raise BadResultsFile(f"{source} does not fit in the memory the lab may use") from None


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a figure a results file holds: every figure is finite")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is past the largest figure a results file holds")
    return value


def _whole_number(text: str) -> int:
    if len(text.lstrip("-")) > MOST_DIGITS:
        raise ValueError(
            f"a whole number of {len(text)} digits; a results file holds none past {MOST_DIGITS}"
        )
    return int(text)


def _is_journal(text: str) -> bool:
    """Whether ``text`` is one JSON document a line, a results header first."""
    try:
        header = _decode(text.partition("\n")[0], "")
    except (json.JSONDecodeError, BadResultsFile):
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
    results = Results.from_data(_decode(lines[0], source), source)
    results.complete = False
    for number, line in enumerate(lines[1:], start=2):
        try:
            entry = _decode(line, source)
            validate(JOURNAL_ENTRY, entry)
            cell = results.cells[entry["cell"]]
            if "sample" in entry:
                cell.samples.append(sample_from_data(dict(entry["sample"])))
            cell.failure = failure_from_data(entry["failure"])
            cell.failed_peak_memory = entry.get("failed_peak_memory")
        except json.JSONDecodeError:
            if number == len(lines):
                break  # the last line was cut short when the run stopped
            raise BadResultsFile(f"{source} is damaged at line {number}: not JSON") from None
        except SchemaError as exc:
            raise BadResultsFile(f"{source} is damaged at line {number}: {exc}") from None
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise BadResultsFile(f"{source} is damaged at line {number}: {exc}") from None
    return results
