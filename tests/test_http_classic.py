"""The ``http-classic`` task: ``http``'s workload with requests on threads and processes and
aiohttp on asyncio's loops; its session, its forms, its check, and ``lab matrix`` and
``lab sweep`` on it."""

from __future__ import annotations

import asyncio
import importlib
import multiprocessing
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest
from test_http_files_tasks import DELAY, HEALTHY, assert_timed, children, matrix, record

from lab.results.status import Kind
from lab_plugins import http_classic
from lab_plugins.asyncio_loops import uvloop_factory
from lab_plugins.http_classic import (
    HTTP_CLASSIC,
    MISSING_FORM_REASON,
    aiohttp_get,
    classic_server,
    classic_task,
    requests_get,
)
from lab_plugins.http_common import REQUESTS, RESPONSE_BYTES, responses_summary

if TYPE_CHECKING:
    from collections.abc import Iterator

    from conftest import LabProcess

    from lab import Timed
    from lab.host.registry import Catalog
    from lab_plugins.http_common import Endpoint

#: The job forms as they are run: requests called, aiohttp's coroutine on each kind of loop.
FORMS = ("sync", "asyncio", "uvloop")
SHORT_BY = 8
EVERY_RESPONSE = f"{REQUESTS} of status 200, {REQUESTS} bodies of {RESPONSE_BYTES:,} bytes"
#: What the clients of http load, which no process of this task needs.
HTTPX_LIBRARIES = ("httpx", "httpcore", "trio")


def run_form(form: str, endpoint: Endpoint) -> Timed:
    if form == "sync":
        return requests_get(endpoint)
    factory = uvloop_factory() if form == "uvloop" else None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(aiohttp_get(endpoint))


def timed_run(form: str, endpoint: Endpoint) -> tuple[Timed, float]:
    start = time.perf_counter()
    timed = run_form(form, endpoint)
    return timed, time.perf_counter() - start


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Endpoint]:
    with classic_server(DELAY) as found:
        yield found


@pytest.mark.parametrize("form", FORMS)
def test_each_form_gets_every_response(endpoint: Endpoint, form: str) -> None:
    (result, latencies), took = timed_run(form, endpoint)
    assert result == EVERY_RESPONSE
    assert HTTP_CLASSIC.check(record(result, took), DELAY) is None
    # Each request waited out the server's delay, and the requests fit in the job's time.
    assert len(latencies) == REQUESTS
    assert min(latencies) >= DELAY / REQUESTS - 0.001 and sum(latencies) <= took


