"""The lab installs and runs on every Python 3.11+ this machine has (skipped where absent),
the free-threaded build that ``make pythons`` makes included."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MINORS = (11, 12, 13)
#: Where ``make pythons`` builds CPython (its PYTHONS variable).
BUILT = Path(os.environ.get("PYTHONS", Path.home() / ".cache" / "concurrency-lab" / "pythons"))


def built_free_threaded() -> str | None:
    """A free-threaded CPython that ``make pythons`` built, if there is one."""
    found = sorted(BUILT.glob("3.*t/bin/python3"))
    return str(found[-1]) if found else None


#: The checkout's top-level folders a build of the lab does not need.
NOT_BUILT = {"build", "dist", "results", "site", "docs", "tests"}


def source_copy(folder: Path) -> Path:
    """A copy of the checkout's sources to build from: a build writes ``build/`` and
    ``*.egg-info`` beside them, which must not happen in the checkout while other tests run
    the lab from it."""

    def left_out(where: str, names: list[str]) -> set[str]:
        top = NOT_BUILT if Path(where) == ROOT else set()
        leftover = {n for n in names if n.endswith(".egg-info") or n == "__pycache__"}
        return {n for n in names if n in top or n.startswith(".")} | leftover

    return Path(shutil.copytree(ROOT, folder / "source", ignore=left_out))


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


#: How the one failure that scheduling alone may cause begins (lab/run/validate.py).
SCHEDULING_FAILURE = "used at most "


@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    "version", [f"3.{m}" for m in MINORS if m != sys.version_info[1]] + ["3.13t"]
)
def test_installs_and_runs_a_tiny_matrix(version: str, tmp_path: Path) -> None:
    free_threaded = version.endswith("t")
    python = built_free_threaded() if free_threaded else find_python(int(version[2:]))
    if python is None:
        where = "make pythons builds one" if free_threaded else "pyenv or PATH"
        pytest.skip(f"no Python {version} on this machine ({where})")
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run(
        [*pip, "--disable-pip-version-check", f"{source_copy(tmp_path)}[trio,interpreters]"],
        check=True,
        timeout=600,  # uvloop has no free-threaded wheel: it builds from source there
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
            "--json",
            "run.json",
            "--wide",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        start_new_session=True,
        env={**os.environ, "LAB_LOCK": str(tmp_path / "lab.lock")},
    )
    saved = json.loads((tmp_path / "run.json").read_text())
    # Whether a pool's jobs ran at once depends on the scheduler: on a busy machine a cell may
    # fail that check (and the run exit 1); any other failure is the interpreter's.
    failures = [c["failure"]["detail"] for c in saved["cells"] if c["failure"]]
    assert all(f.startswith(SCHEDULING_FAILURE) for f in failures), failures
    assert result.returncode == (1 if failures else 0), result.stderr
    assert f"CPython {version.rstrip('t')}." in result.stdout
    ran = [c for c in saved["cells"] if c["samples"] or c["failure"]]
    # 5 runners on cpu, 9 on io, and interpreters on both from 3.13
    assert len(ran) == (16 if int(version[2:4]) >= 13 else 14), result.stdout
    states = {s["gil_enabled"] for c in saved["cells"] for s in c["samples"]}
    if free_threaded:
        assert "(free-threaded " in result.stdout and " · GIL off · " in result.stdout
        assert states == {False}  # measured in every cell's workers
    else:
        assert " · GIL on · " in result.stdout
        assert states == {True}
