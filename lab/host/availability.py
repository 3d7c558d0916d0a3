"""Which runners can run on an interpreter, asked of that interpreter itself.

A runner's ``unavailable()`` answers for the Python it runs on: subinterpreters need 3.13, a
library may have no build for a free-threaded Python. For cells on another interpreter
(``--python``), the lab asks that interpreter, in its environment, with the same plugins:
``python -P -m lab.host.availability REQUEST.json`` prints ``{runner: reason or null}``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

from lab.errors import LabError
from lab.host.manager import PluginOptions
from lab.host.registry import load_catalog

if TYPE_CHECKING:
    from lab.run.rounds import Settings
    from lab.run.supervisor import WorkerPython

#: Seconds an interpreter may take to load the plugins and answer.
ASK_TIMEOUT = 120.0


def unavailable_on(python: WorkerPython, settings: Settings, label: str) -> dict[str, str | None]:
    """Each runner's ``unavailable()`` on ``python``, loading the plugins ``settings`` name;
    a :class:`LabError` when the interpreter cannot answer."""
    from lab.run.rounds import portable_sys_path

    request = {
        "blocked": list(settings.blocked),
        "modules": list(settings.modules),
        "autoload": settings.autoload,
        "sys_path": list(portable_sys_path()),
    }
    command = [python.executable, "-P", "-m", "lab.host.availability", json.dumps(request)]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=ASK_TIMEOUT,
            env=python.process_environ(),
            stdin=subprocess.DEVNULL,
        )
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        if not isinstance(answer, dict):
            raise ValueError(answer)
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
        said = (getattr(exc, "stderr", None) or "").strip().splitlines()
        why = said[-1] if said else str(exc) or type(exc).__name__
        raise LabError(f"could not ask {label} which runners it can run: {why}") from None
    return {str(name): None if reason is None else str(reason) for name, reason in answer.items()}


def main(argv: list[str]) -> None:
    request = json.loads(argv[0])
    sys.path[:0] = [p for p in request["sys_path"] if p not in sys.path]
    options = PluginOptions(
        blocked=tuple(request["blocked"]),
        modules=tuple(request["modules"]),
        autoload=request["autoload"],
    )
    catalog, _, _ = load_catalog(options)
    print(json.dumps({name: r.unavailable() for name, r in catalog.runners.items.items()}))


if __name__ == "__main__":
    main(sys.argv[1:])