@pytest.mark.parametrize("form", FORMS)
def test_each_form_keeps_one_connection_for_its_requests(
    endpoint: Endpoint, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = int(endpoint.url.rstrip("/").rsplit(":", 1)[1])
    connected = []
    connect = socket.socket.connect

    def counting(sock: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and address[1] == port:
            connected.append(address)
        connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", counting)
    assert run_form(form, endpoint).result == EVERY_RESPONSE
    assert len(connected) == 1


@pytest.mark.parametrize("form", FORMS)
def test_a_short_response_fails_the_check(form: str) -> None:
    short = classic_task("http-classic-short", served_bytes=RESPONSE_BYTES - SHORT_BY)
    assert set(short.forms) == set(HTTP_CLASSIC.forms)
    with short.jobs_session(DELAY) as found:
        (result, latencies), took = timed_run(form, found)
    assert result == responses_summary([(200, RESPONSE_BYTES - SHORT_BY)] * REQUESTS)
    assert result == "10 of status 200, 10 bodies of 1,016 bytes"
    assert len(latencies) == REQUESTS
    assert short.check(record(result, took), DELAY) == (
        "expected 10 responses of status 200 with 1,024 bytes each"
        f" ({EVERY_RESPONSE}), got {result!r}"
    )


def test_an_option_keeps_the_clients_and_their_session() -> None:
    configured = HTTP_CLASSIC.with_options({"bytes": "2048"})
    assert configured.forms == HTTP_CLASSIC.forms
    assert configured.unsupported_form("anyio") == MISSING_FORM_REASON
    assert getattr(configured.session, "func", None) is classic_server
    with configured.jobs_session(DELAY) as found:
        for form in ("sync", "asyncio"):
            (result, _), took = timed_run(form, found)
            assert result == f"{REQUESTS} of status 200, {REQUESTS} bodies of 2,048 bytes"
            assert configured.check(record(result, took), DELAY) is None


def test_the_task_is_http_with_no_anyio_form(catalog: Catalog) -> None:
    assert HTTP_CLASSIC.name == "http-classic"
    assert HTTP_CLASSIC.bound == "io" and HTTP_CLASSIC.sockets_per_job == 1
    assert HTTP_CLASSIC.operation == "request"
    assert set(HTTP_CLASSIC.forms) == {"sync", "asyncio"}
    assert HTTP_CLASSIC.unsupported_form("anyio") == MISSING_FORM_REASON
    assert "aiohttp runs on asyncio only" in MISSING_FORM_REASON
    assert "requests.Session" in HTTP_CLASSIC.description
    assert HTTP_CLASSIC.check(record(EVERY_RESPONSE), 0.2) is None
    assert "less than the server's 0.2 s" in str(
        HTTP_CLASSIC.check(record(EVERY_RESPONSE, 0.1), 0.2)
    )
    assert HTTP_CLASSIC.options == {"bytes": "1024"}
    assert catalog.tasks.get("http-classic") is HTTP_CLASSIC
    assert catalog.tasks.owners["http-classic"].startswith("plugin 'http-classic' ")


def test_the_check_wants_every_response_not_their_sum() -> None:
    made_up = [(200, RESPONSE_BYTES - 8), (200, RESPONSE_BYTES + 8)]
    made_up += [(200, RESPONSE_BYTES)] * (REQUESTS - 2)
    failed = [(200, RESPONSE_BYTES)] * (REQUESTS - 1) + [(503, RESPONSE_BYTES)]
    for responses in (made_up, failed):
        problem = HTTP_CLASSIC.check(record(responses_summary(responses)), 0.2)
        assert problem is not None and problem.startswith(
            "expected 10 responses of status 200 with 1,024 bytes each"
        )


def test_an_option_keeps_a_short_variant_short() -> None:
    short = classic_task("http-classic-short", served_bytes=RESPONSE_BYTES - SHORT_BY)
    configured = short.with_options({"bytes": "2048"})
    assert configured.options == {"bytes": "2048"}
    assert getattr(configured.session, "func", None) is classic_server
    assert getattr(configured.session, "keywords", None) == {"served_bytes": 2048 - SHORT_BY}
    assert short.with_options({"bytes": " 01024"}).options == short.options == {"bytes": "1024"}


def test_missing_libraries_are_named_with_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http_classic, "CLASSIC_LIBRARIES", ("requests", "no_such_client_lab"))
    before = children()
    with (
        pytest.raises(RuntimeError, match=r"needs no_such_client_lab: pip install") as raised,
        classic_server(DELAY),
    ):
        pass
    assert str(raised.value) == (
        "the http-classic task needs no_such_client_lab: pip install 'concurrency-lab[http]'"
    )
    assert children() == before


def test_the_plugin_imports_no_client_where_it_loads() -> None:
    code = (
        "import sys, lab_plugins.http_classic;"
        "print(*(name in sys.modules for name in ('requests', 'aiohttp')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_a_pool_worker_prepares_requests_but_not_aiohttp_nor_httpx() -> None:
    libraries = ("requests", "aiohttp", *HTTPX_LIBRARIES)
    context = multiprocessing.get_context("spawn")
    with context.Pool(
        1, initializer=importlib.import_module, initargs=("lab_plugins.http_classic",)
    ) as pool:
        found = pool.apply_async(
            eval, (f"[n in __import__('sys').modules for n in {libraries!r}]",)
        ).get(timeout=60)
    assert dict(zip(libraries, found, strict=True)) == {
        "requests": True, "aiohttp": False, "httpx": False, "httpcore": False, "trio": False,
    }  # fmt: skip


def test_the_matrix_runs_on_threads_processes_and_loops_not_on_anyio(
    lab_process: LabProcess,
) -> None:
    runners = "threads,processes,asyncio,uvloop,anyio-trio"
    cells = matrix(
        lab_process, "--tasks", "http-classic", "--runners", runners, "--workers", "2",
        "--jobs", "4", "--size", f"http-classic={DELAY}",
    )  # fmt: skip
    assert sorted(a.cell.runner for a in cells) == sorted(["single", *runners.split(",")])
    for analysed in cells:
        if analysed.cell.runner == "anyio-trio":
            assert analysed.status.kind is Kind.NOT_APPLICABLE
            assert analysed.status.detail == MISSING_FORM_REASON
            continue
        assert analysed.status.kind in HEALTHY, (analysed.cell.runner, analysed.status)
        assert_timed(analysed, REQUESTS)
    assert lab_process.leftovers() == []
