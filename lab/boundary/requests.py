"""What the lab asks a worker process (``python -m lab.worker REQUEST.json ANSWER.json``): to
measure one cell (:class:`CellSpec`), or which runners its interpreter can run
(:class:`RunnersQuestion`). Each carries the :class:`WorkerOptions` the worker is set up with,
in one form from the command line to the worker."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.envs.interpreters import Interpreter, own
from lab.host.manager import PluginSelection

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Folders that hold an interpreter's installed packages, wherever they are (a user site, a
#: system Python's): never handed to a worker, which has its own.
INSTALLED = frozenset({"site-packages", "dist-packages"})
#: What a request's JSON says it is.
CELL = "cell"
RUNNERS = "runners"


def portable_sys_path() -> tuple[str, ...]:
    """The lab's import path less its interpreter's own folders (the standard library,
    site-packages), which a worker on another interpreter must not import from: what is left
    are the folders given through PYTHONPATH or ``-p`` plugins' locations."""
    own_prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    folders = [os.path.abspath(entry or os.curdir) for entry in sys.path]
    return tuple(
        folder
        for folder in dict.fromkeys(folders)
        if not any(os.path.realpath(folder).startswith(p + os.sep) for p in own_prefixes)
        and not INSTALLED.intersection(Path(folder).parts)
    )


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker process is set up: the plugins it loads, the values ``--runner-option``
    and ``--task-option`` gave (by runner and by task name, each checked once in the lab and
    applied once in each process), the interpreter it runs on, and the folders it imports
    from besides its own."""

    plugins: PluginSelection = field(default_factory=PluginSelection)
    runner_options: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    task_options: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    interpreter: Interpreter = field(default_factory=own)
    sys_path: tuple[str, ...] = field(default_factory=portable_sys_path)

    @classmethod
    def of_lab(
        cls,
        plugins: PluginSelection,
        runner_options: Mapping[str, Mapping[str, str]] | None = None,
        task_options: Mapping[str, Mapping[str, str]] | None = None,
    ) -> WorkerOptions:
        """The options for this lab's workers: its plugins as it loaded them (autoload decided
        here; a plugin that fails to load in a worker is that cell's error, never fatal)."""
        loaded = replace(plugins, strict=False, autoload=plugins.should_autoload())
        return cls(loaded, dict(runner_options or {}), dict(task_options or {}))

    def on(self, interpreter: Interpreter) -> WorkerOptions:
        """The same options for a worker on ``interpreter``."""
        return replace(self, interpreter=interpreter)

    def to_data(self) -> dict[str, Any]:
        return {
            "plugins": dataclasses.asdict(self.plugins),
            "runner_options": {k: dict(v) for k, v in self.runner_options.items()},
            "task_options": {k: dict(v) for k, v in self.task_options.items()},
            "interpreter": dataclasses.asdict(self.interpreter),
            "sys_path": list(self.sys_path),
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> WorkerOptions:
        plugins = dict(data["plugins"])
        plugins["blocked"], plugins["modules"] = (
            tuple(plugins["blocked"]),
            tuple(plugins["modules"]),
        )
        return cls(
            plugins=PluginSelection(**plugins),
            runner_options=dict(data["runner_options"]),
            task_options=dict(data["task_options"]),
            interpreter=Interpreter(**data["interpreter"]),
            sys_path=tuple(data["sys_path"]),
        )


@dataclass(frozen=True)
class CellSpec:
    """Run ``jobs`` jobs of ``task`` at ``size`` with ``runner`` (``None``: inline in the main
    thread, for calibration) and ``workers``, in a worker set up as ``worker`` says."""

    task: str
    runner: str | None
    workers: str
    jobs: int
    size: int | float
    start_method: str
    trace: bool = False
    worker: WorkerOptions = field(default_factory=WorkerOptions)

    @property
    def task_options(self) -> Mapping[str, str]:
        """The values ``--task-option`` gave this cell's task."""
        return self.worker.task_options.get(self.task, {})

    @property
    def runner_options(self) -> Mapping[str, str]:
        """The values ``--runner-option`` gave this cell's runner."""
        return self.worker.runner_options.get(self.runner or "", {})

    def to_json(self) -> str:
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return json.dumps({"request": CELL, **fields, "worker": self.worker.to_data()})


@dataclass(frozen=True)
class RunnersQuestion:
    """Which runners can run on the worker's interpreter: each runner's ``unavailable()``
    there, with the plugins ``worker`` names."""

    worker: WorkerOptions = field(default_factory=WorkerOptions)

    def to_json(self) -> str:
        return json.dumps({"request": RUNNERS, "worker": self.worker.to_data()})


def read_request(text: str) -> CellSpec | RunnersQuestion:
    """A request as the lab wrote it."""
    data = json.loads(text)
    kind = data.pop("request")
    worker = WorkerOptions.from_data(data.pop("worker"))
    if kind == RUNNERS:
        return RunnersQuestion(worker)
    return CellSpec(**data, worker=worker)


#: Each runner's reason not to run on the worker's interpreter (``None``: it can).
RunnersAnswer = dict[str, str | None]


def runners_answer_from_json(text: str) -> RunnersAnswer:
    """A worker's answer to a :class:`RunnersQuestion`; anything malformed raises
    ``ValueError``."""
    answer = json.loads(text)
    if not isinstance(answer, dict):
        raise ValueError(f"malformed answer: {answer!r}")
    return {str(name): None if why is None else str(why) for name, why in answer.items()}
