"""The files a run is written to: JSON (durably, as it goes), CSV, Markdown, HTML and plots.

Every path is checked before anything runs, so a run is never measured only to find that its
results cannot be kept; a write that fails at the end anyway (a full disk) is reported and the
other files are still written.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lab.boundary.files import cannot_create_in, write_atomically
from lab.errors import UsageError
from lab.results.journal import Journal
from lab.results.model import ResultsError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from lab.results.model import Results


@dataclass(frozen=True)
class Outputs:
    """Where to write a run: ``json`` is written as the run goes (its journal), ``copies`` are
    more JSON files written at the end, ``plots`` folders of plots, ``html`` HTML pages
    (``--save`` adds one of each to what ``--json``, ``--plot`` and ``--html`` name)."""

    json: Path | None = None
    csv: Path | None = None
    markdown: Path | None = None
    plots: tuple[Path, ...] = ()
    html: tuple[Path, ...] = ()
    copies: tuple[Path, ...] = ()

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Outputs:
        """The paths the options name, each checked to be writable: a bad one raises
        :class:`UsageError` naming its option. ``--save`` and ``--plot`` create their folder."""
        save = _path(getattr(args, "save", None), "--save")
        if save is not None:
            check_folder(save, "--save")
        files = {
            option: None if text is None else file_path(text, option, save)
            for option, text in (
                ("--json", args.json),
                ("--csv", args.csv),
                ("--markdown", args.markdown),
                ("--html", getattr(args, "html", None)),
            )
        }
        plot = _path(args.plot, "--plot")
        if plot is not None:
            check_folder(plot, "--plot")
        check_distinct({**files, "--plot": plot})
        json_path, copies = files["--json"], tuple[Path, ...]()
        plots = () if plot is None else (plot,)
        html = () if files["--html"] is None else (files["--html"],)
        if save is not None:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            if json_path is None:
                json_path = save / f"lab-{stamp}.json"
            else:
                copies = (save / f"lab-{stamp}.json",)
            plots = (*plots, save / f"lab-{stamp}-plots")
            html = (*html, save / f"lab-{stamp}.html")
        return cls(
            json=json_path,
            csv=files["--csv"],
            markdown=files["--markdown"],
            plots=plots,
            copies=copies,
            html=html,
        )

    def journal(self) -> Journal | None:
        return None if self.json is None else Journal(self.json)

    def write(self, results: Results, with_json: bool = False) -> Written:
        """Write the CSV, Markdown and plots (and the JSON when ``with_json``: a measuring run's
        JSON is its journal's to write), each whatever became of the others."""
        from lab.report.markdown_csv import to_csv, to_markdown

        written = Written()
        texts: list[tuple[Path, Callable[[], str]]] = [
            *((path, results.to_json) for path in self.copies),
            *([(self.json, results.to_json)] if with_json and self.json is not None else []),
            *([(self.csv, lambda: to_csv(results))] if self.csv is not None else []),
            *([(self.markdown, lambda: to_markdown(results))] if self.markdown else []),
            *((path, functools.partial(_page, results)) for path in self.html),
        ]
        for path, text in texts:
            written.attempt(path, functools.partial(_write_text, path, text))
        for folder in self.plots:
            written.attempt(folder, functools.partial(_write_plots, results, folder))
        return written


def _page(results: Results) -> str:
    from lab.report.html import results_page

    return results_page(results)


def _write_text(path: Path, text: Callable[[], str]) -> None:
    write_file(path, text())


def _write_plots(results: Results, folder: Path) -> str:
    from lab.report.plots import write_plots

    return f"{len(write_plots(results, folder))} plots in {folder}"


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


def write_file(path: Path, text: str) -> None:
    """Write ``text`` over ``path`` atomically; a :class:`ResultsError` says why not."""
    try:
        write_atomically(path, text)
    except OSError as exc:
        raise ResultsError(f"cannot write {path}: {exc.strerror or exc}") from None


#: What the lab adds to a file's name for the files it writes beside it: the longest of
#: ``NAME.100.partial`` (a journal) and ``NAME.XXXXXXXX.tmp`` (a file before its rename).
NAME_ADDED = 13


def check_file(path: Path, option: str, made: Path | None = None) -> None:
    """``path`` can be written over: not a folder nor a device, in an existing folder that
    takes new files (the file is written beside itself, then renamed), or in ``made``, a folder
    the run makes (``--save``'s, checked with :func:`check_folder`), with a name that leaves
    room for what the lab writes beside it."""
    what = f"{option} {path}"
    found = _stat(path, what)
    if found is None:
        folder = _stat(path.parent, what)
        if folder is None and made is not None and path.parent.absolute() == made.absolute():
            _check_name(path, what)
            return
        if folder is None:
            raise UsageError(f"{what}: no folder {path.parent}")
        if not stat.S_ISDIR(folder.st_mode):
            raise UsageError(f"{what}: {path.parent} is not a folder")
    elif stat.S_ISDIR(found.st_mode):
        raise UsageError(f"{what}: is a folder; name a file")
    elif not stat.S_ISREG(found.st_mode):
        raise UsageError(f"{what}: is not a regular file")
    _check_name(path, what)
    _probe(path.parent, what)


def _check_name(path: Path, what: str) -> None:
    """``path``'s name leaves room for what the lab writes beside it."""
    longest = _name_max(path.parent) - NAME_ADDED
    if len(os.fsencode(path.name)) > longest:
        raise UsageError(f"{what}: the file's name is too long: at most {longest} bytes here")


def check_folder(folder: Path, option: str) -> None:
    """``folder`` is a folder that takes new files, or can be made in one."""
    what = f"{option} {folder}"
    for existing in (folder, *folder.absolute().parents):
        found = _stat(existing, what)
        if found is None:
            continue
        if not stat.S_ISDIR(found.st_mode):
            place = "" if existing == folder else f" {existing}"
            raise UsageError(f"{what}:{place} is not a folder")
        _probe(existing, what)
        return


def _stat(path: Path, what: str) -> os.stat_result | None:
    """``path``'s status (following links), None if nothing is there; a loop of links, a name
    too long or any other failure is a :class:`UsageError` starting with ``what``."""
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UsageError(f"{what}: a loop of symbolic links") from None
        raise UsageError(f"{what}: {exc.strerror or exc}") from None


def _name_max(folder: Path) -> int:
    """The longest file name ``folder``'s file system takes, in bytes."""
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _probe(folder: Path, what: str) -> None:
    problem = cannot_create_in(folder)
    if problem is not None:
        raise UsageError(f"{what}: cannot create files in {folder}: {problem}")


def check_distinct(paths: dict[str, Path | None]) -> None:
    """No two options name one path: a :class:`UsageError` names both."""
    seen: dict[Path, str] = {}
    for option, path in paths.items():
        if path is None:
            continue
        resolved = path.resolve()
        if resolved in seen:
            raise UsageError(f"{seen[resolved]} and {option} name the same path: {path}")
        seen[resolved] = option


def _path(text: str | None, option: str) -> Path | None:
    return None if text is None else _given(text, option)


def _given(text: str, option: str) -> Path:
    if not text.strip():
        raise UsageError(f"{option} needs a path, not {text!r}")
    return Path(text)


def file_path(text: str, option: str, made: Path | None = None) -> Path:
    """The file ``option`` names, checked (:func:`check_file`, ``made``: a folder the run
    makes): a path ending in a slash names a folder, not a file, whatever is there."""
    path = _given(text, option)
    if text.endswith(("/", os.sep)):
        raise UsageError(f"{option} {text}: ends with a slash, so names a folder; name a file")
    check_file(path, option, made)
    return path
