"""An environment per interpreter, created once with uv and cached, holding the lab, its
dependencies and every plugin distribution installed beside it, each from where it was
installed (the same checkout, the same URL, or the same version from the index)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

import filelock

from lab.distributions import LAB_DISTRIBUTION, installed, plugin_entry_points
from lab.envs.interpreters import uv_binary
from lab.errors import LabError

if TYPE_CHECKING:
    import importlib.metadata

    from lab.envs.interpreters import Interpreter

CACHE_ENV = "LAB_ENVS"
CACHE_DEFAULT = Path.home() / ".cache" / "concurrency-lab" / "envs"
#: The lab's extras an environment gets: what the runners need (trio for anyio-trio, the
#: subinterpreters backport for interpreters on 3.13).
LAB_EXTRAS = "[trio,interpreters]"
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
    for entry_point in plugin_entry_points():
        dist = entry_point.dist
        if dist is not None and dist.metadata["Name"].lower() not in seen:
            seen.add(dist.metadata["Name"].lower())
            found.append(source(dist))
    return found


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


def installed_state() -> list[object]:
    """What the distributions an environment copies are now: their dependencies, and for one
    not installed editable, the files it installed. An environment made from other ones is
    not reused."""
    state: list[object] = []
    names = [LAB_DISTRIBUTION] + [
        e.dist.metadata["Name"] for e in plugin_entry_points() if e.dist is not None
    ]
    for name in dict.fromkeys(names):
        dist = installed(name)
        direct = json.loads(dist.read_text("direct_url.json") or "{}")
        editable = bool(direct.get("dir_info", {}).get("editable"))
        record = "" if editable else dist.read_text("RECORD") or ""
        digest = hashlib.sha256(record.encode()).hexdigest()[:12]
        state.append([name, dist.version, sorted(dist.requires or []), digest])
    return state


def folder_for(interpreter: Interpreter, wanted: list[list[str]]) -> Path:
    """The cache folder of ``interpreter``'s environment, named by its identity and what it
    holds (the lab's version among it)."""
    identity = {
        "executable": os.path.realpath(interpreter.executable),
        "version": interpreter.version,
        "free_threaded": interpreter.free_threaded,
        "lab": installed(LAB_DISTRIBUTION).version,
        "requirements": wanted,
        "installed": installed_state(),
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
    build = "t" if interpreter.free_threaded else ""
    return cache_folder() / f"{interpreter.version}{build}-{digest}"


def prepare(interpreter: Interpreter, quiet: bool = False) -> Interpreter:
    """``interpreter`` with the Python that runs its cells: the lab's own when it is the same
    interpreter, else its cached environment's, made first if need be. A plugin that does not
    install there is left out with a warning: its runners' cells there say they are unknown."""
    return replace(interpreter, cell_python=_environment_python(interpreter, quiet))


def _environment_python(interpreter: Interpreter, quiet: bool) -> str:
    if is_running(interpreter):
        return sys.executable
    wanted = requirements()
    folder = folder_for(interpreter, wanted)
    python = folder / "bin" / "python"
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        with filelock.FileLock(str(folder) + ".lock"):
            if not (folder / COMPLETE).exists():
                _create(interpreter, folder, wanted, quiet)
    except OSError as exc:
        raise EnvironmentSetupError(
            f"cannot make an environment for Python {interpreter.label} in {folder}:"
            f" {exc.strerror or exc}"
        ) from None
    for warning in json.loads((folder / COMPLETE).read_text()).get("warnings", []):
        print(f"lab: warning: {warning}", file=sys.stderr)
    return str(python)


def _create(interpreter: Interpreter, folder: Path, wanted: list[list[str]], quiet: bool) -> None:
    """The environment: the lab first (without it nothing runs), then each plugin on its own."""
    shutil.rmtree(folder, ignore_errors=True)
    if not quiet:
        print(
            f"lab: setting up Python {interpreter.label} ({interpreter.description}) once, in"
            f" {folder}: {', '.join(w[-1] for w in wanted)}",
            file=sys.stderr,
            flush=True,
        )
    uv = uv_binary()
    run_uv(interpreter, [uv, "venv", "--quiet", "--python", interpreter.executable, str(folder)])
    install = [uv, "pip", "install", "--quiet", "--python", str(folder / "bin" / "python")]
    lab, *plugins = wanted
    run_uv(interpreter, [*install, *lab], lab[-1])
    warnings = []
    for plugin in plugins:
        try:
            run_uv(interpreter, [*install, *plugin], plugin[-1])
        except EnvironmentSetupError as exc:
            warnings.append(f"{exc}; its runners have error cells there")
    facts = {**interpreter.to_data(), "warnings": warnings}
    (folder / COMPLETE).write_text(json.dumps(facts))


def run_uv(interpreter: Interpreter, command: list[str], package: str | None = None) -> None:
    """Run uv; an error becomes one line naming ``package`` (or the one uv names) and the
    interpreter, with uv's reason."""
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=SETUP_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise EnvironmentSetupError(
            f"setting up Python {interpreter.label} took more than {SETUP_TIMEOUT:g} s"
        ) from None
    if done.returncode != 0:
        message = done.stderr or ""
        named = _FAILED.search(message)
        package = named[1] if named else package
        what = f"could not install {package}" if package else "could not set up an environment"
        raise EnvironmentSetupError(f"{what} for Python {interpreter.label}: {reason(message)}")


def reason(message: str) -> str:
    """The line of uv's error output that says why: the last line a failed build printed,
    else the last cause, else the last line that is not a hint."""
    lines = [" ".join(line.split()) for line in message.splitlines() if line.strip()]
    if "[stderr]" in lines:
        printed = lines[lines.index("[stderr]") + 1 :]
        printed = [line for line in printed if not line.startswith(("hint:", "help:"))]
        if printed:
            return printed[-1]
    telling = [line for line in lines if line.startswith(("cause:", "Caused by:", "error:"))]
    plain = [line for line in lines if not line.startswith(("hint:", "help:"))]
    return (telling or plain or ["no output"])[-1]
