"""Finding the interpreters ``--python`` names, through uv's discovery.

A SPEC is a version (``3.12``, ``3.13t`` for a free-threaded build), a path, or a command on
PATH; ``+gil`` after a free-threaded one runs it with the GIL turned back on
(``PYTHON_GIL=1``), so one run can tell "free-threaded build" from "GIL off". uv searches PATH
and the interpreters it manages; the lab adds pyenv's versions and the folder ``make pythons``
builds into.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, replace
from pathlib import Path

from lab.errors import UsageError

#: Where ``make pythons`` builds CPython (the Makefile's PYTHONS).
BUILT_ENV = "PYTHONS"
BUILT_DEFAULT = Path.home() / ".cache" / "concurrency-lab" / "pythons"
GIL_SUFFIX = "+gil"
#: Seconds uv and a probed interpreter may take to answer.
FIND_TIMEOUT = 60.0

_PROBE = """\
import json, platform, sys, sysconfig
print(json.dumps({
    "executable": sys.executable,
    "version": platform.python_version(),
    "implementation": platform.python_implementation(),
    "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "compiler": platform.python_compiler(),
}))
"""


@dataclass(frozen=True)
class Interpreter:
    """An interpreter the lab runs cells under.

    :param label: the SPEC as the user wrote it: how tables and files name it.
    :param executable: the interpreter uv found.
    :param version: ``3.13.15``.
    :param free_threaded: a build without the GIL (PEP 703).
    :param gil: ``PYTHON_GIL`` for its processes: ``"0"`` or ``"1"`` on a free-threaded
        build, ``None`` elsewhere.
    :param description: ``CPython 3.13.15 (free-threaded GCC 12.2.0)``, as the header says it.
    :param cell_python: the Python its cells' worker processes run: its environment's, once
        :func:`lab.envs.environments.prepare` made it (empty: ``executable`` itself).
    :param own: the lab's own interpreter, unnamed: its cells run with the lab's environment
        as it is.
    """

    label: str
    executable: str
    version: str
    free_threaded: bool
    gil: str | None
    description: str
    cell_python: str = ""
    own: bool = False

    @property
    def worker_executable(self) -> str:
        """What a cell's worker process is started with."""
        return self.cell_python or self.executable

    @property
    def environ(self) -> dict[str, str]:
        """What its processes' environment needs besides the lab's."""
        return {} if self.gil is None else {"PYTHON_GIL": self.gil}

    @property
    def unset(self) -> tuple[str, ...]:
        """What its processes' environment must not have: ``PYTHON_GIL`` on a build with the
        GIL, which refuses to start when asked to run without it."""
        return () if self.free_threaded else ("PYTHON_GIL",)

    def process_environ(self) -> dict[str, str] | None:
        """A worker's environment: the lab's, changed as this Python needs (``None``: the
        lab's as it is)."""
        if self.own or (not self.environ and not any(n in os.environ for n in self.unset)):
            return None
        merged = {k: v for k, v in os.environ.items() if k not in self.unset}
        return {**merged, **self.environ}

    def to_data(self) -> dict[str, object]:
        """How a results file names it."""
        return {
            "label": self.label,
            "executable": self.executable,
            "version": self.version,
            "free_threaded": self.free_threaded,
            "gil": self.gil,
            "description": self.description,
        }


def search_path() -> str:
    """PATH, then the interpreters ``make pythons`` built, then pyenv's versions."""
    built = Path(os.environ.get(BUILT_ENV) or BUILT_DEFAULT)
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    folders = [str(p) for root in (built, pyenv) for p in sorted(root.glob("*/bin"), reverse=True)]
    return os.pathsep.join([os.environ.get("PATH", ""), *folders])


def uv_binary() -> str:
    """The uv executable that the ``uv`` package installed beside the lab."""
    try:
        from uv import find_uv_bin
    except ImportError:
        raise UsageError("--python needs uv: pip install uv") from None
    return str(find_uv_bin())


def find(spec: str) -> Interpreter:
    """The interpreter ``spec`` names; a :class:`UsageError` says why there is none."""
    text = spec.strip()
    wants_gil = text.endswith(GIL_SUFFIX)
    request = text.removesuffix(GIL_SUFFIX)
    if not request:
        raise UsageError(f"--python needs a version, a path or a command, not {spec!r}")
    try:
        found = subprocess.run(
            [uv_binary(), "python", "find", "--system", "--no-python-downloads", request],
            capture_output=True,
            text=True,
            timeout=FIND_TIMEOUT,
            env={**os.environ, "PATH": search_path()},
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"could not look for Python {request!r}: {exc}") from None
    if found.returncode != 0 or not found.stdout.strip():
        raise UsageError(
            f"no Python {request!r} on this machine (searched PATH, uv's, pyenv's and"
            " make pythons' interpreters); make pythons builds 3.13 and 3.13t"
        )
    facts = probe(found.stdout.strip().splitlines()[-1])
    if wants_gil and not facts["free_threaded"]:
        raise UsageError(f"{spec!r}: {GIL_SUFFIX} is for a free-threaded build (such as 3.13t)")
    gil = ("1" if wants_gil else "0") if facts["free_threaded"] else None
    return _interpreter(text, facts, gil)


def _interpreter(label: str, facts: dict[str, object], gil: str | None) -> Interpreter:
    """An interpreter from what it says of itself (:data:`_PROBE`'s facts)."""
    build = "free-threaded " if facts["free_threaded"] else ""
    return Interpreter(
        label=label,
        executable=str(facts["executable"]),
        version=str(facts["version"]),
        free_threaded=bool(facts["free_threaded"]),
        gil=gil,
        description=f"{facts['implementation']} {facts['version']} ({build}{facts['compiler']})",
    )


def probe(executable: str) -> dict[str, object]:
    """What ``executable`` says of itself."""
    try:
        answer = subprocess.run(
            [executable, "-I", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=FIND_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        facts: dict[str, object] = json.loads(answer.stdout)
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        raise UsageError(f"{executable} does not answer as a Python: {exc}") from None
    return facts


def running() -> Interpreter:
    """The interpreter the lab itself runs on, labelled by its version (``3.13.15t``)."""
    facts: dict[str, object] = {  # what _PROBE prints, read in this process
        "executable": sys.executable,
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "compiler": platform.python_compiler(),
    }
    label = f"{facts['version']}{'t' if facts['free_threaded'] else ''}"
    return _interpreter(label, facts, None)


def own() -> Interpreter:
    """The lab's own interpreter, as the cells of a run without ``--python`` run on it: no
    label, the lab's environment as it is."""
    return replace(running(), label="", cell_python=sys.executable, own=True)


def find_all(text: str) -> list[Interpreter]:
    """The interpreters a comma-separated ``--python`` names, the reference first; a label
    given twice is an error."""
    specs = [s.strip() for s in text.split(",")]
    if not all(specs):
        raise UsageError(f"--python takes SPEC[,SPEC...] with no empty SPEC, not {text!r}")
    if len(set(specs)) != len(specs):
        raise UsageError(f"--python names an interpreter twice: {text!r}")
    return [find(spec) for spec in specs]
