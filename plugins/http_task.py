"""``http``: each job makes HTTP requests with httpx to a loopback uvicorn server that the cell
starts in a process of its own.

The libraries come with the ``http`` extra. This module imports none of them when the plugins
load (every cell loads every plugin: that would cost every cell of every task their import time
and memory); the session checks them and says how to install them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import multiprocessing
import os
import socket
from typing import TYPE_CHECKING, Any, NamedTuple

from lab import JobRecord, Size, Task, Timed, hookimpl
from lab.timing import clock

from .asyncio_loops import uvloop_factory
from .tasks import SLEEP_TOLERANCE
from .tcp_echo import START_TIMEOUT as START_TIMEOUT
from .tcp_echo import raise_open_files_limit, server_port, stop_server

if TYPE_CHECKING:
    import ssl
    from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
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
#: What the jobs import, in the cell's process and in its workers.
CLIENT_LIBRARIES = ("httpx",)
#: What only the server's process imports.
SERVER_LIBRARIES = ("uvicorn", "httptools")


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

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
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


def check_libraries() -> None:
    """Raise a ``RuntimeError`` that says how to install what the task needs, if it is missing;
    then prepare the client, so that no job pays for its imports."""
    missing = missing_libraries(CLIENT_LIBRARIES + SERVER_LIBRARIES)
    if missing:
        raise RuntimeError(f"the http task needs {', '.join(missing)}: {INSTALL}")
    prepare_client()


@contextlib.contextmanager
def http_server(
    size: int | float,
    *,
    served_bytes: int = RESPONSE_BYTES,
    host: str = HOST,
) -> Iterator[Endpoint]:
    """The task's session: :func:`uvicorn_server`, with httpx checked and prepared first and
    warmed on it before the jobs run."""
    check_libraries()
    with uvicorn_server(size, served_bytes=served_bytes, host=host) as endpoint:
        warm_up(endpoint._replace(requests=1))
        yield endpoint


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
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=serve,
        args=(sender, os.getpid(), host, delay, served_bytes),
        name=SERVER_NAME,
        daemon=True,
    )
    with receiver:
        try:
            process.start()
        finally:
            sender.close()
        try:
            port = server_port(receiver, process, "HTTP server")
            yield Endpoint(f"http://{host}:{port}/", REQUESTS, delay + IDLE_TIMEOUT)
        finally:
            stop_server(process)


# The jobs: a client each, with one connection for its requests.


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One per process for every client: plain HTTP never uses it, but httpx makes one per
    client otherwise, loading the CA bundle (20 ms a client here)."""
    import ssl

    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def client_options(endpoint: Endpoint) -> dict[str, Any]:
    """The same for every form: one connection, kept alive across the job's requests; no proxy
    or certificate settings from the environment."""
    import httpx

    return {
        "limits": httpx.Limits(max_connections=1, max_keepalive_connections=1),
        "timeout": httpx.Timeout(endpoint.timeout),
        "trust_env": False,
        "verify": _ssl_context(),
    }


def prepare_client() -> None:
    """Import the client's code, which a process's first client would pay for in its job: httpx
    imports httpcore (and httpcore trio, where it is installed) when it makes its first client,
    60 ms here. Also makes the process's SSL context."""
    import httpx

    httpx.Client(**client_options(Endpoint(f"http://{HOST}/", 1, IDLE_TIMEOUT))).close()


def warm_up(endpoint: Endpoint) -> None:
    """A request with each kind of client, so that the server and the client's code on asyncio
    are warm (httpx's first request on asyncio imports anyio's backend: 20 ms here)."""
    sync_get(endpoint)
    asyncio.run(async_get(endpoint))


def responses_summary(good: int, received: int) -> str:
    return f"{good} ok, {received:,} bytes"


