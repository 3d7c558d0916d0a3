"""The docs are true: every hook documented and tested, and the examples in the README and the
guide are the code that the tests run."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from conftest import FAULTS_DOC as FAULTS
from conftest import LabProcess, fault_tests, pip_install_target

from lab import hookspecs
from lab_plugins import http_task

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "plugins.md").read_text()
README = (ROOT / "README.md").read_text()
EXAMPLE = ROOT / "examples" / "lab-loky"
HOOKS = [
    name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("lab_")
]


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_there_are_hooks() -> None:
    assert HOOKS == ["lab_register_runners", "lab_register_tasks"]


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_has_a_docstring(name: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    summary, _, rest = doc.partition("\n\n")
    assert summary and "\n" not in summary
    assert "Called " in rest
    for parameter in inspect.signature(getattr(hookspecs, name)).parameters:
        assert f":param {parameter}:" in rest
    assert ":returns:" in rest


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_has_a_guide_section_with_its_exact_signature(name: str) -> None:
    signature = str(inspect.signature(getattr(hookspecs, name))).replace("'", "")
    assert f"\n### `{name}{signature}`\n" in GUIDE


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_has_a_test(name: str) -> None:
    """``test_plugin_host.test_hook_NAME`` registers a plugin implementing only that hook."""
    import test_plugin_host

    test = getattr(test_plugin_host, f"test_hook_{name}", None)
    assert callable(test), f"no test_hook_{name} in test_plugin_host.py"
    assert f"def {name}(" in inspect.getsource(test)


def test_the_guide_shows_the_example_package_as_it_is() -> None:
    assert (EXAMPLE / "lab_loky" / "__init__.py").read_text() in code_blocks(GUIDE, "python")
    assert (EXAMPLE / "setup.cfg").read_text() in code_blocks(GUIDE, "ini")
    assert (EXAMPLE / "tests" / "test_conformance.py").read_text() in code_blocks(GUIDE, "python")


def test_the_guide_shows_a_timed_job_as_it_is() -> None:
    assert inspect.getsource(http_task.sync_get) in code_blocks(GUIDE, "python")


def test_the_readme_links_the_guide() -> None:
    assert "(docs/plugins.md)" in README


def install(files: dict[str, str], folder: Path) -> Path:
    """Write a package from ``files`` and pip-install it into a folder of its own."""
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    target = folder / "site"
    return pip_install_target(folder, target)


def test_the_readme_example_plugin_installs_and_runs(tmp_path: Path) -> None:
    [setup] = code_blocks(README, "ini")
    [module] = [b for b in code_blocks(README, "python") if "lab_register_runners" in b]
    site = install(
        {
            "setup.cfg": setup,
            "pyproject.toml": '[build-system]\nrequires = ["setuptools>=69"]\n'
            'build-backend = "setuptools.build_meta"\n',
            "lab_thread_pool/__init__.py": module,
        },
        tmp_path / "package",
    )
    lab = LabProcess(tmp_path / "run")
    env = lab.env()
    env["PYTHONPATH"] = f"{site}:{env['PYTHONPATH']}"
    lab.env = lambda: env  # type: ignore[method-assign]
    result = lab.run(
        "matrix", "--runners", "mp-thread-pool", "--tasks", "io", "--sleep", "0.05", "--fast",
        "--wide",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [row] = [line for line in result.stdout.splitlines() if line.startswith("mp-thread-pool ")]
    assert row.endswith(" ok") or "  unstable: " in row, row  # measured; noise may flag it


def test_the_guide_task_example_runs(tmp_path: Path) -> None:
    section = GUIDE[GUIDE.index("### `lab_register_tasks") :]
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "sha_task.py").write_text("import lab\n\n" + code_blocks(section, "python")[0])
    lab = LabProcess(tmp_path / "run")
    env = lab.env()
    env["PYTHONPATH"] = f"{modules}:{env['PYTHONPATH']}"
    lab.env = lambda: env  # type: ignore[method-assign]
    result = lab.run(
        "matrix", "-p", "sha_task", "--tasks", "sha256", "--runners", "threads",
        "--size", "sha256=1000000", "--fast",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "sha256: hash a buffer with hashlib" in result.stdout


def test_every_fault_in_the_docs_names_tests_that_exist() -> None:
    """docs/faults.md is the fault suite's index: each test it names is defined (in the suite
    or in the conformance kit), and each numbered row of the fault list has one."""
    defined = {
        name
        for path in [*ROOT.glob("tests/**/*.py"), ROOT / "lab" / "testing.py"]
        for name in re.findall(r"def (test_\w+)\(", path.read_text())
    }
    assert fault_tests() - defined == set()
    rows = re.findall(r"^\| (\d+) \|.*\| (`test_.*`) \|$", FAULTS.read_text(), re.M)
    assert [int(number) for number, _ in rows] == list(range(1, len(rows) + 1))
    assert len(rows) >= 25


OWN_WORK = (ROOT / "docs" / "own-work.md").read_text()


def test_the_readme_links_the_own_work_page() -> None:
    assert "(docs/own-work.md)" in README


def test_the_own_work_page_names_only_options_lab_run_has() -> None:
    from lab.cli import build_parser

    run = build_parser()._subparsers._group_actions[0].choices["run"]  # type: ignore[union-attr]
    known = {o for action in run._actions for o in action.option_strings}
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", OWN_WORK))
    assert named and named <= known, named - known


def test_the_own_work_page_explains_every_line_of_the_verdict() -> None:
    from lab.report.own_verdict import FASTEST, RUNNER_UP, START_UP, WHAT

    section = OWN_WORK.split("## The verdict\n")[1].split("\n## ")[0]
    explained = re.findall(r"^\| ([a-z -]+) \|", section, re.M)
    assert explained[1:] == [WHAT, FASTEST, RUNNER_UP, START_UP]  # under the header's row
