"""What a task is: a function the jobs call, in one or more forms, with a size."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from lab.errors import UsageError
from lab.jobs import Job, JobRecord

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


Bound = Literal["cpu", "io", "transfer"]
SYNC = "sync"
#: How often a process calls a task's function before timing: past CPython 3.11's threshold of
#: specialization (a function's 8th call), with room to spare.
WARM_UP_CALLS = 16


@dataclass(frozen=True)
class Size:
    """The one argument a task's function takes.

    :param name: what it is called on the command line (``count``, ``seconds``).
    :param kind: ``int`` or ``float``.
    :param default: the size used when none is given and the task is not calibrated.
    :param soft_limit: sizes above it need ``--allow-large``.
    :param unit: printed after the value (``" s"``).
    """

    name: str
    kind: type[int] | type[float]
    default: int | float
    soft_limit: int | float
    unit: str = ""

    def parse(self, text: str, *, task: str, allow_large: bool = False) -> int | float:
        """The size written as ``text``, checked; a :class:`UsageError` names the limit."""
        try:
            value: int | float = self.kind(float(text)) if self.kind is int else float(text)
        except (ValueError, OverflowError):
            raise UsageError(f"{task} {self.name} must be a number, not {text!r}") from None
        if self.kind is int and float(text) != int(float(text)):
            raise UsageError(f"{task} {self.name} must be a whole number, not {text!r}")
        if not value > 0 or value != value:
            raise UsageError(f"{task} {self.name} must be greater than 0, not {text!r}")
        if value > self.soft_limit and not allow_large:
            raise UsageError(
                f"{task} {self.name} {text} is above the limit of {self.format(self.soft_limit)};"
                " pass --allow-large to run it anyway"
            )
        return value

    def format(self, value: int | float) -> str:
        return f"{value:,}{self.unit}" if self.kind is int else f"{value:g}{self.unit}"


def _no_check(record: JobRecord, size: int | float) -> str | None:
    return None


@dataclass(frozen=True)
class Task:
    """A kind of work the matrix runs.

    :param name: the name used by ``--tasks``.
    :param description: one line for listings.
    :param bound: ``"cpu"`` or ``"io"``: how its ideal speed-up is computed; ``"transfer"`` for
        a task that measures moving data, which has no ideal speed-up.
    :param forms: the job function per form: ``"sync"`` (a plain function) and optionally
        ``"asyncio"`` or ``"anyio"`` (coroutine functions) for event-loop runners. A task
        without ``"sync"`` runs on event loops only (and cannot be calibrated).
        Each is a module-level function taking the size, so it pickles by reference.
    :param size: the size its functions take.
    :param trace_words: what ``--trace`` prints when a job starts and finishes.
    :param missing_form_reason: the ``n/a`` reason shown for a runner needing a missing form.
    :param calibrated: the size is chosen so that one job takes ``--job-time`` seconds.
    :param check: returns why a job's record is wrong (``None`` when right).
    :param argument: makes the functions' argument from the size (``None``: the size itself).
    :param job_argument: for a task whose jobs each take their own argument (one item each):
        makes job ``index``'s argument from the one ``argument`` made; ``None``: every job
        takes that one.
    :param session: for a task whose jobs need something running (a server): a context manager
        factory, called with the size in the cell's worker process before start-up, that yields
        the jobs' argument and stops what it started on exit. It replaces ``argument``.
    :param sockets_per_job: sockets each running job holds open; a sweep level is refused when
        the process may not open that many descriptors.
    :param shared: for a task whose jobs share state: for each isolation a runner may have
        (:data:`lab.runner.ISOLATIONS`), a context manager factory called with the size in the
        cell's worker process before start-up, yielding the jobs' argument (the shared state in
        a form that reaches where the jobs run) and releasing it on exit. A runner whose
        isolation has none does not apply; ``shared_reasons`` says why for each missing one.
    :param settle: for a task with ``shared``: after the run, given the argument the jobs
        shared, the number of jobs and the size, why the shared state is wrong (a lost update:
        the cell is an error) or ``None``.
    :param warm_up: a size small enough to take microseconds: every process that runs the
        jobs first calls the ``sync`` form with it :data:`WARM_UP_CALLS` times, so that no job
        runs cold (CPython 3.11 runs a function's first 7 calls slower, until it specializes
        its code). ``None`` for a task whose jobs gain nothing from it; not for a task with a
        ``session``.
    :param operation: for a task whose jobs are made of operations they time themselves (a
        request, a read): what one is called. Its functions return :class:`lab.Timed`, every
        job's record must carry its operations' durations, and the reports show latency
        percentiles per operation and operations per second.
    :param session_name: what the processes its ``session`` starts are called (``"server"``):
        the host measures their CPU and memory apart from the runner's, and the reports show
        them under this name.
    :param option_help: the task's options, what ``--task-option TASK.KEY=VALUE`` sets: each
        key with what it does and its default.
    :param configure: makes the task with the given options (a subset of ``option_help``'s
        keys, as text) in force; raises ``ValueError`` saying what is wrong with a value.
        Called in the lab before anything runs, and in each cell's worker.
    :param options: the options in force, every key of ``option_help`` with its value written
        one way (``"1024"``, ``"no"``): the defaults for the task as registered, the given
        values for one ``configure`` made. The run keeps them, and runs with other values did
        other work.
    :param releases_gil: the jobs' function releases the GIL while it computes (hashing,
        compressing, a C extension), so threads may compute in parallel with the GIL on. The
        lab also sees it in the jobs' measured CPU; declaring it states it up front.
    :param warm_up_calls: how many times ``warm_up`` calls the function in each process
        (:data:`WARM_UP_CALLS` unless said: a user's function, whose calls may be slow or
        touch the world, is called once, which imports what it needs).
    :param same_answers: every job returns the same answer whichever runner runs it (a pure
        function of its argument): the cell's worker keeps each job's result as an answer
        (the start of its ``repr`` and a digest, :func:`lab.own.answers.answer`), and a cell
        whose answers differ from its baseline's is an error naming the first job that
        differs (unless the baseline's own runs disagree: then it is said, not checked).
    :param sweep_limit_per_cpu: for a task whose waiting jobs cost the machine more than a
        wait (a server answering each of them): the most jobs at once per usable CPU that
        ``lab sweep`` runs without ``--allow-large``; 0 for the sweep's own limits only.
    """

    name: str
    description: str
    bound: Bound
    forms: Mapping[str, Callable[[Any], Any]]
    size: Size
    trace_words: tuple[str, str] = ("Start...", "Finished...")
    missing_form_reason: str = ""
    calibrated: bool = False
    check: Callable[[JobRecord, int | float], str | None] = field(default=_no_check)
    argument: Callable[[int | float], Any] | None = None
    job_argument: Callable[[Any, int], Any] | None = None
    session: Callable[[int | float], AbstractContextManager[Any]] | None = None
    sockets_per_job: int = 0
    warm_up: int | float | None = None
    shared: Mapping[str, Callable[[int | float], AbstractContextManager[Any]]] = field(
        default_factory=dict
    )
    shared_reasons: Mapping[str, str] = field(default_factory=dict)
    settle: Callable[[Any, int, int | float], str | None] | None = None
    operation: str = ""
    sweep_limit_per_cpu: int = 0
    session_name: str = "session"
    option_help: Mapping[str, str] = field(default_factory=dict)
    configure: Callable[[Mapping[str, str]], Task] | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    releases_gil: bool = False
    same_answers: bool = False
    warm_up_calls: int = WARM_UP_CALLS

    def jobs_session(
        self, size: int | float, isolation: str | None = None
    ) -> AbstractContextManager[Any]:
        """What the jobs need while they run, yielding their functions' argument: for a task
        whose jobs share state, the form of it that reaches jobs of ``isolation``."""
        if self.shared:
            if isolation is None or isolation not in self.shared:
                raise ValueError(f"task {self.name!r} cannot share state with {isolation!r}")
            return self.shared[isolation](size)
        if self.session is not None:
            return self.session(size)
        return nullcontext(size if self.argument is None else self.argument(size))

    def __post_init__(self) -> None:
        if not self.forms:
            raise ValueError(f"task {self.name!r} has no form: give at least {SYNC!r}")
        if self.warm_up is not None and (self.session is not None or self.shared):
            raise ValueError(f"task {self.name!r} has a session: it cannot be warmed up")
        if self.shared and (self.session is not None or self.argument is not None):
            raise ValueError(f"task {self.name!r}: shared replaces session and argument")

    def with_options(self, options: Mapping[str, str]) -> Task:
        """The task with ``options`` in force (itself without any); ``ValueError`` for a key it
        does not have or a value its ``configure`` refuses."""
        if not options:
            return self
        unknown = sorted(set(options) - set(self.option_help))
        if unknown or self.configure is None:
            valid = ", ".join(sorted(self.option_help)) or "none"
            key = (unknown or sorted(options))[0]
            raise ValueError(f"task {self.name!r} has no option {key!r}; its options: {valid}")
        configured = self.configure(options)
        if configured.name != self.name:
            raise ValueError(f"task {self.name!r} configured itself as {configured.name!r}")
        return configured

    def warm_up_jobs(self, form: str = SYNC) -> tuple[Job, ...]:
        """The calls that bring a process (or a loop) to its steady state before it runs this
        task's jobs: the ``form`` form (``sync`` unless given) on the warm-up size,
        :attr:`warm_up_calls` times (job 0's argument, where each job has its own); none where
        the task has no warm-up or no such form."""
        if self.warm_up is None or form not in self.forms:
            return ()
        size = self.warm_up if self.argument is None else self.argument(self.warm_up)
        if self.job_argument is not None:
            size = self.job_argument(size, 0)
        calls = range(self.warm_up_calls)
        return tuple(Job(index=i, func=self.forms[form], size=size) for i in calls)

    def unsupported_form(self, form: str) -> str | None:
        """Why a runner that calls the ``form`` form cannot run this task (``None`` if it can)."""
        if form in self.forms:
            return None
        return self.missing_form_reason or f"task {self.name} has no {form} form"

    def unsupported(self, form: str, isolation: str | None) -> str | None:
        """Why a runner with this job form and isolation cannot run this task, if it cannot:
        its form is missing, or the jobs share state and none reaches where they run."""
        missing = self.unsupported_form(form)
        if missing is not None or not self.shared or isolation in self.shared:
            return missing
        if isolation is None:
            return "the runner does not say where its jobs run, and these jobs share state"
        return self.shared_reasons.get(isolation) or f"no shared state reaches {isolation} jobs"
