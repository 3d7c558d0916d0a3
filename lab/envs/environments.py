"""An environment per interpreter, created once with uv and cached, holding the lab, its
dependencies and every plugin distribution installed beside it, each from where it was
installed (the same checkout, the same URL, or the same version from the index)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

import filelock

from lab.envs.interpreters import uv_binary
from lab.errors import LabError

if TYPE_CHECKING:
    from lab.envs.interpreters import Interpreter

CACHE_ENV = "LAB_ENVS"
CACHE_DEFAULT = Path.home() / ".cache" / "concurrency-lab" / "envs"
LAB_DISTRIBUTION = "concurrency-lab"
#: The lab's extras an environment gets: what the runners need (trio for anyio-trio).
LAB_EXTRAS = "[trio]"
ENTRY_POINT_GROUP = "lab"
#: Written last: an environment without it was not finished and is made again.
COMPLETE = ".complete"
#: Seconds creating one environment may take (a free-threaded build compiles uvloop).
SETUP_TIMEOUT = 1800.0
_FAILED = re.compile(r"[Ff]ailed to (?:build|download|install|prepare|resolve)[^`']*[`']([^`']+)")


class EnvironmentSetupError(LabError):
    """An interpreter's environment could not be made."""


def cache_folder() -> Path:
    return Path(os.environ.get(CACHE_ENV) or CACHE_DEFAULT)


def is_running(interpreter: Interpreter) -> bool:
    """Whether ``interpreter`` is the one the lab runs on, so its cells need no environment."""
    return os.path.realpath(interpreter.executable) == os.path.realpath(sys.executable)


def requirements() -> list[list[str]]:
    """What an environment installs: the lab with its extras, then every distribution with a
    ``lab`` entry point, each as uv takes it."""
    lab = installed(LAB_DISTRIBUTION)
    found = [source(lab, LAB_EXTRAS)]
    seen = {lab.metadata["Name"].lower()}
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = entry_point.dist
        if dist is not None and dist.metadata["Name"].lower() not in seen:
            seen.add(dist.metadata["Name"].lower())
            found.append(source(dist))
    return found


def installed(name: str) -> importlib.metadata.Distribution:
    """The installed distribution ``name``: the one that says where it came from, rather than
    a build's leftover metadata in the current folder."""
    found = list(importlib.metadata.distributions(name=name))
    recorded = [d for d in found if d.read_text("direct_url.json")]
    return (recorded or found or [importlib.metadata.distribution(name)])[0]


def source(dist: importlib.metadata.Distribution, extras: str = "") -> list[str]:
    """Where ``dist`` was installed from: an editable checkout, a folder or URL, or its name
    and version."""
    name, direct = dist.metadata["Name"], dist.read_text("direct_url.json")
    if direct:
        data = json.loads(direct)
        url = str(data.get("url", ""))
        if url.startswith("file://"):
            path = unquote(urlparse(url).path)
            editable = bool(data.get("dir_info", {}).get("editable"))
            return ["-e", f"{path}{extras}"] if editable else [f"{path}{extras}"]
        if url:
            return [f"{name}{extras} @ {url}"]
    return [f"{name}{extras}=={dist.version}"]


def folder_for(interpreter: Interpreter, wanted: list[list[str]]) -> Path:
    """The cache folder of ``interpreter``'s environment, named by its identity and what it
    holds (the lab's version among it)."""
    identity = {
        "executable": os.path.realpath(interpreter.executable),
        "version": interpreter.version,
        "free_threaded": interpreter.free_threaded,
        "lab": importlib.metadata.version(LAB_DISTRIBUTION),
        "requirements": wanted,
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
    build = "t" if interpreter.free_threaded else ""
    return cache_folder() / f"{interpreter.version}{build}-{digest}"


def prepare(interpreter: Interpreter, quiet: bool = False) -> str:
    """The Python that runs ``interpreter``'s cells: the lab's own when it is the same
    interpreter, else its cached environment's, made first if need be."""
    if is_running(interpreter):
        return sys.executable
    wanted = requirements()
    folder = folder_for(interpreter, wanted)
    python = folder / "bin" / "python"
    folder.parent.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(str(folder) + ".lock"):
        if not (folder / COMPLETE).exists():
            _create(interpreter, folder, wanted, quiet)
    return str(python)


def _create(interpreter: Interpreter, folder: Path, wanted: list[list[str]], quiet: bool) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    names = ", ".join(w[-1] for w in wanted)
    if not quiet:
        print(
            f"lab: setting up Python {interpreter.label} ({interpreter.description}) once, in"
            f" {folder}: {names}",
            file=sys.stderr,
            flush=True,
        )
    uv = uv_binary()
    run_uv(interpreter, [uv, "venv", "--quiet", "--python", interpreter.executable, str(folder)])
    packages = [arg for requirement in wanted for arg in requirement]
    python = str(folder / "bin" / "python")
    run_uv(interpreter, [uv, "pip", "install", "--python", python, *packages], show=not quiet)
    (folder / COMPLETE).write_text(json.dumps(interpreter.to_data()))


def run_uv(interpreter: Interpreter, command: list[str], show: bool = False) -> None:
    """Run uv; its progress goes to the terminal when ``show``, its error into one line."""
    visible = show and sys.stderr.isatty()
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=None if visible else subprocess.PIPE,
            text=True,
            timeout=SETUP_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise EnvironmentSetupError(
            f"setting up Python {interpreter.label} took more than {SETUP_TIMEOUT:g} s"
        ) from None
    if done.returncode != 0:
        message = done.stderr or ""
        lines = [line.strip() for line in message.splitlines() if line.strip()]
        package = _FAILED.search(message)
        what = f"could not install {package[1]}" if package else "could not set up an environment"
        detail = f": {lines[-1]}" if lines else ""
        raise EnvironmentSetupError(f"{what} for Python {interpreter.label}{detail}")
