"""The ``http`` and ``files`` tasks: their sessions (a uvicorn server process, a folder of
files), their three job forms, their checks, and ``lab matrix`` and ``lab sweep`` on them."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import psutil
import pytest
import uvicorn
from lab_http_short import HTTP_SHORT, SHORT_BY

import lab.plan.limits
from lab import JobRecord
from lab.cli import main
from lab.results.analysis import analyse
from lab.results.journal import load
from lab.results.status import Kind
from lab_plugins import files_task, http_common, http_task, tcp_echo
from lab_plugins.files_task import (
    FILES,
    FILES_TASK,
    anyio_read,
    asyncio_read,
    files_folder,
    remove_leftovers,
    sync_read,
)
from lab_plugins.http_common import HOST, REQUESTS, RESPONSE_BYTES, responses_summary
from lab_plugins.http_task import HTTP, async_get, http_server, sync_get

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from conftest import LabProcess

    from lab.results.analysis import CellAnalysis
    from lab_plugins.http_common import Endpoint

#: The job forms as they are run: the sync function called, the coroutines on their loops.
FORMS = ("sync", "asyncio", "anyio-asyncio", "anyio-trio")
#: Seconds of server-side delay a job (1 ms a request): the tests time nothing.
DELAY = 0.01
HEALTHY = (Kind.OK, Kind.UNSTABLE)
#: What a job of http returns when every response is right.
EVERY_RESPONSE = f"{REQUESTS} of status 200, {REQUESTS} bodies of {RESPONSE_BYTES:,} bytes"
GONE_TIMEOUT = 5.0


def run_form(form: str, sync: Callable[[Any], Any], coroutine: Any, argument: Any) -> Any:
    if form == "sync":
        return sync(argument)
    if form == "asyncio":
        return asyncio.run(coroutine(argument))
    return anyio.run(coroutine, argument, backend=form.removeprefix("anyio-"))


def record(result: Any, duration: float = 1.0) -> JobRecord:
    return JobRecord(0, 1, "p", "t", 1, 0.0, duration, None, result)


def children() -> set[int]:
    """This process's descendants, but multiprocessing's resource tracker, which the first
    process started with spawn starts and which stays."""
    found = set()
    for process in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "resource_tracker" not in " ".join(process.cmdline()):
                found.add(process.pid)
    return found


def gone(pids: set[int], timeout: float) -> bool:
    """Whether every process of ``pids`` ended (a zombie has) within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Endpoint]:
    with http_server(DELAY) as found:
        yield found


# http


@pytest.mark.parametrize("form", FORMS)
def test_each_http_form_gets_every_response(endpoint: Endpoint, form: str) -> None:
    start = time.perf_counter()
    result, latencies = run_form(form, sync_get, async_get, endpoint)
    took = time.perf_counter() - start
    assert result == EVERY_RESPONSE
    assert HTTP.check(record(result, took), DELAY) is None
    # Each request waited out the server's delay, and the requests fit in the job's time.
    assert len(latencies) == REQUESTS
    assert min(latencies) >= DELAY / REQUESTS - 0.001 and sum(latencies) <= took


def test_the_server_runs_in_its_own_process_and_is_gone_after_the_session() -> None:
    before = children()
    with http_server(DELAY) as found:
        server = children() - before
        assert len(server) == 1 and os.getpid() not in server
        assert found.url.startswith("http://127.0.0.1:") and found.requests == REQUESTS
        one = sync_get(found._replace(requests=1)).result
        assert one == f"1 of status 200, 1 body of {RESPONSE_BYTES:,} bytes"
    assert gone(server, timeout=0)


def test_a_server_that_cannot_start_is_an_error_and_leaves_no_process() -> None:
    before = children()
    # The server's own report, not its start-up timeout ("did not start in 30 s"): it failed
    # as soon as it could not bind, whatever the machine's load made that take.
    with (
        pytest.raises(RuntimeError, match=r"the HTTP server failed: OSError: .*assign"),
        http_server(DELAY, host="192.0.2.1"),  # TEST-NET-1: no address of this machine
    ):
        pass
    assert gone(children() - before, GONE_TIMEOUT)


def test_a_server_that_does_not_report_in_time_is_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tcp_echo, "START_TIMEOUT", 0.001)  # where the server is waited for
    before = children()
    with (
        pytest.raises(RuntimeError, match=r"the HTTP server did not start in 0.001 s"),
        http_server(DELAY),
    ):
        pass
    assert gone(children() - before, timeout=0)


def test_missing_libraries_are_named_with_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http_task, "SERVER_LIBRARIES", ("uvicorn", "no_such_server_lab"))
    before = children()
    with (
        pytest.raises(
            RuntimeError, match=r"needs no_such_server_lab: pip install 'concurrency-lab\[http\]'"
        ),
        http_server(DELAY),
    ):
        pass
    assert children() == before


