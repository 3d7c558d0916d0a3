"""Misbehaving tasks and runners, loaded with ``-p lab_test_plugins`` by the fault tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from lab import InlineSession, Job, JobRecord, Layout, RunContext, Runner, Size, Task, hookimpl
from lab_plugins.tasks import check_countdown, countdown

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

SIZE = Size(name="seconds", kind=float, default=0.01, soft_limit=1e9, unit=" s")


#: A file the ``hang`` task creates when it starts, for tests to wait on.
STARTED_ENV = "LAB_TEST_STARTED"


def hang(seconds: float) -> None:
    if path := os.environ.get(STARTED_ENV):
        Path(path).touch()
    time.sleep(1e9)


def spin(seconds: float) -> None:
    """A C loop that never releases the GIL: catastrophic regex backtracking."""
    re.match(r"(a*)*b", "a" * 64)


def spin_forever(seconds: float) -> None:
    """Hold the GIL in a C loop for practically ever, once the hang marker is there."""
    if path := os.environ.get(STARTED_ENV):
        Path(path).touch()
    re.match(r"(a*)*b", "a" * 48)


def boom(seconds: float) -> None:
    raise ZeroDivisionError("the job divided by zero")


async def aboom(seconds: float) -> None:
    raise ZeroDivisionError("the job divided by zero")


def exit_job(seconds: float) -> None:
    sys.exit(3)


def hard_exit(seconds: float) -> None:
    os._exit(7)


def sigkill(seconds: float) -> None:
    time.sleep(seconds)
    os.kill(os.getpid(), signal.SIGKILL)


def unpicklable_result(seconds: float) -> object:
    return threading.Lock()


def _task(name: str, func: Callable[[float], object]) -> Task:
    return Task(
        name=name, description=f"test task {name}", bound="io", forms={"sync": func}, size=SIZE
    )


def hang_calibrating(count: int) -> None:
    hang(float(count))


#: Set in the environment of the running dask cluster's processes that tests start: there the
#: ``*-on-a-cluster`` tasks' jobs run far past any timeout, elsewhere (the baseline, say) they
#: are as long as their size says, so that only the cells on the cluster time out.
ON_A_CLUSTER_ENV = "LAB_TEST_ON_A_CLUSTER"


def hang_on_a_cluster(seconds: float) -> None:
    """On the cluster, ``hang``: a sleep Python cannot interrupt; elsewhere a sleep."""
    if os.environ.get(ON_A_CLUSTER_ENV):
        hang(seconds)
    time.sleep(seconds)


def countdown_on_a_cluster(count: int) -> int:
    """The ``cpu`` task's countdown: on the cluster from 10**12 (hours), elsewhere from
    ``count``."""
    return countdown(10**12 if os.environ.get(ON_A_CLUSTER_ENV) else count)


TASKS = [
    _task("hang", hang),
    Task(
        name="hang-calibrating",
        description="test task: a calibrated countdown that hangs while it is calibrated",
        bound="cpu",
        forms={"sync": hang_calibrating},
        size=Size(name="count", kind=int, default=1000, soft_limit=10**9),
        calibrated=True,
    ),
    _task("hang-on-a-cluster", hang_on_a_cluster),
    Task(
        name="countdown-on-a-cluster",
        description="test task: the cpu task's countdown, for hours on a running cluster",
        bound="cpu",
        forms={"sync": countdown_on_a_cluster},
        size=Size(name="count", kind=int, default=1000, soft_limit=10**9),
        check=check_countdown,
    ),
    _task("spin", spin),
    _task("spin-forever", spin_forever),
    Task(
        name="boom",
        description="test task boom",
        bound="io",
        forms={"sync": boom, "asyncio": aboom, "anyio": aboom},
        size=SIZE,
    ),
    _task("exit", exit_job),
    _task("hard-exit", hard_exit),
    _task("sigkill", sigkill),
    _task("unpicklable-result", unpicklable_result),
    _task("unpicklable", lambda seconds: None),  # a job function that cannot be pickled
]


class _Fake(Runner):
    def __init__(self, name: str, run: Callable[[Sequence[Job]], object]) -> None:
        self.name = name
        self.description = f"test runner {name}"
        self._run = run

    def layout(self, workers: object) -> Layout:
        return Layout()

    def start(self, layout: Layout, context: RunContext) -> _FakeSession:
        return _FakeSession(self._run)


class _FakeSession:
    def __init__(self, run: Callable[[Sequence[Job]], object]) -> None:
        self._run = run

    def run(self, jobs: Sequence[Job]) -> object:
        return self._run(jobs)

    def close(self) -> None:
        pass


def _skip_last(jobs: Sequence[Job]) -> list[JobRecord]:
    return [job() for job in jobs[:-1]]


def _first_twice(jobs: Sequence[Job]) -> list[JobRecord]:
    records = [job() for job in jobs]
    return [records[0], *records]


def _quietly_twice(jobs: Sequence[Job]) -> list[JobRecord]:
    """Run every job twice and report each once: every record checks out on its own."""
    for job in jobs:
        job()
    return [job() for job in jobs]


def _raise(jobs: Sequence[Job]) -> object:
    raise RuntimeError("the runner broke")


def _garbage(jobs: Sequence[Job]) -> object:
    return "not records"


def _exit(jobs: Sequence[Job]) -> object:
    raise SystemExit(5)


def _daemonize(jobs: Sequence[Job]) -> list[JobRecord]:
    """Leave a daemon that double-forked out of the cell's process group and session."""
    subprocess.run(["setsid", "-f", "sleep", "1239"], check=True)
    return InlineSession().run(jobs)


