"""``http``: each job makes HTTP requests with httpx to a loopback uvicorn server that the cell
starts in a process of its own.

The server, the jobs' argument, the check and the task itself are :mod:`lab_plugins.http_common`'s,
which ``http-classic`` shares; this module holds httpx's side. The libraries come with the
``http`` extra. This module imports none of them when the plugins load (every cell loads every
plugin: that would cost every cell of every task their import time and memory); the session
checks them and says how to install them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import TYPE_CHECKING, Any

from lab import Task, Timed, clock, hookimpl

from .http_common import HOST as HOST
from .http_common import IDLE_TIMEOUT as IDLE_TIMEOUT
from .http_common import INSTALL as INSTALL
from .http_common import REQUESTS as REQUESTS
from .http_common import RESPONSE_BYTES as RESPONSE_BYTES
from .http_common import SERVER_LIBRARIES as SERVER_LIBRARIES
from .http_common import START_TIMEOUT as START_TIMEOUT
from .http_common import Endpoint as Endpoint
from .http_common import (
    http_task_of,
    missing_libraries,
    prepare_pool_worker,
    responses_summary,
    uvicorn_server,
)

if TYPE_CHECKING:
    import ssl
    from collections.abc import Callable, Iterator

#: What the jobs import, in the cell's process and in its workers.
CLIENT_LIBRARIES = ("httpx",)


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
    """The task's session: :func:`lab_plugins.http_common.uvicorn_server`, with httpx checked
    and prepared first and warmed on it before the jobs run."""
    check_libraries()
    with uvicorn_server(size, served_bytes=served_bytes, host=host) as endpoint:
        warm_up(endpoint._replace(requests=1))
        yield endpoint


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


def sync_get(endpoint: Endpoint) -> Timed:
    """``httpx.Client``, for threads and processes: every response's status and body length,
    summarised, with each request's time (sent to whole body read)."""
    import httpx

    responses = []
    latencies = []
    with httpx.Client(**client_options(endpoint)) as client:
        for _ in range(endpoint.requests):
            sent = clock()
            response = client.get(endpoint.url)
            latencies.append(clock() - sent)
            responses.append((response.status_code, len(response.content)))
    return Timed(responses_summary(responses), latencies)


async def async_get(endpoint: Endpoint) -> Timed:
    """``httpx.AsyncClient``, for asyncio's loops and anyio's backends (httpx runs on asyncio
    and on trio); as :func:`sync_get`."""
    import httpx

    responses = []
    latencies = []
    async with httpx.AsyncClient(**client_options(endpoint)) as client:
        for _ in range(endpoint.requests):
            sent = clock()
            response = await client.get(endpoint.url)
            latencies.append(clock() - sent)
            responses.append((response.status_code, len(response.content)))
    return Timed(responses_summary(responses), latencies)


#: What the ``http`` task's jobs request with, in each form.
HTTPX_FORMS: dict[str, Callable[[Endpoint], Any]] = {
    "sync": sync_get,
    "asyncio": async_get,
    "anyio": async_get,
}
HTTPX_CLIENTS = "httpx, a client a job"


def httpx_task(
    name: str = "http",
    response_bytes: int = RESPONSE_BYTES,
    *,
    served_bytes: int | None = None,
) -> Task:
    """The task, or a variant of it with httpx's clients (:func:`http_server` as its session):
    one whose responses are ``response_bytes`` long, or one whose server answers
    ``served_bytes`` instead (the check still expects ``response_bytes``)."""
    return http_task_of(
        name,
        response_bytes,
        forms=HTTPX_FORMS,
        clients=HTTPX_CLIENTS,
        server=http_server,
        served_bytes=served_bytes,
    )


HTTP = httpx_task()


# httpx, httpcore and trio: 95 ms of imports here.
prepare_pool_worker(prepare_client)


@hookimpl
def lab_register_tasks(register: Callable[[Task], None]) -> None:
    register(HTTP)
