"""A worker process: ``python -m lab.worker REQUEST.json ANSWER.json``, the one way the lab
starts an interpreter.

It loads the plugins afresh and answers the request as JSON (write, then rename): one
measurement of a cell, so each cell starts clean (no imported modules, warm pools or loop
policies from other cells), or which runners can run on its interpreter.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import os
import signal
import sys
import threading
import time
from multiprocessing import resource_tracker
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

from lab.boundary.files import write_atomically
from lab.boundary.measurement import Measurement
from lab.boundary.requests import CellSpec, RunnersQuestion, read_request
from lab.host.registry import load_catalog
from lab.invocations import counters
from lab.jobs import JobRecord, describe_exception
from lab.machine.metadata import gil_enabled
from lab.machine.process_tree import tree
from lab.own.answers import answer
from lab.own.task import task_named
from lab.records import COMPACT_FROM, Records, Shared
from lab.runner import INLINE, Layout, RunContext, Runner, Workers
from lab.sessions import InlineSession
from lab.task import SYNC
from lab.worker import ABANDON_NOTE, ABANDON_OFFERED
from lab.worker.measure import make_jobs, measure
from lab.worker.recorder import Recorder

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from contextlib import AbstractContextManager

    from lab.runner import Session
    from lab.task import Task

#: How often the worker checks that the lab that started it is still alive.
PARENT_CHECK_INTERVAL = 0.5


def run_spec(spec: CellSpec, folder: Path) -> Measurement:
    """Load the plugins the spec names and measure the cell; errors become the measurement's.
    Every call of a job is counted in a file in ``folder``, the cell's own."""
    try:
        catalog, _, _ = load_catalog(spec.worker.plugins)
        task = task_named(catalog.tasks, spec.task, spec.task_options)
        runner: Runner = (
            _InlineRunner() if spec.runner is None else catalog.runners.get(spec.runner)
        )
        form = SYNC if spec.runner is None else runner.job_form
        layout = runner.layout(Workers.parse(spec.workers))
    except Exception as exc:
        return Measurement(error=f"the cell could not be set up: {describe_exception(exc)}")
    with contextlib.ExitStack() as stack:
        # Only a task with a session may start processes of its own: only then walk the tree.
        has_session = task.session is not None
        before = {p.pid for p in tree(psutil.Process())[1:]} if has_session else set()
        try:
            argument = stack.enter_context(task.jobs_session(spec.size, runner.isolation))
        except Exception as exc:
            return Measurement(
                error=f"task {task.name!r} could not start: {describe_exception(exc)}"
            )
        # What the session started (a server) is the task's, not the runner's: kept apart.
        apart = session_processes(before) if has_session else []
        trace = task.trace_words if spec.trace else None
        try:
            counted = stack.enter_context(counters(folder, spec.jobs))
        except OSError as exc:
            return Measurement(error=f"cannot count the jobs' calls: {describe_exception(exc)}")
        # A large run's records are kept by column as its jobs end, not as an object a job.
        recorder = Recorder(spec.jobs) if spec.jobs >= COMPACT_FROM else None
        jobs = make_jobs(
            task.forms[form], argument, spec.jobs, trace, counted, task.job_argument, recorder
        )
        warm_up = task.warm_up_jobs()
        for job in warm_up:  # this process runs jobs too (single, threads, event loops)
            job()
        # The lab's own objects need no collecting: keep them out of the jobs' GC passes.
        gc.freeze()
        async_warm_up = task.warm_up_jobs(form) if form != SYNC else ()
        context = RunContext.for_jobs(
            spec.start_method, jobs, warm_up, spec.runner_options, async_warm_up, str(folder)
        )
        measurement = measure(
            runner,
            layout,
            context,
            jobs,
            apart=apart,
            while_running=abandon_on_sigterm(folder),
            recorder=recorder,
        )
        kept = measurement.records_memory
        counts = 0 if counted.view is None else counted.view.nbytes
        measurement = dataclasses.replace(
            measurement,
            calls=counted.counts()[: spec.jobs],
            records_memory=None if kept is None else kept + counts,
        )
        if task.same_answers:  # outside the timed run: the values came back as they would
            measurement = dataclasses.replace(measurement, records=answers(measurement.records))
        failed_job = _failed_job(measurement.records)  # its own error says more
        if task.settle is not None and measurement.error is None and not failed_job:
            measurement = dataclasses.replace(
                measurement, error=_settled(task, argument, spec.jobs, spec.size)
            )
    return dataclasses.replace(measurement, gil_enabled=gil_enabled())


