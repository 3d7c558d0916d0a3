"""Calling a slow HTTP service, and its async twin for the event loops: IO-bound work.

One command starts a local service that answers after 50 ms, and measures ``fetch`` on every
runner (``fetch_async`` on the event loops) against it; options go on to ``lab run``:

    .venv/bin/python examples/own-work/http_call.py --runners threads,processes,asyncio
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

#: How long the service takes to answer, in seconds.
DELAY = 0.05


#: One TLS context for every client of this process: making one loads the system's
#: certificates, about 60 ms of CPU, which a client made per call would pay every call (the
#: lab then finds the calls CPU-bound, and rightly so).
TLS = ssl.create_default_context()


def fetch(url: str) -> int:
    """One GET, as a program calling a service would make it; its status code."""
    with httpx.Client(verify=TLS) as client:
        return client.get(url).status_code


async def fetch_async(url: str) -> int:
    """The same GET on an event loop (asyncio or trio, through httpx's async client)."""
    async with httpx.AsyncClient(verify=TLS) as client:
        return (await client.get(url)).status_code


class SlowService(BaseHTTPRequestHandler):
    """Answers every GET with ``ok`` after :data:`DELAY` seconds."""

    def do_GET(self) -> None:
        time.sleep(DELAY)
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the lab's output is the point."""


def main() -> int:
    """Serve on a free loopback port while ``lab run`` measures ``fetch`` against it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowService)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    script = os.path.relpath(__file__)
    command = [
        sys.executable, "-m", "lab", "run", f"{script}:fetch", url,
        "--async", f"{script}:fetch_async", *sys.argv[1:],
    ]  # fmt: skip
    try:
        return subprocess.run(command, check=False).returncode
    finally:
        server.shutdown()


if __name__ == "__main__":
    sys.exit(main())
