"""Tasks where sharing matters: a counter and a dict that every job of a cell shares, data
sent to a worker, and allocation-heavy CPU work.

The jobs of a cell share one counter or one dict, in the form that reaches where they run
(``Task.shared``, one form per isolation):

- one interpreter (inline, threads, event loops): the object itself, with a ``threading.Lock``
  (an ``asyncio.Lock`` or ``anyio.Lock`` on an event loop);
- other processes: a ``multiprocessing`` manager, started for the cell with the spawn method
  and shut down after it; its ``Value``, ``Lock`` and ``dict`` proxies cross a pickle, so they
  reach the workers of a pool that is already running, as every job's argument does;
- other interpreters: 8 bytes of shared memory for the count, attached by name, and a PEP 734
  cross-interpreter queue holding one token for the lock: taking the token acquires it,
  putting it back releases it. No dict crosses interpreters, so the dict task does not apply
  there.

After the run the host settles the cell: a counter short of jobs x increments, or a dict
missing what a job wrote, is a lost update, and the cell is an error, never a figure.

The transfer task shares nothing: its payload is every job's argument, so threads get the
bytes object itself and processes and subinterpreters get it pickled with each job (not
through shared memory), which is the cost per byte it shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import queue
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from lab import (
    ONE_INTERPRETER,
    OTHER_INTERPRETERS,
    OTHER_PROCESSES,
    JobRecord,
    Size,
    Task,
    hookimpl,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, MutableMapping
    from multiprocessing.managers import SyncManager
    from multiprocessing.shared_memory import SharedMemory

#: The start method of the manager that holds the processes' shared state: spawn works on
#: every platform and forks no threads of the cell's worker process.
MANAGER_START_METHOD = "spawn"
#: The modules that may provide PEP 734's cross-interpreter queues, first found first:
#: Python 3.14's standard library, then the backports for 3.13 (``interpreters-pep-734``,
#: ``backports.interpreters``).
QUEUE_MODULES = (
    "concurrent.interpreters",
    "interpreters_backport.interpreters",
    "backports.interpreters",
)


# --- shared-counter -----------------------------------------------------------------------


class SharedCounter(Protocol):
    """What a counter job needs: how many increments to make, a way to make them (each under
    the lock its isolation has) and a way to read the count after the run."""

    @property
    def increments(self) -> int: ...

    def add(self) -> int: ...

    def read(self) -> int: ...


@dataclass(eq=False)
class LocalCounter:
    """The counter of jobs in one interpreter: a plain attribute and a ``threading.Lock``
    (threads), or a lock of the running event loop's library (event loops)."""

    increments: int
    value: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    asyncio_lock: asyncio.Lock | None = None
    anyio_lock: Any = None

    def add(self) -> int:
        lock = self.lock
        for _ in range(self.increments):
            with lock:
                self.value += 1
        return self.increments

    def read(self) -> int:
        return self.value


@dataclass(frozen=True)
class ManagedCounter:
    """The counter of jobs in other processes: a manager's ``Value`` and ``Lock`` proxies, each
    operation a round trip to the manager's process."""

    increments: int
    value: Any  # multiprocessing.managers.ValueProxy[int]
    lock: Any  # the manager's AcquirerProxy of a threading.Lock

    def add(self) -> int:
        value, lock = self.value, self.lock
        for _ in range(self.increments):
            with lock:
                value.value += 1
        return self.increments

    def read(self) -> int:
        return int(self.value.value)


@dataclass(frozen=True)
class InterpreterCounter:
    """The counter of jobs in other interpreters, which share no objects: the count is 8 bytes
    of shared memory that each job attaches by name, and its lock a cross-interpreter queue
    holding one token (taking the token acquires the lock, putting one back releases it).

    The count cannot live in the queue itself: an item belongs to the interpreter that put it,
    and when the pool's interpreters are destroyed, before the host settles the cell, the last
    count put would be replaced by a placeholder.
    """

    increments: int
    memory: str  # the shared memory's name
    token: Any  # a PEP 734 Queue; it pickles by its id, so a job unpickles the same queue

    def add(self) -> int:
        block = attach(self.memory)
        count = as_count(block)
        token = self.token
        try:
            for _ in range(self.increments):
                take(token)
                count[0] += 1
                token.put(None)
        finally:
            count.release()
            block.close()
        return self.increments

    def read(self) -> int:
        block = attach(self.memory)
        count = as_count(block)
        try:
            return int(count[0])
        finally:
            count.release()
            block.close()


def as_count(block: SharedMemory) -> memoryview:
    """The block's first 8 bytes as one signed integer; release it before closing the block."""
    assert block.buf is not None, "the shared memory is closed"
    return block.buf[:8].cast("q")


def take(token: Any) -> Any:
    """The queue's one item, once no other job holds it. PEP 734's blocking ``get`` polls every
    10 ms, which would time the polling rather than the sharing: this one polls at once,
    letting other threads run in between."""
    while True:
        try:
            return token.get_nowait()
        except queue.Empty:
            time.sleep(0)