def answers(records: list[JobRecord] | Records) -> list[JobRecord] | Records:
    """The records with each result that is not an error's as its answer (see
    :func:`lab.own.answers.answer`)."""
    if isinstance(records, Records):
        errors = records.column("error")
        results = [
            answer(result) if error is None else result
            for result, error in zip(records.column("result"), errors, strict=True)
        ]
        return records.with_column("result", results)
    for record in records:
        if record.error is None:
            record.result = answer(record.result)
    return records


def _failed_job(records: list[JobRecord] | Records) -> bool:
    if isinstance(records, Records):
        errors = records.column("error")
        return not (isinstance(errors, Shared) and errors.value is None) and any(errors)
    return any(r.error for r in records)


def abandon_on_sigterm(folder: Path) -> Callable[[Session], AbstractContextManager[None]]:
    """While a session that has ``abandon`` runs the jobs: at SIGTERM (the lab ending the
    cell), call it, write what it says in ``folder`` and exit; ``folder`` shows the lab that
    the session has it."""

    @contextlib.contextmanager
    def running(session: Session) -> Iterator[None]:
        abandon = getattr(session, "abandon", None)
        if not callable(abandon):
            yield
            return

        def on_sigterm(signum: int, frame: object) -> None:
            try:
                said = abandon()
                note = said if isinstance(said, str) else ""
            except BaseException as exc:
                note = f"the runner could not abandon its jobs: {describe_exception(exc)}"
            with contextlib.suppress(OSError):
                write_atomically(folder / ABANDON_NOTE, note)
            os._exit(128 + signal.SIGTERM)

        offered = folder / ABANDON_OFFERED
        previous = signal.signal(signal.SIGTERM, on_sigterm)
        try:
            with contextlib.suppress(OSError):  # then the lab kills the cell as any other
                offered.touch()
            yield
        finally:
            offered.unlink(missing_ok=True)
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)

    return running


def answer_runners(question: RunnersQuestion) -> str:
    """Each runner's ``unavailable()`` on this interpreter, as JSON."""
    catalog, _, _ = load_catalog(question.worker.plugins)
    return json.dumps({name: r.unavailable() for name, r in catalog.runners.items.items()})


def session_processes(before: set[int]) -> list[int]:
    """The processes a task's session started: this process's descendants now but those of
    ``before``, and but multiprocessing's resource tracker, which starting the first process
    with spawn starts and which every later pool of this process uses too."""
    tracker = getattr(getattr(resource_tracker, "_resource_tracker", None), "_pid", None)
    return [p.pid for p in tree(psutil.Process())[1:] if p.pid not in before and p.pid != tracker]


def _settled(task: Task, argument: object, jobs: int, size: int | float) -> str | None:
    """What is wrong with the state the jobs shared, if anything (a lost update)."""
    assert task.settle is not None
    try:
        return task.settle(argument, jobs, size)
    except Exception as exc:
        return f"the jobs' shared state could not be read: {describe_exception(exc)}"


class _InlineRunner(Runner):
    """The jobs in the main thread with no plugin involved: the lab's own calibration."""

    name = "inline"
    description = "jobs in the main thread, for calibration"
    kind = INLINE

    def layout(self, workers: Workers) -> Layout:
        return Layout()

    def start(self, layout: Layout, context: RunContext) -> InlineSession:
        return InlineSession()


def _exit_with_parent() -> None:
    """Kill this cell's whole process group if the lab that started it dies."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_INTERVAL)
        if hasattr(os, "killpg"):
            os.killpg(os.getpgrp(), signal.SIGKILL)
        os._exit(1)

    threading.Thread(target=watch, name="lab-parent-watch", daemon=True).start()


def main(argv: list[str]) -> None:
    request_path, answer_path = Path(argv[0]), Path(argv[1])
    _exit_with_parent()
    request = read_request(request_path.read_text())
    sys.path[:0] = [p for p in request.worker.sys_path if p not in sys.path]
    if isinstance(request, RunnersQuestion):
        answer = answer_runners(request)
    else:
        answer = run_spec(request, request_path.parent).to_json()
    write_atomically(answer_path, answer)
    sys.stdout.flush()
    sys.stderr.flush()
    # Leaked non-daemon threads must not keep the cell alive; the lab reaps leaked processes.
    os._exit(0)
