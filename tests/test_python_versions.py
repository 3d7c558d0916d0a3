"""The lab installs and runs on every Python 3.11+ this machine has (skipped where absent)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MINORS = (11, 12, 13)


def find_python(minor: int) -> str | None:
    """An interpreter for 3.<minor>: on PATH, or in pyenv's versions folder."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [shutil.which(f"python3.{minor}")]
    candidates += [str(p) for p in sorted(pyenv.glob(f"3.{minor}.*/bin/python3.{minor}"))]
    for candidate in filter(None, candidates):
        try:
            out = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info[1])"],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and out.stdout.strip() == str(minor):
            return candidate
    return None


@pytest.mark.parametrize("minor", [m for m in MINORS if m != sys.version_info[1]])
def test_installs_and_runs_a_tiny_matrix(minor: int, tmp_path: Path) -> None:
    python = find_python(minor)
    if python is None:
        pytest.skip(f"no Python 3.{minor} on this machine")
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run(
        [*pip, "--disable-pip-version-check", f"{ROOT}[trio]"],
        check=True,
        timeout=300,
        capture_output=True,
    )
    result = subprocess.run(
        [
            str(venv / "bin" / "lab"),
            "matrix",
            "--count",
            "1000000",
            "--sleep",
            "0.05",
            "--fast",
            "--tasks",
            "cpu,io",
            "--jobs",
            "2",
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        start_new_session=True,
        env={**os.environ, "LAB_LOCK": str(tmp_path / "lab.lock")},
    )
    assert result.returncode == 0, result.stderr
    assert f"CPython 3.{minor}." in result.stdout
    measured = re.findall(r"  (?:ok|unstable: .*)$", result.stdout, flags=re.MULTILINE)
    assert len(measured) == 14, result.stdout  # 5 runners on cpu, 9 on io; noise may flag some
