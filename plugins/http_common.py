"""What the ``http`` and ``http-classic`` tasks share: the loopback uvicorn server their cells
start in a process of its own, the jobs' argument, the summary of a job's responses and its
check, and the task they make with their own clients.

Importing this module has no side effect and imports no HTTP library: a process pool's worker
of ``http-classic`` imports it and never loads httpx (``http``'s client, in
:mod:`lab_plugins.http_task`). It registers nothing: it is no plugin.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import multiprocessing
import os
import socket
from collections import Counter
from typing import TYPE_CHECKING, Any, NamedTuple

from lab import JobRecord, Size, Task

from .asyncio_loops import uvloop_factory
from .tasks import SLEEP_TOLERANCE
from .tcp_echo import START_TIMEOUT as START_TIMEOUT
from .tcp_echo import raise_open_files_limit, server_process

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
    from contextlib import AbstractContextManager
    from multiprocessing.connection import Connection

    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]
    App = Callable[[Message, Receive, Send], Awaitable[None]]

HOST = "127.0.0.1"
#: Requests a job makes, one after another, on its client's one connection.
REQUESTS = 10
#: The body of every response (``http``'s; a variant may serve another size).
RESPONSE_BYTES = 1024
#: Seconds without progress (connecting, a response past its delay) before a job fails; the
#: server keeps an idle connection open as long.
IDLE_TIMEOUT = 30.0
#: The server's listen backlog (the kernel caps it at its own maximum).
BACKLOG = 65535
#: How often the server checks that the process that started it is still alive.
PARENT_CHECK_INTERVAL = 0.5
SERVER_NAME = "lab-http-server"
#: The most jobs at once per usable CPU that lab sweep runs without --allow-large (1,000 on
#: 2 CPUs).
SWEEP_LIMIT_PER_CPU = 500
INSTALL = "pip install 'concurrency-lab[http]'"
#: What only the server's process imports.
SERVER_LIBRARIES = ("uvicorn", "httptools")
#: The largest response body ``--task-option TASK.bytes`` takes.
MOST_BYTES = 64 * 2**20
#: The most distinct body lengths a summary lists one by one; more are shown as a range.
LENGTHS_LISTED = 3


class Endpoint(NamedTuple):
    """The jobs' argument: where to send requests, how many, and how long one may take."""

    url: str
    requests: int
    timeout: float


# The server, in its own process.