def attach(name: str) -> SharedMemory:
    """The shared memory ``name``, attached without taking it over: on Python 3.13+ untracked;
    before, tracked on attach too (gh-82300), so untracked again at once."""
    from multiprocessing import resource_tracker, shared_memory

    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name, track=False)
    block = shared_memory.SharedMemory(name)
    resource_tracker.unregister(block._name, "shared_memory")  # type: ignore[attr-defined]
    return block


def count_up(counter: SharedCounter) -> int:
    """The shared-counter job: ``increments`` increments of the one counter, each under its lock;
    returns how many it made."""
    return counter.add()


async def asyncio_count_up(counter: LocalCounter) -> int:
    """The job on asyncio's loops: each increment under an ``asyncio.Lock`` of the loop."""
    if counter.asyncio_lock is None:  # made on the loop; no await before it is set
        counter.asyncio_lock = asyncio.Lock()
    lock = counter.asyncio_lock
    for _ in range(counter.increments):
        async with lock:
            counter.value += 1
    return counter.increments


async def anyio_count_up(counter: LocalCounter) -> int:
    """The job on anyio's backends: each increment under an ``anyio.Lock``."""
    import anyio

    if counter.anyio_lock is None:
        counter.anyio_lock = anyio.Lock()
    lock = counter.anyio_lock
    for _ in range(counter.increments):
        async with lock:
            counter.value += 1
    return counter.increments


@contextlib.contextmanager
def local_counter(size: int | float) -> Iterator[LocalCounter]:
    yield LocalCounter(int(size))


@contextlib.contextmanager
def managed_counter(size: int | float) -> Iterator[ManagedCounter]:
    with started_manager() as manager:
        yield ManagedCounter(int(size), manager.Value("q", 0), manager.Lock())


@contextlib.contextmanager
def interpreter_counter(size: int | float) -> Iterator[InterpreterCounter]:
    from multiprocessing import shared_memory

    token = create_queue()
    if sys.version_info >= (3, 13):  # unlinked below: no resource tracker process needed
        block = shared_memory.SharedMemory(create=True, size=8, track=False)
    else:
        block = shared_memory.SharedMemory(create=True, size=8)
    try:  # new shared memory is zeroed: the count starts at 0
        token.put(None)
        yield InterpreterCounter(int(size), block.name, token)
    finally:
        block.close()
        block.unlink()


def started_manager() -> SyncManager:
    """A started ``multiprocessing`` manager; as a context manager, it shuts down on exit."""
    import multiprocessing

    return multiprocessing.get_context(MANAGER_START_METHOD).Manager()


def create_queue() -> Any:
    """A new cross-interpreter queue from the first of :data:`QUEUE_MODULES` found here."""
    for name in QUEUE_MODULES:
        try:
            module = importlib.import_module(name)
            return module.create_queue()
        except ImportError:
            continue
    raise RuntimeError(
        "no cross-interpreter queue here: it needs Python 3.14's concurrent.interpreters, or"
        " interpreters-pep-734 on 3.13"
    )


def check_counted(record: JobRecord, size: int | float) -> str | None:
    if record.result != int(size):
        return f"made {record.result!r} increments, not {int(size):,}"
    return None


def settle_counter(counter: SharedCounter, jobs: int, size: int | float) -> str | None:
    """A count short of every job's increments is a lost update."""
    increments = int(size)
    expected = jobs * increments
    found = counter.read()
    if found == expected:
        return None
    made = f"{expected:,} ({jobs} jobs x {increments:,} increments)"
    if found < expected:
        return (
            f"the shared counter lost updates: it reads {found:,}, not {made}:"
            f" {expected - found:,} increments lost"
        )
    return f"the shared counter reads {found:,}, more than the {made} the jobs made"


# --- shared-dict --------------------------------------------------------------------------


@dataclass(frozen=True)
class SharedEntries:
    """The dict of jobs that share one: a plain dict in one interpreter, a manager's dict proxy
    in other processes. Each job writes ``entries`` keys of its own and reads them back."""

    entries: int
    table: MutableMapping[tuple[str, int], int]


def fill(shared: SharedEntries) -> int:
    """The shared-dict job: write ``entries`` keys of this job's own (a random token and a
    number) into the one dict, then read each back; returns how many read back right."""
    token = os.urandom(8).hex()
    table, entries = shared.table, shared.entries
    for i in range(entries):
        table[token, i] = i
    return sum(1 for i in range(entries) if table[token, i] == i)


@contextlib.contextmanager
def local_entries(size: int | float) -> Iterator[SharedEntries]:
    yield SharedEntries(int(size), {})


@contextlib.contextmanager
def managed_entries(size: int | float) -> Iterator[SharedEntries]:
    with started_manager() as manager:
        yield SharedEntries(int(size), manager.dict())


def check_filled(record: JobRecord, size: int | float) -> str | None:
    if record.result != int(size):
        return f"read back {record.result!r} of its {int(size):,} entries"
    return None