def sync_get(endpoint: Endpoint) -> Timed:
    """``httpx.Client``, for threads and processes: how many responses had status 200 and the
    bytes of every body, with each request's time (sent to whole body read)."""
    import httpx

    good = received = 0
    latencies = []
    with httpx.Client(**client_options(endpoint)) as client:
        for _ in range(endpoint.requests):
            sent = clock()
            response = client.get(endpoint.url)
            latencies.append(clock() - sent)
            good += response.status_code == 200
            received += len(response.content)
    return Timed(responses_summary(good, received), latencies)


async def async_get(endpoint: Endpoint) -> Timed:
    """``httpx.AsyncClient``, for asyncio's loops and anyio's backends (httpx runs on asyncio
    and on trio); as :func:`sync_get`."""
    import httpx

    good = received = 0
    latencies = []
    async with httpx.AsyncClient(**client_options(endpoint)) as client:
        for _ in range(endpoint.requests):
            sent = clock()
            response = await client.get(endpoint.url)
            latencies.append(clock() - sent)
            good += response.status_code == 200
            received += len(response.content)
    return Timed(responses_summary(good, received), latencies)


def check_responses(
    record: JobRecord, size: int | float, *, response_bytes: int = RESPONSE_BYTES
) -> str | None:
    """Every response had status 200 and a body of ``response_bytes``, and the job took at
    least the server's delays."""
    expected = responses_summary(REQUESTS, REQUESTS * response_bytes)
    if record.result != expected:
        return (
            f"expected {REQUESTS} responses of status 200 with {response_bytes:,} bytes each"
            f" ({expected}), got {record.result!r}"
        )
    if record.duration < size - SLEEP_TOLERANCE:
        return f"took {record.duration:.4f} s, less than the server's {size:g} s of delays"
    return None


#: What the ``http`` task's jobs request with, in each form.
HTTPX_FORMS: dict[str, Callable[[Endpoint], Any]] = {
    "sync": sync_get,
    "asyncio": async_get,
    "anyio": async_get,
}
HTTPX_CLIENTS = "httpx, a client a job"


#: The largest response body ``--task-option http.bytes`` takes.
MOST_BYTES = 64 * 2**20


def http_task(
    name: str = "http",
    response_bytes: int = RESPONSE_BYTES,
    *,
    served_bytes: int | None = None,
    forms: Mapping[str, Callable[[Endpoint], Any]] = HTTPX_FORMS,
    clients: str = HTTPX_CLIENTS,
    missing_form_reason: str = "",
    server: Callable[..., AbstractContextManager[Endpoint]] = http_server,
) -> Task:
    """The task, or a variant of it: one whose jobs use other clients (``forms``, described
    by ``clients``, with ``server`` as the session: :func:`http_server` or one that wraps it),
    one whose responses are ``response_bytes`` long, or one whose server answers
    ``served_bytes`` instead (the check still expects ``response_bytes``)."""
    served = response_bytes if served_bytes is None else served_bytes

    def configure(options: Mapping[str, str]) -> Task:
        """The task with ``--task-option`` values: ``bytes``."""
        bytes_ = _whole_number(options.get("bytes", str(response_bytes)), "bytes", MOST_BYTES)
        return http_task(
            name,
            bytes_,
            forms=forms,
            clients=clients,
            missing_form_reason=missing_form_reason,
            server=server,
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
    )


def _whole_number(text: str, name: str, most: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {text!r}") from None
    if not 0 <= value <= most:
        raise ValueError(f"{name} must be from 0 to {most:,}, not {value:,}")
    return value


HTTP = http_task()


def in_a_pool_worker() -> bool:
    """Whether this process is one that multiprocessing started (a process pool's worker), other
    than this task's server."""
    parent = multiprocessing.parent_process()
    return parent is not None and multiprocessing.current_process().name != SERVER_NAME


if in_a_pool_worker():
    # A pool's worker imports this module while it starts (the jobs' module is its preload)
    # and runs nothing but jobs: prepare the client then, or each worker's first job pays for
    # it (95 ms here: httpx, httpcore, trio). Where the libraries are missing, the session has
    # already said so.
    with contextlib.suppress(ImportError):
        prepare_client()


@hookimpl
def lab_register_tasks(register: Callable[[Task], None]) -> None:
    register(HTTP)
