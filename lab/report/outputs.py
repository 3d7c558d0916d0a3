"""The files a run is written to: JSON (durably, as it goes), CSV, Markdown and plots.

Every path is checked before anything runs, so a run is never measured only to find that its
results cannot be kept; a write that fails at the end anyway (a full disk) is reported and the
other files are still written.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lab.errors import UsageError
from lab.results.files import write_atomically
from lab.results.journal import Journal
from lab.results.model import ResultsError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from lab.results.model import Results


@dataclass(frozen=True)
class Outputs:
    """Where to write a run; ``save`` is a folder for a timestamped JSON file and its plots."""

    json: Path | None = None
    csv: Path | None = None
    markdown: Path | None = None
    plot: Path | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Outputs:
        """The paths the options name, each checked to be writable: a bad one raises
        :class:`UsageError` naming its option. ``--save`` and ``--plot`` create their folder."""
        save = _path(getattr(args, "save", None), "--save")
        if save is not None:
            check_folder(save, "--save")
        files = {
            "--json": _path(args.json, "--json"),
            "--csv": _path(args.csv, "--csv"),
            "--markdown": _path(args.markdown, "--markdown"),
        }
        for option, path in files.items():
            if path is not None:
                check_file(path, option)
        plot = _path(args.plot, "--plot")
        if plot is not None:
            check_folder(plot, "--plot")
        _check_distinct({**files, "--plot": plot})
        json_path = files["--json"]
        if save is not None:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            json_path = json_path or save / f"lab-{stamp}.json"
            plot = plot or save / f"lab-{stamp}-plots"
        return cls(json_path, files["--csv"], files["--markdown"], plot)

    def journal(self) -> Journal | None:
        return None if self.json is None else Journal(self.json)

    def write(self, results: Results, with_json: bool = False) -> Written:
        """Write the CSV, Markdown and plots (and the JSON when ``with_json``: a measuring run's
        JSON is its journal's to write), each whatever became of the others."""
        from lab.report.exports import to_csv, to_markdown

        written = Written()
        if with_json and self.json is not None:
            written.attempt(self.json, lambda: write_file(self.json, results.to_json()))
        if self.csv is not None:
            written.attempt(self.csv, lambda: write_file(self.csv, to_csv(results)))
        if self.markdown is not None:
            written.attempt(self.markdown, lambda: write_file(self.markdown, to_markdown(results)))
        if self.plot is not None:
            written.attempt(self.plot, lambda: self._plots(results))
        return written

    def _plots(self, results: Results) -> str:
        from lab.report.plots import write_plots

        assert self.plot is not None
        return f"{len(write_plots(results, self.plot))} plots in {self.plot}"


@dataclass
class Written:
    """What a run's files became: a line for each written, an error for each that was not."""

    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def attempt(self, path: Path, write: Callable[[], str | None]) -> None:
        try:
            what = write()
        except ResultsError as exc:
            self.errors.append(str(exc))
        else:
            self.lines.append(f"lab: wrote {what or path}")


def write_file(path: Path | None, text: str) -> None:
    """Write ``text`` over ``path`` atomically; a :class:`ResultsError` says why not."""
    assert path is not None
    try:
        write_atomically(path, text)
    except OSError as exc:
        raise ResultsError(f"cannot write {path}: {exc.strerror or exc}") from None


def check_file(path: Path, option: str) -> None:
    """``path`` can be written over: not a folder nor a device, in an existing folder that
    takes new files (the file is written beside itself, then renamed)."""
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a folder; name a file")
    if path.exists() and not path.is_file():
        raise UsageError(f"{option} {path}: is not a regular file")
    if not path.parent.is_dir():
        raise UsageError(f"{option} {path}: no folder {path.parent}")
    _probe(path.parent, f"{option} {path}")


def check_folder(folder: Path, option: str) -> None:
    """``folder`` is a folder that takes new files, or can be made in one."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{option} {folder}: is not a folder")
    existing = next(p for p in (folder, *folder.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise UsageError(f"{option} {folder}: {existing} is not a folder")
    _probe(existing, f"{option} {folder}")


def _probe(folder: Path, what: str) -> None:
    """Create and remove a file in ``folder``: the one test that no permission bit, read-only
    mount or pseudo-filesystem (``/proc``) can fool."""
    try:
        descriptor, name = tempfile.mkstemp(prefix=".lab-probe-", dir=folder)
    except OSError as exc:
        raise UsageError(f"{what}: cannot create files in {folder}: {exc.strerror}") from None
    os.close(descriptor)
    with contextlib.suppress(OSError):
        os.unlink(name)


def _check_distinct(paths: dict[str, Path | None]) -> None:
    seen: dict[Path, str] = {}
    for option, path in paths.items():
        if path is None:
            continue
        resolved = path.resolve()
        if resolved in seen:
            raise UsageError(f"{seen[resolved]} and {option} name the same path: {path}")
        seen[resolved] = option


def _path(text: str | None, option: str) -> Path | None:
    if text is None:
        return None
    if not text.strip():
        raise UsageError(f"{option} needs a path, not {text!r}")
    return Path(text)
