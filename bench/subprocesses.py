"""Running a hand-written side in a fresh process group that is always reaped."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.core import BenchError

#: The folder that holds the ``bench`` package, for the child's import path.
ROOT = Path(__file__).resolve().parent.parent


def run_module(module: str, args: list[str], timeout: float) -> dict[str, Any]:
    """Run ``python -m module args`` and parse the JSON object it prints on stdout."""
    process = subprocess.Popen(
        [sys.executable, "-P", "-m", module, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_child_env(),
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"timeout after {timeout:g} s") from None
    finally:
        _reap(process)
    if process.returncode != 0:
        raise BenchError(_last_line(err) or f"exit code {process.returncode}")
    return _parsed(out)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _reap(process: subprocess.Popen[bytes]) -> None:
    """Kill the child's process group (what it left behind too) and wait for the child."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def _parsed(out: bytes) -> dict[str, Any]:
    try:
        data = json.loads(out)
    except json.JSONDecodeError as exc:
        raise BenchError(f"unreadable output: {exc}") from None
    if not isinstance(data, dict):
        raise BenchError("output is not a JSON object")
    return data


def _last_line(err: bytes) -> str:
    lines = [line.strip() for line in err.decode(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else ""