def settle_entries(shared: SharedEntries, jobs: int, size: int | float) -> str | None:
    """Every job's entries are there, each holding what it wrote; anything else lost a write."""
    entries = int(size)
    contents = dict(shared.table.items())  # one round trip to a manager's dict
    expected = jobs * entries
    if len(contents) != expected:
        return (
            f"the shared dict lost writes: it holds {len(contents):,} entries, not {expected:,}"
            f" ({jobs} jobs x {entries:,} entries)"
        )
    writers = Counter(token for token, _ in contents)
    if len(writers) != jobs or any(n != entries for n in writers.values()):
        return (
            f"the shared dict holds entries of {len(writers)} jobs, not {jobs} jobs of"
            f" {entries:,} entries each"
        )
    wrong = next(((k, v) for k, v in contents.items() if k[1] != v), None)
    if wrong is not None:
        (token, i), value = wrong
        return f"the shared dict's entry {i} of job {token} holds {value!r}, not {i}"
    return None


# --- transfer -----------------------------------------------------------------------------

#: The bytes of a transfer's payload repeat this pattern: byte ``i`` is ``i % 256``.
PATTERN = bytes(range(256))


def payload(size: int | float) -> bytes:
    """The transfer task's argument: ``size`` bytes, byte ``i`` being ``i % 256``."""
    n = int(size)
    return PATTERN * (n // len(PATTERN)) + PATTERN[: n % len(PATTERN)]


def receive(data: bytes) -> str:
    """The transfer job: what proves it has all the bytes, whose arrival is the cost measured:
    their count and the first, middle and last byte."""
    n = len(data)
    return f"{n} bytes: {data[0]:02x} {data[n // 2]:02x} {data[-1]:02x}"


def check_received(record: JobRecord, size: int | float) -> str | None:
    n = int(size)
    expected = f"{n} bytes: {0:02x} {n // 2 % 256:02x} {(n - 1) % 256:02x}"
    if record.result != expected:
        return f"sent {n:,} bytes, and the job saw {record.result!r}"
    return None


# --- alloc --------------------------------------------------------------------------------

#: Records built into one list before the list is dropped.
ALLOC_BATCH = 1000


def allocate(count: int) -> int:
    """The alloc job: build ``count`` small records (a tuple holding a one-key dict) in lists of
    :data:`ALLOC_BATCH`, dropping each list; returns how many it built."""
    made = 0
    while made < count:
        batch = [(i, {"i": i}) for i in range(made, min(made + ALLOC_BATCH, count))]
        made += len(batch)
    return made


def check_allocated(record: JobRecord, size: int | float) -> str | None:
    if record.result != int(size):
        return f"built {record.result!r} records, not {int(size):,}"
    return None


# --- the tasks ----------------------------------------------------------------------------

SHARED_COUNTER = Task(
    name="shared-counter",
    description="jobs increment one shared counter, each time under a lock; a lost update is"
    " an error",
    bound="transfer",
    forms={"sync": count_up, "asyncio": asyncio_count_up, "anyio": anyio_count_up},
    size=Size(name="increments", kind=int, default=10_000, soft_limit=100_000_000),
    trace_words=("Start incrementing...", "Finished incrementing..."),
    check=check_counted,
    shared={
        ONE_INTERPRETER: local_counter,
        OTHER_PROCESSES: managed_counter,
        OTHER_INTERPRETERS: interpreter_counter,
    },
    settle=settle_counter,
)

SHARED_DICT = Task(
    name="shared-dict",
    description="jobs write keys of their own into one shared dict, then read them back",
    bound="transfer",
    forms={"sync": fill},
    size=Size(name="entries", kind=int, default=10_000, soft_limit=100_000_000),
    trace_words=("Start writing...", "Finished reading..."),
    missing_form_reason="an event loop's tasks take turns in one thread: they never write the"
    " dict at once",
    check=check_filled,
    shared={ONE_INTERPRETER: local_entries, OTHER_PROCESSES: managed_entries},
    shared_reasons={
        OTHER_INTERPRETERS: "subinterpreters share no objects, so no dict: PEP 734 shares"
        " only queues and memory buffers between them",
    },
    settle=settle_entries,
)

TRANSFER = Task(
    name="transfer",
    description="send a payload to a worker, pickled with each job (processes, subinterpreters)",
    bound="transfer",
    forms={"sync": receive},
    size=Size(name="bytes", kind=int, default=1024 * 1024, soft_limit=2**30),
    trace_words=("Start receiving...", "Finished receiving..."),
    missing_form_reason="an event loop's tasks share one thread: nothing to send",
    check=check_received,
    argument=payload,
)

ALLOC = Task(
    name="alloc",
    description="allocation-heavy CPU work: build and drop lists of small tuples and dicts",
    bound="cpu",
    forms={"sync": allocate},
    size=Size(name="records", kind=int, default=2_000_000, soft_limit=1_000_000_000),
    trace_words=("Start allocating...", "Finished allocating..."),
    missing_form_reason="CPU-bound work blocks the event loop",
    calibrated=True,
    check=check_allocated,
    warm_up=1000,
)


@hookimpl
def lab_register_tasks(register: Callable[[Task], None]) -> None:
    register(SHARED_COUNTER)
    register(SHARED_DICT)
    register(TRANSFER)
    register(ALLOC)