#: A daemon that changes its PID up to about 1,000 times a second (``setsid``, ``fork``, the
#: parent exits), holding ``hopper.lock`` (an inherited ``flock``, free once every hop has
#: ended) and stopping when ``hopper-stop`` exists or after a minute; its files are beside the
#: ``hang`` marker's.
HOPPER = """
import fcntl, os, sys, time
folder = sys.argv[1]
lock = os.open(os.path.join(folder, "hopper.lock"), os.O_WRONLY | os.O_CREAT, 0o600)
fcntl.flock(lock, fcntl.LOCK_EX)
stop, end = os.path.join(folder, "hopper-stop"), time.monotonic() + 60
open(os.path.join(folder, "hopper-started"), "w").close()
while time.monotonic() < end and not os.path.exists(stop):
    os.setsid()
    if os.fork():
        os._exit(0)
    time.sleep(0.0002)
"""


def _hop(jobs: Sequence[Job]) -> list[JobRecord]:
    """Leave a PID-hopping daemon (:data:`HOPPER`), hopping before the jobs run."""
    folder = Path(os.environ[STARTED_ENV]).parent
    first = subprocess.Popen([sys.executable, "-c", HOPPER, str(folder)], stdin=subprocess.DEVNULL)
    first.wait(timeout=30)  # it exits at its first hop
    deadline = time.monotonic() + 30
    while not (folder / "hopper-started").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # a few hundred hops
    return InlineSession().run(jobs)


def _leak(jobs: Sequence[Job]) -> list[JobRecord]:
    threading.Thread(target=time.sleep, args=(1e9,), name="leaked").start()
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1e9)"])
    return InlineSession().run(jobs)


class _Optioned(Runner):
    """Runs the jobs in one thread named after its ``label`` option: the records show that the
    option reached ``start``."""

    name = "optioned"
    description = "test runner with an option"
    option_help = MappingProxyType(
        {"label": "a word the jobs' thread is named after", "spare": "unused"}
    )

    def check_options(self, options: Mapping[str, str]) -> str | None:
        label = options.get("label", "")
        return None if label.isalpha() else f"label must be a word, not {label!r}"

    def layout(self, workers: object) -> Layout:
        return Layout()

    def start(self, layout: Layout, context: RunContext) -> _FakeSession:
        label = context.options.get("label", "plain")

        def run(jobs: Sequence[Job]) -> list[JobRecord]:
            records: list[JobRecord] = []
            worker = threading.Thread(
                target=lambda: records.extend(job() for job in jobs), name=f"opt-{label}"
            )
            worker.start()
            worker.join()
            return records

        return _FakeSession(run)


RUNNERS = [
    _Optioned(),
    _Fake("skip-last", _skip_last),
    _Fake("first-twice", _first_twice),
    _Fake("quietly-twice", _quietly_twice),
    _Fake("raiser", _raise),
    _Fake("garbage", _garbage),
    _Fake("exiter", _exit),
    _Fake("leaker", _leak),
    _Fake("daemonizer", _daemonize),
    _Fake("pid-hopper", _hop),
]


@hookimpl
def lab_register_tasks(register: Callable[[Task], None]) -> None:
    for task in TASKS:
        register(task)


@hookimpl
def lab_register_runners(register: Callable[[Runner], None]) -> None:
    for runner in RUNNERS:
        register(runner)
