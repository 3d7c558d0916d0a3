"""A user's own function measured, from its options to its results: the one path of
``lab run`` and of :func:`lab.measure`. Every option is checked (as the command line writes
it), the kind of work is measured (a few calls in a worker process), then the matrix runs as
``lab matrix`` does, in the same cell workers."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from lab.boundary.requests import WorkerOptions
from lab.cli import options, pythons, session
from lab.errors import UsageError
from lab.machine import metadata
from lab.own import reference
from lab.own.task import (
    check_arguments,
    is_coroutine_function,
    own_items,
    own_options,
    own_task,
    pickled_elsewhere,
)
from lab.plan.matrix import MatrixPlan, default_runners, with_baseline
from lab.plan.profiles import DEFAULT_PROFILE, PROFILES
from lab.plan.sizes import Sizing
from lab.report.fit import terminal_width, wrap_lines
from lab.report.output_files import Outputs
from lab.run.rounds import Rounds
from lab.run.work_kind import measure_work

if TYPE_CHECKING:
    from collections.abc import Mapping

    from lab.host.manager import PluginSelection
    from lab.host.registry import Catalog
    from lab.machine.metadata import Metadata
    from lab.results.model import Results
    from lab.task import Task

#: Measured runs of each cell, by default.
DEFAULT_REPEAT = 3
#: The options that name the files a run is written to, as ``lab run``'s namespace has them.
OUTPUT_OPTIONS = ("json", "csv", "markdown", "html", "plot", "save")


@dataclass(frozen=True)
class OwnRun:
    """One measuring of a user's function, every option as the command line writes it (texts,
    ``None`` for one not given), so that ``lab run`` and :func:`lab.measure` check and run
    them alike. ``pickled`` and ``async_pickled`` carry a function (or twin) by value, whose
    ``function`` (``async_twin``) text then only names it; ``items_literals`` is a file of
    Python literals, the items. ``command`` is what errors name; ``silent`` prints nothing
    but errors."""

    function: str
    args: tuple[str, ...] = ()
    kw: tuple[str, ...] = ()
    async_twin: str | None = None
    items: str | None = None
    items_file: str | None = None
    items_literals: str | None = None
    pickled: str = ""
    async_pickled: str = ""
    runners: str | None = None
    workers: str | None = None
    jobs: str | None = None
    repeat: str | None = None
    timeout: str | None = None
    python: str | None = None
    start_method: str = options.DEFAULT_START_METHOD
    tablefmt: str = options.DEFAULT_TABLEFMT
    runner_option: tuple[str, ...] = ()
    task_option: tuple[str, ...] = ()
    allow_large: bool = False
    #: The output options' texts, by their names in ``lab run``'s namespace (``json``, ``csv``,
    #: ``markdown``, ``plot``, ``save``).
    outputs: Mapping[str, str | None] = field(default_factory=dict)
    quiet: bool = False
    wide: bool = False
    silent: bool = False
    command: str = "lab run"

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> OwnRun:
        """The run ``lab run``'s parsed options ask for."""
        return cls(
            function=args.function,
            args=tuple(args.args),
            kw=tuple(args.kw),
            async_twin=args.async_twin,
            items=args.items,
            items_file=args.items_file,
            runners=args.runners,
            workers=args.workers,
            jobs=args.jobs,
            repeat=args.repeat,
            timeout=args.timeout,
            python=args.python,
            start_method=args.start_method,
            tablefmt=args.tablefmt,
            runner_option=tuple(args.runner_option),
            task_option=tuple(args.task_option),
            allow_large=args.allow_large,
            outputs={name: getattr(args, name, None) for name in OUTPUT_OPTIONS},
            quiet=args.quiet,
            wide=args.wide,
        )

    def measure(self, catalog: Catalog, plugins: PluginSelection) -> session.Outcome:
        """Check every option, measure what kind of work the function does, then measure it
        on every runner and report it (unless :attr:`silent`); what it came to. Bad input is a
        :class:`UsageError` before anything runs."""
        function = self._reference(self.function, self.pickled, self.command)
        found = self._check(function, self.function, self.command)
        if self.async_twin is not None:
            if is_coroutine_function(found):
                raise UsageError(
                    f"{self.command} {self.function!r} is an async def: with --async, name its"
                    " plain twin"
                )
            twin_reference = self._reference(self.async_twin, self.async_pickled, "--async")
            twin = self._check(twin_reference, self.async_twin, "the function")
            if not is_coroutine_function(twin):
                raise UsageError(f"--async {self.async_twin!r} is not an async def function")
        profile = PROFILES[DEFAULT_PROFILE]
        cpus = metadata.usable_cpus()
        runners = with_baseline(
            options.names(
                self.runners, list(profile.runners or default_runners(catalog)), "--runners"
            ),
            catalog,
        )
        workers = options.worker_settings(self.workers, ["1", str(cpus)])
        given = own_options(
            self.function,
            list(self.args),
            list(self.kw),
            self.async_twin,
            self.items,
            self.items_file,
            items_literals=self.items_literals,
            pickled=self.pickled,
            async_pickled=self.async_pickled,
        )
        task = own_task(self.function, given)
        check_arguments(found, task, self.function, self.command)
        jobs = options.positive_int(self.jobs, "--jobs") if self.jobs is not None else None
        jobs = jobs or len(own_items(given)) or 2 * max(w.total for w in workers)
        repeat = options.positive_int(self.repeat, "--repeat") if self.repeat else DEFAULT_REPEAT
        timeout = profile.timeout
        if self.timeout is not None:
            timeout = options.positive_float(self.timeout, "--timeout")
        tablefmt = options.check_tablefmt(self.tablefmt)
        start_method = options.check_start_method(self.start_method)
        if self.task_option:
            raise UsageError(f"{self.command} takes the function's arguments, not --task-option")
        runner_options = options.runner_options(list(self.runner_option), runners)
        outputs = Outputs.from_args(argparse.Namespace(**self._output_texts()))
        interpreters = pythons.resolve(self.python, self.quiet or self.silent)
        elsewhere = {i.label: pickled_elsewhere(given, i.version) for i in interpreters}
        if interpreters and all(elsewhere.values()):
            raise UsageError(f"{self.command} {self.function!r}: {next(iter(elsewhere.values()))}")
        rounds = Rounds(
            repeat=repeat,
            timeout=timeout,
            start_method=start_method,
            warmups=0,
            worker=WorkerOptions.of_lab(plugins, runner_options, {task.name: given}),
            interpreters=interpreters,
        )
        MatrixPlan([task], runners, workers, (jobs,), Sizing(1.0)).check(cpus, self.allow_large)
        command = session.MeasuringCommand(
            rounds, outputs, tablefmt, self.quiet, self.wide, self.silent
        )
        # The kind of work is measured on the first interpreter that can load the function.
        probing = replace(
            rounds, interpreters=tuple(sorted(interpreters, key=lambda i: bool(elsewhere[i.label])))
        )

        def plan(facts: Metadata) -> tuple[Results, Mapping[str, Task]]:
            kind = measure_work(task, probing)
            if not self.quiet:
                command.say(wrap_lines(kind.summary(function.short), terminal_width()))
            work = own_task(self.function, given, kind.bound, kind.summary())
            matrix = MatrixPlan([work], runners, workers, (jobs,), Sizing(1.0, {work.name: 1}))
            results = matrix.results(facts, rounds, self.quiet or self.silent)
            for cell in results.cells:
                reason = elsewhere.get(cell.interpreter)
                if reason and cell.not_applicable is None:
                    cell.not_applicable = reason
            return results, {work.name: work}

        return session.measured(command, plan)

    def _output_texts(self) -> dict[str, str | None]:
        return {name: self.outputs.get(name) for name in OUTPUT_OPTIONS}

    @staticmethod
    def _reference(text: str, pickled: str, option: str) -> reference.Reference:
        if pickled:
            return reference.by_value(text, pickled, option)
        return reference.parse(text, option)

    @staticmethod
    def _check(found: reference.Reference, text: str, option: str) -> object:
        return reference.check(found, text, option)
