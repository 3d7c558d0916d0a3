"""The example third-party package, from pip install to a row in the table and a kit run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LabProcess, pip_install_target

from lab.testing import RunnerConformance

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "lab-loky"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example package pip-installed into a folder of its own (loky comes with dev)."""
    target = tmp_path_factory.mktemp("site")
    return pip_install_target(EXAMPLE, target)


def with_site(lab: LabProcess, site: Path) -> LabProcess:
    env = lab.env()
    env["PYTHONPATH"] = os.pathsep.join([str(site), env["PYTHONPATH"]])
    lab.env = lambda: env  # type: ignore[method-assign]
    return lab


def test_the_installed_plugin_is_listed(installed: Path, lab_process: LabProcess) -> None:
    result = with_site(lab_process, installed).run("plugins")
    assert result.returncode == 0, result.stderr
    [row] = [line for line in result.stdout.splitlines() if line.startswith("loky ")]
    assert row.split() == ["loky", "lab-loky", "0.1.0", "lab_register_runners", "loky"]


def test_the_installed_plugin_runs_in_the_matrix(installed: Path, lab_process: LabProcess) -> None:
    result = with_site(lab_process, installed).run(
        "matrix", "--runners", "loky", "--tasks", "io", "--sleep", "0.05", "--fast", "--jobs", "4",
        "--wide",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [row] = [line for line in result.stdout.splitlines() if line.startswith("loky ")]
    assert row.endswith(" ok") or "  unstable: " in row, row  # measured; noise may flag it
    assert lab_process.leftovers() == []


def test_the_plugin_passes_the_conformance_kit(installed: Path, lab_process: LabProcess) -> None:
    env = with_site(lab_process, installed).env()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
        capture_output=True, text=True, timeout=300, env=env, cwd=installed,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    checks = [name for name in dir(RunnerConformance) if name.startswith("test_")]
    assert f"{len(checks)} passed" in result.stdout, result.stdout
