"""``http-classic``: the ``http`` task's workload (the same loopback uvicorn server, requests,
responses and check) with the clients people classically pair with each model:
``requests.Session`` on threads and processes, ``aiohttp.ClientSession`` on asyncio's loops.

aiohttp runs on asyncio only: the task has no ``anyio`` form (``http`` runs httpx on anyio's
backends). Its clients have the settings of ``http``'s: one connection a job, kept alive across
its requests, nothing taken from the environment. Like ``http``, this module imports none of the
libraries when the plugins load; the session checks them and says how to install them. It
shares ``http``'s server, check and task through :mod:`lab_plugins.http_common`, not
:mod:`lab_plugins.http_task`: a process pool's worker of this task never imports httpx.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from lab import Task, Timed, clock, hookimpl

from .http_common import (
    HOST,
    INSTALL,
    RESPONSE_BYTES,
    SERVER_LIBRARIES,
    Endpoint,
    http_task_of,
    missing_libraries,
    prepare_pool_worker,
    responses_summary,
    uvicorn_server,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import requests

NAME = "http-classic"
#: What the jobs import, besides what the ``http`` task's session needs.
CLASSIC_LIBRARIES = ("requests", "aiohttp")
CLASSIC_CLIENTS = (
    "requests.Session on threads and processes, aiohttp on asyncio loops, a session a job"
)
MISSING_FORM_REASON = "aiohttp runs on asyncio only; the http task runs httpx on anyio's backends"


def check_libraries() -> None:
    """Raise a ``RuntimeError`` that names every library the task needs and is missing, and says
    how to install them, before anything starts."""
    missing = missing_libraries(CLASSIC_LIBRARIES + SERVER_LIBRARIES)
    if missing:
        raise RuntimeError(f"the {NAME} task needs {', '.join(missing)}: {INSTALL}")


def warm_up(endpoint: Endpoint) -> None:
    """A request with each form's client, so that no job pays for its imports or first use:
    requests in this process (threads; pool workers prepare it themselves), aiohttp on the
    event loops that run in this process only."""
    requests_get(endpoint)
    asyncio.run(aiohttp_get(endpoint))


@contextlib.contextmanager
def classic_server(
    size: int | float, *, served_bytes: int = RESPONSE_BYTES, host: str = HOST
) -> Iterator[Endpoint]:
    """The task's session: ``http``'s server (:func:`lab_plugins.http_common.uvicorn_server`),
    with the libraries of this task's clients checked first and warmed before the jobs run
    (httpx is not loaded: the cell's process holds only this task's clients)."""
    check_libraries()
    with uvicorn_server(size, served_bytes=served_bytes, host=host) as endpoint:
        warm_up(endpoint._replace(requests=1))
        yield endpoint


# The jobs: a session each, with one connection for its requests.


def requests_session() -> requests.Session:
    """A session as ``http``'s clients are set: one connection, kept alive; no proxy or
    certificate settings from the environment."""
    import requests
    import requests.adapters

    session = requests.Session()
    session.trust_env = False
    session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=1))
    return session


def prepare_requests() -> None:
    """Import requests (and urllib3) and make a session, which a process's first job would pay
    for otherwise."""
    requests_session().close()


def requests_get(endpoint: Endpoint) -> Timed:
    """``requests.Session``, for threads and processes: every response's status and body
    length, summarised, with each request's time (sent to whole body read)."""
    responses = []
    latencies = []
    with requests_session() as session:
        for _ in range(endpoint.requests):
            sent = clock()
            response = session.get(endpoint.url, timeout=endpoint.timeout)
            body = response.content
            latencies.append(clock() - sent)
            responses.append((response.status_code, len(body)))
    return Timed(responses_summary(responses), latencies)


async def aiohttp_get(endpoint: Endpoint) -> Timed:
    """``aiohttp.ClientSession``, for asyncio's loops; as :func:`requests_get`. A request fails
    when connecting, or waiting for any of the response, takes longer than the endpoint's
    timeout (as httpx's timeout does)."""
    import aiohttp

    responses = []
    latencies = []
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=endpoint.timeout, sock_read=endpoint.timeout
    )
    connector = aiohttp.TCPConnector(limit=1, force_close=False)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, trust_env=False
    ) as session:
        for _ in range(endpoint.requests):
            sent = clock()
            async with session.get(endpoint.url) as response:
                body = await response.read()
            latencies.append(clock() - sent)
            responses.append((response.status, len(body)))
    return Timed(responses_summary(responses), latencies)


#: What the ``http-classic`` task's jobs request with, in each form.
CLASSIC_FORMS: dict[str, Callable[[Endpoint], Any]] = {
    "sync": requests_get,
    "asyncio": aiohttp_get,
}


def classic_task(name: str = NAME, *, served_bytes: int | None = None) -> Task:
    """The task, or a variant whose server answers ``served_bytes`` instead of what the check
    expects; its session is :func:`classic_server`, with any ``--task-option`` too."""
    return http_task_of(
        name,
        forms=CLASSIC_FORMS,
        clients=CLASSIC_CLIENTS,
        server=classic_server,
        served_bytes=served_bytes,
        missing_form_reason=MISSING_FORM_REASON,
    )


HTTP_CLASSIC = classic_task()


# requests only: aiohttp runs on the event loops of the cell's own process, which the session
# warms.
prepare_pool_worker(prepare_requests)


@hookimpl
def lab_register_tasks(register: Callable[[Task], None]) -> None:
    register(HTTP_CLASSIC)
