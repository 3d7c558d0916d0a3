"""The house as docs/layout.md draws it: every import inside the lab runs from a
layer to its own or a lower one, never back up."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LAB = Path(__file__).resolve().parent.parent / "lab"
#: From the top down, as docs/layout.md draws them; a module belongs to the first
#: layer with a prefix of its name. The last is the plugin contract and what it stands on.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("lab.__main__", "lab.cli", "lab.api"),
    ("lab.plan", "lab.testing"),
    ("lab.run", "lab.report"),
    ("lab.results", "lab.worker", "lab.own"),
    ("lab.boundary",),
    ("lab.host",),
    ("lab",),
)


#: The one import back up, pinned: ``lab`` hands out ``lab.measure`` from ``lab.api`` when it
#: is first asked for (and mypy reads it under ``TYPE_CHECKING``), never when a plugin or a
#: worker imports ``lab``.
DEFERRED = {"lab": ("lab.api",)}


def layer_of(module: str) -> int:
    """The layer ``module`` belongs to (0 the top)."""
    for number, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return number
    raise ValueError(module)


def module_name(path: Path) -> str:
    parts = path.relative_to(LAB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> list[str]:
    """The lab modules ``path`` imports, type-only imports among them."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [node.module]
    return [m for m in found if m == "lab" or m.startswith("lab.")]


def upward(path: Path) -> list[str]:
    """The imports of ``path`` that run back up a layer."""
    name = module_name(path)
    own, deferred = layer_of(name), DEFERRED.get(name, ())
    return [m for m in imported(path) if layer_of(m) < own and m not in deferred]


@pytest.mark.parametrize("path", sorted(LAB.rglob("*.py")), ids=lambda p: module_name(p))
def test_no_import_runs_back_up(path: Path) -> None:
    assert upward(path) == []


def test_the_deferred_imports_are_not_made_when_the_module_is() -> None:
    """Each import :data:`DEFERRED` allows runs in a function or only for the type checker."""
    for name, modules in DEFERRED.items():
        path = LAB / Path(*name.split(".")[1:]) / "__init__.py"
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
                node.body = []  # only the type checker imports these
        made = imported_at_import_time(tree)
        assert not set(made) & set(modules), (name, made)


def imported_at_import_time(tree: ast.Module) -> list[str]:
    """The modules ``tree``'s own statements import, not those in its functions' bodies."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names]
    return found


def test_an_import_back_up_is_found(tmp_path: Path) -> None:
    folder = tmp_path / "lab" / "results"
    folder.mkdir(parents=True)
    (folder / "x.py").write_text("from lab.run.rounds import Rounds\nfrom lab.jobs import Job\n")
    assert layer_of("lab.results.x") == 3
    assert [m for m in imported(folder / "x.py") if layer_of(m) < 3] == ["lab.run.rounds"]


def test_every_package_of_the_lab_is_installed() -> None:
    """setup.cfg lists its packages one by one: a new folder left out of it installs a lab
    that cannot start outside a checkout."""
    import configparser

    config = configparser.ConfigParser()
    config.read(LAB.parent / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    found = {module_name(init) for init in LAB.rglob("__init__.py")}
    assert found <= listed, sorted(found - listed)