def make_app(delay: float, body: bytes) -> App:
    """A minimal ASGI application: every request is answered with ``body`` after ``delay`` s."""
    length = str(len(body)).encode()

    async def app(scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await asyncio.sleep(delay)
        headers = [(b"content-type", b"application/octet-stream"), (b"content-length", length)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


async def _serve(reporter: Connection, parent: int, host: str, delay: float, body: int) -> None:
    import uvicorn

    # Closed however this ends: uvicorn closes it once it has started serving on it, but not
    # when it fails before (closing it again is harmless).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind((host, 0))
        config = uvicorn.Config(
            make_app(delay, bytes(body)),
            http="httptools",
            lifespan="off",
            access_log=False,
            log_config=None,
            log_level="warning",
            backlog=BACKLOG,
            timeout_keep_alive=int(IDLE_TIMEOUT),
            server_header=False,
            date_header=False,
        )
        server = uvicorn.Server(config)
        serving = asyncio.ensure_future(server.serve(sockets=[listener]))
        while not server.started:
            if serving.done():
                serving.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        reporter.send(listener.getsockname()[1])
        reporter.close()
        while os.getppid() == parent and not serving.done():
            await asyncio.wait([serving], timeout=PARENT_CHECK_INTERVAL)
        server.should_exit = True
        await serving


def serve(reporter: Connection, parent: int, host: str, delay: float, body: int) -> None:
    """The server process: report the port (or why it failed), then answer every request with
    ``body`` bytes after ``delay`` seconds until ``parent`` is gone or it is terminated."""
    raise_open_files_limit()
    try:
        with asyncio.Runner(loop_factory=uvloop_factory()) as runner:
            runner.run(_serve(reporter, parent, host, delay, body))
    except BaseException as exc:
        with contextlib.suppress(OSError, ValueError):
            reporter.send(f"{type(exc).__name__}: {exc}")
        raise


def missing_libraries(names: tuple[str, ...]) -> list[str]:
    return [name for name in names if importlib.util.find_spec(name) is None]


@contextlib.contextmanager
def uvicorn_server(
    size: int | float,
    *,
    served_bytes: int = RESPONSE_BYTES,
    host: str = HOST,
) -> Iterator[Endpoint]:
    """A uvicorn server process on loopback that holds each response ``size / REQUESTS``
    seconds and answers ``served_bytes``; always ended on exit. It needs uvicorn and httptools
    (:data:`SERVER_LIBRARIES`), which the caller checks."""
    raise_open_files_limit()
    delay = float(size) / REQUESTS
    with server_process(serve, (host, delay, served_bytes), SERVER_NAME, "HTTP server") as port:
        yield Endpoint(f"http://{host}:{port}/", REQUESTS, delay + IDLE_TIMEOUT)


def in_a_pool_worker() -> bool:
    """Whether this process is one that multiprocessing started (a process pool's worker), other
    than the tasks' server."""
    parent = multiprocessing.parent_process()
    return parent is not None and multiprocessing.current_process().name != SERVER_NAME


def prepare_pool_worker(prepare: Callable[[], None]) -> None:
    """In a pool's worker, which imports the jobs' module while it starts (its preload) and
    runs nothing but jobs: ``prepare`` the clients then, or each worker's first job pays for
    their imports. Where the libraries are missing, the session has already said so."""
    if in_a_pool_worker():
        with contextlib.suppress(ImportError):
            prepare()


# What a job returns, and its check.


def _counted(counts: Counter[int], first: Callable[[int, int], str], then: str) -> str:
    """``counts`` (value: how many), most frequent first: the first as ``first(n, value)``
    writes it, the others as the format ``then`` of ``n`` and ``value`` does."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    (value, n), *others = ordered
    return ", ".join([first(n, value), *(then.format(n=n, value=v) for v, n in others)])


def _statuses(n: int, status: int) -> str:
    return f"{n} of status {status}"


def _bodies(n: int, length: int) -> str:
    return f"{n} {'body' if n == 1 else 'bodies'} of {length:,} bytes"


def responses_summary(responses: Iterable[tuple[int, int]]) -> str:
    """A job's responses, each its status and its body's length, summarised exactly where they
    agree: ``10 of status 200, 10 bodies of 1,024 bytes``. Where they do not, every status and
    length with how many had it (``9 of status 200, 1 of status 500; 9 bodies of 1,024 bytes,
    1 of 21 bytes``), or the range of lengths when there are more than :data:`LENGTHS_LISTED`
    of them (``10 of status 200; 10 bodies of 1,000 to 1,048 bytes``)."""
    responses = list(responses)
    if not responses:
        return "no responses"
    statuses = Counter(status for status, _ in responses)
    lengths = Counter(length for _, length in responses)
    status_text = _counted(statuses, _statuses, "{n} of status {value}")
    if len(lengths) > LENGTHS_LISTED:
        length_text = f"{len(responses)} bodies of {min(lengths):,} to {max(lengths):,} bytes"
    else:
        length_text = _counted(lengths, _bodies, "{n} of {value:,} bytes")
    agreed = len(statuses) == 1 and len(lengths) == 1
    return f"{status_text}{', ' if agreed else '; '}{length_text}"


def check_responses(
    record: JobRecord, size: int | float, *, response_bytes: int = RESPONSE_BYTES
) -> str | None:
    """Every one of the :data:`REQUESTS` responses had status 200 and a body of exactly
    ``response_bytes``, and the job took at least the server's delays."""
    expected = responses_summary([(200, response_bytes)] * REQUESTS)
    if record.result != expected:
        return (
            f"expected {REQUESTS} responses of status 200 with {response_bytes:,} bytes each"
            f" ({expected}), got {record.result!r}"
        )
    if record.duration < size - SLEEP_TOLERANCE:
        return f"took {record.duration:.4f} s, less than the server's {size:g} s of delays"
    return None


# The task, with the clients of either.


def http_task_of(
    name: str,
    response_bytes: int = RESPONSE_BYTES,
    *,
    forms: Mapping[str, Callable[[Endpoint], Any]],
    clients: str,
    server: Callable[..., AbstractContextManager[Endpoint]],
    served_bytes: int | None = None,
    missing_form_reason: str = "",
) -> Task:
    """The task, or a variant of it, whose jobs use the clients of ``forms`` (described by
    ``clients``) and whose session is ``server`` (:func:`uvicorn_server` or one that wraps it,
    taking ``served_bytes``): its responses are ``response_bytes`` long, or its server answers
    ``served_bytes`` instead (the check still expects ``response_bytes``). ``--task-option
    TASK.bytes`` makes the task with other ``response_bytes``; a variant's server still answers
    as many bytes more or fewer."""
    served = response_bytes if served_bytes is None else served_bytes
    offset = served - response_bytes

    def configure(options: Mapping[str, str]) -> Task:
        """The task with ``--task-option`` values: ``bytes``."""
        bytes_ = _whole_number(options.get("bytes", str(response_bytes)), "bytes", MOST_BYTES)
        return http_task_of(
            name,
            bytes_,
            forms=forms,
            clients=clients,
            server=server,
            served_bytes=max(0, bytes_ + offset) if offset else None,
            missing_form_reason=missing_form_reason,
        )

    return Task(
        name=name,
        description=(
            f"HTTP: each job makes {REQUESTS} GET requests ({clients}, one keep-alive"
            f" connection) to a loopback uvicorn server in its own process that holds each"
            f" response SIZE/{REQUESTS} s and answers {response_bytes:,} bytes"
        ),
        bound="io",
        sockets_per_job=1,
        # One server process answers every waiting job, on the CPUs the clients use too.
        sweep_limit_per_cpu=SWEEP_LIMIT_PER_CPU,
        forms=forms,
        missing_form_reason=missing_form_reason,
        size=Size(name="seconds", kind=float, default=0.2, soft_limit=3600.0, unit=" s"),
        trace_words=("Start requesting...", "Finished requesting..."),
        check=functools.partial(check_responses, response_bytes=response_bytes),
        session=functools.partial(server, served_bytes=served),
        session_name="server",
        operation="request",
        option_help={
            "bytes": f"the body of every response, in bytes, 0 to {MOST_BYTES // 2**20} MiB"
            f" (default: {RESPONSE_BYTES:,})"
        },
        configure=configure,
        options={"bytes": str(response_bytes)},
    )


def _whole_number(text: str, name: str, most: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {text!r}") from None
    if not 0 <= value <= most:
        raise ValueError(f"{name} must be from 0 to {most:,}, not {value:,}")
    return value
