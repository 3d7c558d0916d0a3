"""The public contract a plugin imports, pinned: ``lab.__all__``, ``lab.pools.__all__`` and
``lab.testing.__all__``; every built-in plugin and example imports nothing else of the lab."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import lab

ROOT = Path(__file__).resolve().parent.parent
#: The modules a plugin may import from, each exactly its ``__all__``.
PUBLIC = ("lab", "lab.pools", "lab.testing")
PLUGIN_SOURCES = sorted([*ROOT.glob("plugins/*.py"), *ROOT.glob("examples/*/**/*.py")])


def private_imports(source: str) -> list[str]:
    """Every name ``source`` imports from the lab beyond its public contract."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if _is_lab(a.name) and a.name not in PUBLIC]
        elif isinstance(node, ast.ImportFrom) and node.module and _is_lab(node.module):
            if node.module not in PUBLIC:
                found += [f"{node.module}.{a.name}" for a in node.names]
                continue
            public = importlib.import_module(node.module).__all__
            found += [f"{node.module}.{a.name}" for a in node.names if a.name not in public]
    return found


def _is_lab(module: str) -> bool:
    return module == "lab" or module.startswith("lab.")


def test_the_lab_s_public_names_are_pinned() -> None:
    assert sorted(lab.__all__) == sorted([
        "EVENT_LOOP", "INLINE", "INTERPRETERS", "ISOLATIONS", "KINDS", "ONE_INTERPRETER",
        "OTHER", "OTHER_INTERPRETERS", "OTHER_PROCESSES", "PROCESSES", "PROCESSES_THREADS",
        "THREADS", "ExecutorSession", "InlineSession", "Job", "JobRecord", "Layout",
        "RunContext", "Runner", "Session", "Size", "Task", "Timed", "Workers", "clock",
        "describe_exception", "hookimpl",
    ])  # fmt: skip
    assert all(hasattr(lab, name) for name in lab.__all__)


def test_the_helper_modules_public_names_are_pinned() -> None:
    pools = importlib.import_module("lab.pools")
    testing = importlib.import_module("lab.testing")
    assert sorted(pools.__all__) == [
        "START_TIMEOUT", "check_picklable", "import_modules", "prepare_worker",
        "seconds_problem", "started_process_pool", "started_thread_pool", "warm_up_on_loop",
    ]  # fmt: skip
    assert testing.__all__ == ["RunnerConformance"]


@pytest.mark.parametrize("path", PLUGIN_SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_plugin_imports_only_the_public_contract(path: Path) -> None:
    assert private_imports(path.read_text()) == []


def test_a_private_import_is_found() -> None:
    source = (
        "import lab\nimport lab.run.rounds\nfrom lab import Task, hookspec\n"
        "from lab.timing import clock\nfrom lab.pools import started_thread_pool, _ready\n"
        "from lab_plugins.tasks import CPU\n"
    )
    assert private_imports(source) == [
        "lab.run.rounds", "lab.hookspec", "lab.timing.clock", "lab.pools._ready",
    ]  # fmt: skip


def test_the_guide_names_every_public_name() -> None:
    guide = (ROOT / "docs" / "plugins.md").read_text()
    section = guide.split("## The public contract", 1)[1].split("\n## ", 1)[0]
    named = [name for name in lab.__all__ if not name.isupper() and f"`{name}`" not in section]
    assert named == []
    assert all(f"`{module}`" in section for module in PUBLIC)
