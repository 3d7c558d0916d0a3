"""The example async runner package, from pip install to a row in the table and a kit run.

It is installed from a copy in a temporary folder, so that neither pip's build (``build/``,
``*.egg-info``) nor the kit's run leaves anything in the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LabProcess, pip_install_target
from test_docs import GUIDE, code_blocks

from lab.testing import RunnerConformance

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "lab-anyio-portal"
MODULE = EXAMPLE / "lab_anyio_portal" / "__init__.py"
SMALL_RUN = ("--tasks", "io", "--fast", "--sleep", "0.05", "--jobs", "4", "--workers", "2")


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example package, without anything a previous build left in it."""
    copy = tmp_path_factory.mktemp("source") / EXAMPLE.name
    leftovers = shutil.ignore_patterns("build", "*.egg-info", "__pycache__", ".pytest_cache")
    shutil.copytree(EXAMPLE, copy, ignore=leftovers)
    return copy


@pytest.fixture(scope="module")
def installed(package: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example package pip-installed into a folder of its own (anyio comes with the lab)."""
    return pip_install_target(package, tmp_path_factory.mktemp("site"))


def with_site(lab: LabProcess, site: Path) -> LabProcess:
    env = lab.env()
    env["PYTHONPATH"] = os.pathsep.join([str(site), env["PYTHONPATH"]])
    lab.env = lambda: env  # type: ignore[method-assign]
    return lab


def test_the_guide_shows_the_async_example_as_it_is() -> None:
    section = GUIDE[GUIDE.index("\n## An async runner\n") :]
    assert MODULE.read_text() in code_blocks(section, "python")
    assert (EXAMPLE / "setup.cfg").read_text() in code_blocks(section, "ini")


def test_the_installed_plugin_is_listed(installed: Path, lab_process: LabProcess) -> None:
    lab = with_site(lab_process, installed)
    result = lab.run("plugins", timeout=60)
    assert result.returncode == 0, result.stderr
    [row] = [line for line in result.stdout.splitlines() if line.startswith("anyio-portal ")]
    assert row.split() == [
        "anyio-portal", "lab-anyio-portal", "0.1.0", "lab_register_runners", "anyio-portal"
    ]  # fmt: skip
    lab.env()["COLUMNS"] = "250"  # wide enough that no cell of `lab list` wraps
    result = lab.run("list", timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    [at] = [i for i, line in enumerate(lines) if line.startswith("anyio-portal ")]
    row = lines[at]
    assert row.split()[:2] == ["anyio-portal", "event-loop"], row
    assert row.split()[-1] == "yes", row  # available here
    block = " ".join(lines[at : at + 3])  # in case the table wraps a cell onto the next lines
    assert "(lab-anyio-portal" in block, block


def test_the_installed_plugin_runs_in_the_matrix(installed: Path, lab_process: LabProcess) -> None:
    result = with_site(lab_process, installed).run(
        "matrix", "--runners", "anyio-portal", *SMALL_RUN, "--wide", timeout=120
    )
    assert result.returncode == 0, result.stderr
    [row] = [line for line in result.stdout.splitlines() if line.startswith("anyio-portal ")]
    assert row.endswith(" ok") or "  unstable: " in row, row  # measured; noise may flag it
    assert lab_process.leftovers() == []


def test_the_plugin_passes_the_conformance_kit(
    package: Path, installed: Path, lab_process: LabProcess
) -> None:
    env = with_site(lab_process, installed).env()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package / "tests")],
        capture_output=True, text=True, timeout=300, env=env, cwd=installed,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    checks = [name for name in dir(RunnerConformance) if name.startswith("test_")]
    assert f"{len(checks)} passed" in result.stdout, result.stdout
