"""The ``tcp`` task: its echo server process, its three job forms, and ``lab matrix`` on it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from typing import IO, TYPE_CHECKING, Any

import anyio
import psutil
import pytest

from lab import JobRecord
from lab_plugins.tcp_echo import (
    HOST,
    ROUND_TRIPS,
    TCP,
    anyio_echo,
    asyncio_echo,
    echo_server,
    sync_echo,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from conftest import LabProcess

    from lab_plugins.tcp_echo import Address

RUNNERS = (
    "threads",
    "processes",
    "asyncio",
    "uvloop",
    "anyio-asyncio",
    "anyio-trio",
    "threads-in-processes",
)
#: The job forms as they are run: the sync function called, the coroutines on their loops.
FORMS = ("sync", "asyncio", "anyio-asyncio", "anyio-trio")
GONE_TIMEOUT = 5.0


def run_form(form: str, address: Address) -> Any:
    if form == "sync":
        return sync_echo(address)
    if form == "asyncio":
        return asyncio.run(asyncio_echo(address))
    return anyio.run(anyio_echo, address, backend=form.removeprefix("anyio-"))


def listener(port: int, parent: psutil.Process) -> psutil.Process:
    """The descendant of ``parent`` listening on ``port``."""
    for process in parent.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            for connection in process.net_connections("tcp"):
                if connection.laddr.port == port and connection.status == psutil.CONN_LISTEN:
                    return process
    raise AssertionError(f"no process of {parent.pid} listens on port {port}")


def gone(process: psutil.Process, timeout: float) -> bool:
    """Whether ``process`` ended (a zombie has) within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if not process.is_running() or process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def read_line(stream: IO[str], timeout: float) -> str:
    """The next line of a subprocess's output, or an error after ``timeout`` seconds."""
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, f"no output in {timeout:g} s"
    return stream.readline()


@pytest.fixture(scope="module")
def server() -> Iterator[Address]:
    with echo_server(1024) as address:
        yield address


def test_the_session_runs_an_echo_server_and_stops_it() -> None:
    with echo_server(4096) as address:
        host, port, size = address
        assert (host, size) == (HOST, 4096) and port > 0
        process = listener(port, psutil.Process())
        assert process.pid != os.getpid()
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(b"hello")
            assert sock.recv(16) == b"hello"
    assert gone(process, timeout=0)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("size", [1, 1024, 1024 * 1024])
def test_each_form_gets_back_every_byte(server: Address, form: str, size: int) -> None:
    host, port, _ = server
    assert run_form(form, (host, port, size)) == ROUND_TRIPS * size


def test_a_refused_connection_raises() -> None:
    with echo_server(1) as address:
        pass
    for form in FORMS:
        with pytest.raises(OSError, match=r"refused|failed"):
            run_form(form, address)


def test_the_task_checks_the_bytes_that_came_back() -> None:
    assert TCP.bound == "transfer"
    assert set(TCP.forms) == {"sync", "asyncio", "anyio"}
    record = _record(ROUND_TRIPS * 100)
    assert TCP.check(record, 100) is None
    assert TCP.check(_record(100), 100) == "expected 1,000 bytes back, got 100"


def _record(result: int) -> JobRecord:
    return JobRecord(0, 1, "p", "t", 1, 0.0, 1.0, None, result)


def statuses(out: str) -> dict[str, str]:
    """runner -> its table row, for the rows of the matrix."""
    found = {}
    for line in out.splitlines():
        if re.match(r"^[\w-]+\s+\d+(x\d+)?\s+\d+\s", line):
            found[line.split()[0]] = line
    return found


def test_the_matrix_runs_the_task_on_every_io_runner(lab_process: LabProcess) -> None:
    result = lab_process.run(
        "matrix", "--tasks", "tcp", "--runners", ",".join(RUNNERS),
        "--workers", "4", "--jobs", "8", "--fast", "-q", "--wide",
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = statuses(result.stdout)
    assert set(rows) == {"single", *RUNNERS}, result.stdout
    for runner, line in rows.items():
        assert line.endswith(" ok") or "unstable: " in line, (runner, line)
    assert lab_process.leftovers() == []


SESSION_SCRIPT = """
import sys, time
from lab_plugins.tcp_echo import echo_server

if __name__ == "__main__":
    with echo_server(1) as (_, port, _):
        print(port, flush=True)
        time.sleep(60)
"""


def test_the_server_exits_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", SESSION_SCRIPT],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert parent.stdout is not None
        port = int(read_line(parent.stdout, timeout=30))
        server = listener(port, psutil.Process(parent.pid))
        parent.kill()
        parent.wait(timeout=10)
        assert gone(server, GONE_TIMEOUT)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
