"""The files a run is written to: JSON (durably, as it goes), CSV, Markdown and plots."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lab.results.files import write_atomically
from lab.results.journal import Journal
from lab.results.model import ResultsError

if TYPE_CHECKING:
    import argparse

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
        """The paths the options name, checked to be writable before anything runs."""
        json_path = _path(args.json)
        plot = _path(args.plot)
        save = getattr(args, "save", None)
        if save:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            json_path = json_path or Path(save, f"lab-{stamp}.json")
            plot = plot or Path(save, f"lab-{stamp}-plots")
        found = cls(json_path, _path(args.csv), _path(args.markdown), plot)
        for path in (found.csv, found.markdown):
            if path is not None:
                _check_writable(path.parent, path)
        if found.plot is not None:
            _check_writable(found.plot, found.plot)
        return found

    def journal(self) -> Journal | None:
        return None if self.json is None else Journal(self.json)

    def write(self, results: Results, with_json: bool = False) -> list[str]:
        """Write the CSV, Markdown and plots (and the JSON when ``with_json``); one line each
        saying where."""
        from lab.report.exports import to_csv, to_markdown

        written = []
        if with_json and self.json is not None:
            write_file(self.json, results.to_json())
        if self.json is not None:
            written.append(f"lab: wrote {self.json}")
        if self.csv is not None:
            write_file(self.csv, to_csv(results))
            written.append(f"lab: wrote {self.csv}")
        if self.markdown is not None:
            write_file(self.markdown, to_markdown(results))
            written.append(f"lab: wrote {self.markdown}")
        if self.plot is not None:
            from lab.report.plots import write_plots

            files = write_plots(results, self.plot)
            written.append(f"lab: wrote {len(files)} plots in {self.plot}")
        return written


def write_file(path: Path, text: str) -> None:
    """Write ``text`` over ``path`` atomically; a :class:`ResultsError` says why not."""
    try:
        write_atomically(path, text)
    except OSError as exc:
        raise ResultsError(f"cannot write {path}: {exc.strerror or exc}") from None


def _path(text: str | None) -> Path | None:
    return None if not text else Path(text)


def _check_writable(folder: Path, path: Path) -> None:
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ResultsError(f"cannot write {path}: {existing} is not a writable folder")