def test_the_http_check_wants_every_status_every_byte_and_the_delays() -> None:
    assert HTTP.bound == "io" and HTTP.sockets_per_job == 1
    assert set(HTTP.forms) == {"sync", "asyncio", "anyio"}
    right = responses_summary([(200, RESPONSE_BYTES)] * REQUESTS)
    assert right == EVERY_RESPONSE
    assert HTTP.check(record(right), 0.2) is None
    short = responses_summary([(200, RESPONSE_BYTES - 1)] * REQUESTS)
    assert "expected 10 responses of status 200" in str(HTTP.check(record(short), 0.2))
    fewer = responses_summary([(200, RESPONSE_BYTES)] * (REQUESTS - 1))
    assert HTTP.check(record(fewer), 0.2) is not None
    assert HTTP.check(record(None), 0.2) is not None
    assert "less than the server's 0.2 s" in str(HTTP.check(record(right, 0.1), 0.2))


def test_bodies_whose_lengths_make_up_for_each_other_fail_the_check() -> None:
    responses = [(200, RESPONSE_BYTES - 8), (200, RESPONSE_BYTES + 8)]
    responses += [(200, RESPONSE_BYTES)] * (REQUESTS - 2)
    found = responses_summary(responses)
    assert found == (
        "10 of status 200; 8 bodies of 1,024 bytes, 1 of 1,016 bytes, 1 of 1,032 bytes"
    )
    assert HTTP.check(record(found), 0.2) == (
        "expected 10 responses of status 200 with 1,024 bytes each"
        f" ({EVERY_RESPONSE}), got {found!r}"
    )


def test_a_response_of_another_status_fails_the_check_whatever_its_body() -> None:
    responses = [(200, RESPONSE_BYTES)] * (REQUESTS - 1) + [(500, RESPONSE_BYTES)]
    found = responses_summary(responses)
    assert found == "9 of status 200, 1 of status 500; 10 bodies of 1,024 bytes"
    problem = HTTP.check(record(found), 0.2)
    assert problem is not None and "expected 10 responses of status 200" in problem
    assert "1 of status 500" in problem
    everything_else = responses_summary([(404, RESPONSE_BYTES)] * REQUESTS)
    assert everything_else == "10 of status 404, 10 bodies of 1,024 bytes"
    assert HTTP.check(record(everything_else), 0.2) is not None


def test_the_summary_shows_a_range_of_many_lengths() -> None:
    responses = [(200, RESPONSE_BYTES + n) for n in range(REQUESTS)]
    assert responses_summary(responses) == "10 of status 200; 10 bodies of 1,024 to 1,033 bytes"
    assert responses_summary([]) == "no responses"


@pytest.mark.parametrize("given", [{}, {"bytes": "1024"}, {"bytes": "01024"}, {"bytes": " 1024"}])
def test_the_bytes_option_is_written_one_way(given: dict[str, str]) -> None:
    assert HTTP.options == {"bytes": "1024"}
    assert HTTP.configure is not None
    assert HTTP.configure(given).options == {"bytes": "1024"}
    assert HTTP.with_options({"bytes": "2048"}).options == {"bytes": "2048"}


def test_an_option_keeps_a_variant_serving_other_bytes() -> None:
    assert getattr(HTTP_SHORT.session, "keywords", None) == {
        "served_bytes": RESPONSE_BYTES - SHORT_BY
    }
    configured = HTTP_SHORT.with_options({"bytes": "2048"})
    assert configured.options == {"bytes": "2048"}
    assert getattr(configured.session, "keywords", None) == {"served_bytes": 2048 - SHORT_BY}
    assert "expected 10 responses of status 200 with 2,048 bytes each" in str(
        configured.check(record(responses_summary([(200, 2048 - SHORT_BY)] * REQUESTS)), 0.2)
    )
    assert getattr(HTTP.with_options({"bytes": "0"}).session, "keywords", None) == {
        "served_bytes": 0
    }


def test_a_server_that_fails_before_it_starts_closes_its_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    given: list[socket.socket] = []

    async def failing(self: uvicorn.Server, sockets: list[socket.socket]) -> None:
        given.extend(sockets)
        raise OSError("no serving today")

    monkeypatch.setattr(uvicorn.Server, "serve", failing)
    receiver, sender = multiprocessing.Pipe(duplex=False)
    with receiver, sender, pytest.raises(OSError, match="no serving today"):
        asyncio.run(http_common._serve(sender, os.getpid(), HOST, 0.0, 0))
    assert len(given) == 1 and given[0].fileno() == -1


def matrix(lab: LabProcess, *args: str) -> list[Any]:
    path = lab.folder / "run.json"
    result = lab.run("matrix", "-q", "--fast", "--json", str(path), *args, timeout=120)
    assert result.returncode in (0, 1), result.stderr
    return list(analyse(load(path)).cells)


def test_a_short_response_makes_an_error_cell(lab_process: LabProcess) -> None:
    cells = matrix(
        lab_process, "-p", "lab_http_short", "--tasks", "http-short", "--runners", "threads",
        "--workers", "2", "--jobs", "2", "--size", f"http-short={DELAY}",
    )  # fmt: skip
    assert [a.cell.runner for a in cells] == ["single", "threads"]
    expected = f"{REQUESTS} bodies of {RESPONSE_BYTES - SHORT_BY:,} bytes"
    for analysed in cells:
        assert analysed.status.kind is Kind.ERROR, analysed.status
        assert "expected 10 responses of status 200 with 1,024 bytes each" in str(analysed.status)
        assert expected in str(analysed.status)
    assert lab_process.leftovers() == []


