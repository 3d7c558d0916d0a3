"""``tcp``: real IO on loopback, each job a client of an echo server in its own process."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import socket
from typing import TYPE_CHECKING, cast

from lab import JobRecord, Size, Task, hookimpl

from .asyncio_loops import uvloop_factory

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from anyio.abc import SocketStream

    Address = tuple[str, int, int]

HOST = "127.0.0.1"
#: Round trips a job makes on its connection.
ROUND_TRIPS = 10
#: Seconds without progress (connecting, one round trip) before a job fails.
IDLE_TIMEOUT = 30.0
#: The server's listen backlog (the kernel caps it at its own maximum).
BACKLOG = 65535
#: How often the server checks that the process that started it is still alive.
PARENT_CHECK_INTERVAL = 0.5
#: Seconds to wait for the server to report its port, and to exit once told to.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
#: The most bytes a receive loop asks for at once.
CHUNK = 256 * 1024


def raise_open_files_limit() -> None:
    """Raise the soft RLIMIT_NOFILE to the hard limit when it is lower; leave it if refused."""
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft == resource.RLIM_INFINITY or soft >= hard:
        return
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# The server, in its own process.


class EchoProtocol(asyncio.Protocol):
    """Writes back whatever arrives; never stops reading, so a client may send before reading."""

    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


async def _serve(reporter: Connection, parent: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(EchoProtocol, HOST, 0, backlog=BACKLOG)
    async with server:
        reporter.send(server.sockets[0].getsockname()[1])
        reporter.close()
        while os.getppid() == parent:
            await asyncio.sleep(PARENT_CHECK_INTERVAL)


def serve(reporter: Connection, parent: int) -> None:
    """The server process: report the port (or why it failed), echo until ``parent`` is gone."""
    raise_open_files_limit()
    try:
        with asyncio.Runner(loop_factory=uvloop_factory()) as runner:
            runner.run(_serve(reporter, parent))
    except Exception as exc:
        with contextlib.suppress(OSError, ValueError):
            reporter.send(f"{type(exc).__name__}: {exc}")
        raise


def server_port(receiver: Connection, process: BaseProcess, server: str) -> int:
    """The port a server process reported on ``receiver``; ``RuntimeError`` saying why not
    (it failed, exited, or did not report within :data:`START_TIMEOUT`)."""
    if not receiver.poll(START_TIMEOUT):
        raise RuntimeError(f"the {server} did not start in {START_TIMEOUT:g} s")
    try:
        report: int | str = receiver.recv()
    except EOFError:
        process.join(STOP_TIMEOUT)
        raise RuntimeError(f"the {server} exited with code {process.exitcode}") from None
    if isinstance(report, str):
        raise RuntimeError(f"the {server} failed: {report}")
    return report


def stop_server(process: BaseProcess) -> None:
    """Terminate a server process, and kill it if it is still there after :data:`STOP_TIMEOUT`."""
    process.terminate()
    process.join(STOP_TIMEOUT)
    if process.is_alive():
        process.kill()
        process.join(STOP_TIMEOUT)


@contextlib.contextmanager
def server_process(
    target: Callable[..., None], args: tuple[object, ...], name: str, server: str
) -> Iterator[int]:
    """A server started with spawn in a process of its own, as ``target(reporter, parent,
    *args)``, yielding the port it reports (see :func:`server_port`); always ended on exit."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=target, args=(sender, os.getpid(), *args), name=name, daemon=True
    )
    with receiver:
        try:
            process.start()
        finally:
            sender.close()
        try:
            yield server_port(receiver, process, server)
        finally:
            stop_server(process)


@contextlib.contextmanager
def echo_server(size: int | float) -> Iterator[Address]:
    """The task's session: an echo server process on loopback, yielding ``(host, port, size)``."""
    raise_open_files_limit()
    with server_process(serve, (), "tcp-echo-server", "echo server") as port:
        yield (HOST, port, int(size))


# The jobs: one client each, in three forms.


def _receive(sock: socket.socket, buffer: memoryview) -> int:
    received = 0
    while received < len(buffer):
        count = sock.recv_into(buffer[received:], min(len(buffer) - received, CHUNK))
        if not count:
            raise ConnectionError("the echo server closed the connection")
        received += count
    return received


def sync_echo(address: Address) -> int:
    """Blocking sockets; returns the bytes that came back."""
    host, port, size = address
    message = bytes(size)
    buffer = memoryview(bytearray(size))
    received = 0
    with socket.create_connection((host, port), timeout=IDLE_TIMEOUT) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(ROUND_TRIPS):
            sock.sendall(message)
            received += _receive(sock, buffer)
    return received


async def _asyncio_round_trips(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, size: int, idle: asyncio.Timeout
) -> int:
    loop = asyncio.get_running_loop()
    message = bytes(size)
    received = 0
    for _ in range(ROUND_TRIPS):
        idle.reschedule(loop.time() + IDLE_TIMEOUT)
        writer.write(message)
        await writer.drain()
        received += len(await reader.readexactly(size))
    writer.close()
    await writer.wait_closed()
    return received


async def asyncio_echo(address: Address) -> int:
    """asyncio streams, for asyncio's loops (asyncio, uvloop)."""
    host, port, size = address
    async with asyncio.timeout(IDLE_TIMEOUT) as idle:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            return await _asyncio_round_trips(reader, writer, size, idle)
        except BaseException:
            writer.transport.abort()
            raise


async def _anyio_receive(stream: SocketStream, size: int) -> int:
    received = 0
    while received < size:
        received += len(await stream.receive(min(size - received, CHUNK)))
    return received


async def anyio_echo(address: Address) -> int:
    """anyio streams, for anyio's backends (asyncio, trio)."""
    import anyio

    host, port, size = address
    message = bytes(size)
    received = 0
    with anyio.fail_after(IDLE_TIMEOUT) as scope:
        async with await anyio.connect_tcp(host, port) as stream:
            for _ in range(ROUND_TRIPS):
                scope.deadline = anyio.current_time() + IDLE_TIMEOUT
                await stream.send(message)
                received += await _anyio_receive(stream, size)
    return received


def check_round_trips(record: JobRecord, size: int | float) -> str | None:
    expected = ROUND_TRIPS * int(size)
    if record.result != expected:
        return f"expected {expected:,} bytes back, got {record.result!r}"
    return None


TCP = Task(
    name="tcp",
    description=(
        f"loopback TCP: each job connects to an echo server and makes {ROUND_TRIPS} round trips"
        " of SIZE bytes"
    ),
    bound="transfer",
    sockets_per_job=1,
    forms={"sync": sync_echo, "asyncio": asyncio_echo, "anyio": anyio_echo},
    size=Size(name="bytes", kind=int, default=1024, soft_limit=16 * 2**20),
    trace_words=("Start connecting...", "Finished echoing..."),
    check=check_round_trips,
    session=echo_server,
    session_name="server",
)


@hookimpl
def lab_register_tasks(register: Callable[[Task], None]) -> None:
    register(TCP)
