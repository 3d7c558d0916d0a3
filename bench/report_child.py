"""``python -m bench.report_child report FILE`` (or ``compare FILE FILE``): one ``lab report``
or ``lab compare`` timed in this fresh process, its tables sent to nowhere; prints the seconds
the command took (wall and CPU) and the process's peak memory (bytes) as JSON."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
from pathlib import Path
from time import perf_counter, process_time

from lab.cli import main as lab_main


def peak_bytes() -> int:
    """This process's peak resident memory: Linux's ``VmHWM`` (its ``ru_maxrss`` keeps the peak
    of the process that started this one, across ``exec``), else ``ru_maxrss`` (KiB, but
    bytes on macOS)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    found = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return found if sys.platform == "darwin" else found * 1024


def main(argv: list[str]) -> int:
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        start, cpu = perf_counter(), process_time()
        code = lab_main([*argv, "--allow-large"])
        seconds, cpu = perf_counter() - start, process_time() - cpu
    found = {"seconds": seconds, "cpu_seconds": cpu, "peak_bytes": peak_bytes(), "exit": code}
    print(json.dumps(found))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