def test_the_matrix_runs_both_tasks_on_threads_processes_and_loops(
    lab_process: LabProcess,
) -> None:
    runners = "threads,processes,uvloop,anyio-trio"
    cells = matrix(
        lab_process, "--tasks", "http,files", "--runners", runners, "--workers", "2",
        "--jobs", "4", "--size", f"http={DELAY}", "--size", "files=4096",
    )  # fmt: skip
    assert {(a.cell.task, a.cell.runner) for a in cells} == {
        (task, runner) for task in ("http", "files") for runner in ["single", *runners.split(",")]
    }
    for analysed in cells:  # files' jobs are too short to time well here: unstable
        assert analysed.status.kind in HEALTHY, (analysed.cell.task, analysed.status)
        assert_timed(analysed, REQUESTS if analysed.cell.task == "http" else FILES)
    assert lab_process.leftovers() == []
    assert not list(lab_process.tmp.glob(f"{files_task.PREFIX}*"))


def assert_timed(analysed: CellAnalysis, per_job: int) -> None:
    """The cell's figures have the latency percentiles and rate of operations its every job
    timed ``per_job`` of."""
    found = analysed.figures
    assert found is not None and len(found.latencies) == 4
    assert found.latencies == tuple(sorted(found.latencies))
    assert found.operations_per_second is not None and found.operations_per_second > 0
    timed = [len(r.operations or ()) for s in analysed.cell.samples for r in s.records]
    assert set(timed) == {per_job}


@pytest.mark.parametrize("task", ["http", "http-classic"])
def test_the_sweep_takes_http(task: str, lab_process: LabProcess) -> None:
    path = lab_process.folder / "sweep.json"
    result = lab_process.run(
        "sweep", "--task", task, "--runners", "asyncio,threads", "--levels", "1,4",
        "--repeat", "1", "--size", str(DELAY), "-q", "--json", str(path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    statuses = [a.status.kind for a in analyse(load(path)).cells]
    assert len(statuses) == 4 and set(statuses) <= set(HEALTHY), result.stdout
    assert "request p50 ms" in result.stdout and "requests/s" in result.stdout
    assert "request p99" in result.stdout.split("served best at 4 waiting jobs")[1]
    assert lab_process.leftovers() == []


@pytest.mark.parametrize("task", ["http", "files"])
def test_the_sweep_refuses_more_descriptors_than_the_limit(
    task: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(lab.plan.limits, "descriptor_limit", lambda: 1024)
    assert (
        main(
            ["sweep", "--task", task, "--levels", "1,1000", "--runners", "asyncio", "--allow-large"]
        )
        == 2
    )
    assert "needs 1,000 sockets" in capsys.readouterr().err


# files


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("size", [1, 65536, 3 * 2**20 + 7])
def test_each_files_form_reads_every_byte(form: str, size: int) -> None:
    with files_folder(size) as paths:
        assert len(paths) == FILES
        assert all(Path(path).stat().st_size == size for path in paths)
        reading = asyncio_read if form == "asyncio" else anyio_read
        start = time.perf_counter()
        result, latencies = run_form(form, sync_read, reading, paths)
        took = time.perf_counter() - start
    assert result == FILES * size
    assert len(latencies) == FILES and 0 < sum(latencies) <= took
    assert FILES_TASK.check(record(result), size) is None


def test_the_files_session_leaves_no_folder() -> None:
    with files_folder(100) as paths:
        folder = Path(paths[0]).parent
        assert folder.parent == Path(tempfile.gettempdir())
        assert folder.name.startswith(f"{files_task.PREFIX}{os.getpid()}-")
    assert not folder.exists()
    with pytest.raises(LookupError) as raised:
        fail_in_a_files_session()
    assert not Path(raised.value.args[0]).parent.exists()


def fail_in_a_files_session() -> None:
    with files_folder(100) as paths:
        raise LookupError(paths[0])


def test_folders_of_dead_sessions_are_removed(tmp_path: Path) -> None:
    dead = psutil.Popen(["true"])
    dead.wait()
    left = tmp_path / f"{files_task.PREFIX}{dead.pid}-abc"
    (left / "sub").mkdir(parents=True)
    mine = tmp_path / f"{files_task.PREFIX}{os.getpid()}-abc"
    mine.mkdir()
    other = tmp_path / "lab-cell-1-abc"
    other.mkdir()
    assert remove_leftovers(tmp_path) == [left]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, other.name])


def test_the_files_check_wants_every_byte() -> None:
    assert FILES_TASK.sockets_per_job == 1
    assert FILES_TASK.check(record(FILES * 10), 10) is None
    assert FILES_TASK.check(record(FILES * 10 - 1), 10) == (
        f"expected {FILES * 10:,} bytes read ({FILES} files), got {FILES * 10 - 1}"
    )
