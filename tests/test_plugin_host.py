"""The plugin host: loading order, blocking, broken and misbehaving plugins, duplicates."""

from __future__ import annotations

import importlib.metadata
import itertools
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import lab
from lab.cli import main
from lab.distributions import installed, normalized, plugin_entry_points
from lab.errors import PluginError
from lab.host.manager import AUTOLOAD_ENV, TRACE_ENV, PluginSelection, get_plugin_manager
from lab.host.registry import load_catalog
from lab.results.analysis import analyse
from lab.results.journal import load
from lab.results.status import MEASURED
from lab.runner import Layout, RunContext, Runner, Workers
from lab.sessions import InlineSession
from lab.testing import RunnerConformance

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

BUILTIN_PLUGINS = {
    "ray",
    "tasks",
    "sharing",
    "interpreters",
    "dask",
    "single",
    "threads",
    "thread-per-job",
    "tcp",
    "http",
    "http-classic",
    "files",
    "processes",
    "threads-in-processes",
    "asyncio",
    "anyio",
}


class FakeDistribution(importlib.metadata.Distribution):
    """An installed distribution that exists only in memory, declaring ``lab`` entry points."""

    def __init__(self, name: str, entry_points: dict[str, str]) -> None:
        self.dist_name = name
        self.points = entry_points

    def read_text(self, filename: str) -> str | None:
        if filename == "METADATA":
            return f"Metadata-Version: 2.1\nName: {self.dist_name}\nVersion: 1.2.3\n"
        if filename == "entry_points.txt":
            lines = [f"{name} = {target}" for name, target in self.points.items()]
            return "[lab]\n" + "\n".join(lines) + "\n"
        return None

    def locate_file(self, path: str | object) -> Path:
        return Path(str(path))


@pytest.fixture
def install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[str, str, str], None]:
    """Install a fake distribution whose one plugin module has the given source."""
    monkeypatch.syspath_prepend(str(tmp_path))
    fakes: list[FakeDistribution] = []
    real = importlib.metadata.distributions

    def distributions(**kw: str) -> Iterator[importlib.metadata.Distribution]:
        wanted = normalized(kw.get("name", ""))
        named = [f for f in fakes if not wanted or normalized(f.dist_name) == wanted]
        return itertools.chain(real(**kw), named)

    monkeypatch.setattr(importlib.metadata, "distributions", distributions)

    def add(dist: str, plugin: str, source: str) -> None:
        module = f"fake_{plugin.replace('-', '_')}_{len(fakes)}"
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
        fakes.append(FakeDistribution(dist, {plugin: module}))

    return add


RUNNER_SOURCE = """
    from lab import InlineSession, Layout, Runner, hookimpl

    class Extra(Runner):
        name = "{name}"
        description = "an extra runner"
        def layout(self, workers):
            return Layout()
        def start(self, layout, context):
            return InlineSession()

    @hookimpl
    def lab_register_runners(register):
        register(Extra())
"""


def test_builtins_come_through_entry_points() -> None:
    pm, report = get_plugin_manager()
    builtins = {
        name
        for name, dist in report.distributions.items()
        if dist.startswith("concurrency-lab ") and pm.has_plugin(name)
    }
    assert builtins == BUILTIN_PLUGINS
    assert report.warnings == []
    assert report.distributions["threads"].startswith("concurrency-lab ")


def test_builtins_are_installed_as_lab_plugins_not_plugins(tmp_path: Path) -> None:
    """The built-in plugins must not claim the generic top-level name ``plugins``."""
    script = (
        "import importlib.util, lab_plugins;"
        "print(importlib.util.find_spec('plugins') is None, lab_plugins.__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.split() == ["True", "lab_plugins"], out.stderr
    for entry_point in importlib.metadata.entry_points(group="lab"):
        if entry_point.name in BUILTIN_PLUGINS:
            assert entry_point.value.startswith("lab_plugins.")


@pytest.mark.parametrize(
    ("named", "entry_points", "warned"),
    [
        (True, None, ""),
        (True, "[lab]\nleftover = no_such_module_lab\n", ""),
        (True, "[lab]\nthreads = lab_plugins.thr\n[la", "cannot be read"),
        (False, "[lab]\nleftover = no_such_module_lab\n", ""),
    ],
    ids=["half-written", "stale", "truncated", "nameless"],
)
def test_a_builds_leftover_metadata_in_the_folder_does_not_stand_for_the_installed_lab(
    tmp_path: Path, named: bool, entry_points: str | None, warned: str
) -> None:
    """``pip install .`` leaves ``concurrency_lab.egg-info`` in the checkout, and
    ``python -m lab`` puts the current folder first on the path (and on its workers' path):
    the plugins are still the installed distribution's, while a build writes that folder and
    after it; entry points that cannot be read are a warning naming where they are."""
    leftover = tmp_path / "concurrency_lab.egg-info"
    leftover.mkdir()
    if named:
        (leftover / "PKG-INFO").write_text(
            "Metadata-Version: 2.1\nName: concurrency-lab\nVersion: 0.0.0\n"
        )
    if entry_points is not None:
        (leftover / "entry_points.txt").write_text(entry_points)
    out = subprocess.run(
        [sys.executable, "-m", "lab", "matrix", "--tasks", "io", "--runners", "threads",
         "--fast", "--jobs", "1", "--workers", "1", "--sleep", "0.01", "--json", "r.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    warnings = [line for line in out.stderr.splitlines() if "warning" in line]
    assert all(warned and warned in w and "concurrency_lab.egg-info" in w for w in warnings)
    assert bool(warnings) == bool(warned), out.stderr
    assert "concurrency-lab 0.0.0" not in out.stdout  # the header's version: the installed one
    cells = analyse(load(tmp_path / "r.json")).cells
    assert {(a.cell.runner, a.status.kind in MEASURED) for a in cells} == {
        ("single", True),
        ("threads", True),
    }


def test_of_copies_no_installer_recorded_the_one_outside_the_current_folder_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plugin installed the old way (``setup.py develop``: metadata beside its sources, no
    ``RECORD``) and a stale build of it in the current folder, first on the path."""
    here, checkout = tmp_path / "here", tmp_path / "checkout"
    for folder, version, point in [(here, "0.0", "stale"), (checkout, "1.0", "mine")]:
        info = folder / "lab_mine.egg-info"
        info.mkdir(parents=True)
        (info / "PKG-INFO").write_text(
            f"Metadata-Version: 2.1\nName: lab-mine\nVersion: {version}\n"
        )
        (info / "entry_points.txt").write_text(f"[lab]\n{point} = lab_mine\n")
    monkeypatch.syspath_prepend(str(checkout))
    monkeypatch.syspath_prepend(str(here))
    monkeypatch.chdir(here)
    mine = [p for p in plugin_entry_points() if p.dist and p.dist.name == "lab-mine"]
    assert [(p.name, p.dist.version if p.dist else "") for p in mine] == [("mine", "1.0")]
    assert installed("lab-mine").version == "1.0"


def test_no_loading_at_import_time() -> None:
    code = "import sys, lab, lab.cli; print(any(m.startswith('lab_plugins') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_blocked_names_are_not_loaded() -> None:
    catalog, _, pm = load_catalog(PluginSelection.from_args(["no:threads", "no:anyio"]))
    assert not pm.has_plugin("threads")
    assert "threads" not in catalog.runners.items
    assert "anyio-trio" not in catalog.runners.items
    assert "processes" in catalog.runners.items


def test_autoload_off_skips_third_party_plugins_only(
    monkeypatch: pytest.MonkeyPatch,
    install: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Like pytest's variable, LAB_DISABLE_PLUGIN_AUTOLOAD stops third-party entry points: the
    built-in plugins load unless blocked, and ``-p`` modules load."""
    install("lab-extra", "extra", RUNNER_SOURCE.format(name="extra"))
    assert "extra" in load_catalog()[0].runners.items
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    catalog, _, pm = load_catalog(PluginSelection.from_args(["no:threads", "lab_shadow_threads"]))
    assert not pm.has_plugin("extra") and "extra" not in catalog.runners.items
    assert {name for name, _ in pm.list_name_plugin()} >= BUILTIN_PLUGINS - {"threads"}
    assert catalog.runners.get("threads").description.startswith("threads, from a plugin")
    assert load_catalog(PluginSelection(autoload=False))[0].runners.names() == (
        load_catalog(PluginSelection(autoload=True, blocked=("extra",)))[0].runners.names()
    )
    assert main(["list"]) == 0
    runners = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert "processes" in runners and "extra" not in runners


def test_an_inline_plugin_registers_a_runner() -> None:
    class Inline(Runner):
        name = "inline-test"
        description = "inline"

        def layout(self, workers: Workers) -> Layout:
            return Layout()

        def start(self, layout: Layout, context: RunContext) -> InlineSession:
            return InlineSession()

    class Plugin:
        @lab.hookimpl
        def lab_register_runners(self, register: Callable[[Runner], None]) -> None:
            register(Inline())

    catalog, _, _ = load_catalog(plugins=[Plugin()])
    assert catalog.runners.owners["inline-test"].startswith("plugin ")
    assert "threads" in catalog.runners.items


def test_a_third_party_plugin_loads_with_its_distribution(install: Callable[..., None]) -> None:
    install("lab-extra", "extra", RUNNER_SOURCE.format(name="extra"))
    catalog, report, _ = load_catalog()
    assert "extra" in catalog.runners.items
    assert catalog.runners.owners["extra"] == "plugin 'extra' (lab-extra 1.2.3)"
    assert report.warnings == []


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("raise ImportError('needs numpy')", "ImportError: needs numpy"),
        ("def broken(:\n", "SyntaxError"),
        ("raise RuntimeError('boom')", "RuntimeError: boom"),
    ],
)
def test_a_plugin_that_fails_to_import_is_named_and_skipped(
    install: Callable[..., None], source: str, error: str
) -> None:
    install("lab-broken", "broken", source)
    catalog, report, _ = load_catalog()
    assert "threads" in catalog.runners.items
    [warning] = report.warnings
    assert warning.startswith("plugin 'broken' (lab-broken 1.2.3) failed to import: " + error)
    assert warning.endswith("skipped it")
    with pytest.raises(PluginError, match=r"plugin .broken. .lab-broken 1.2.3. failed to import"):
        load_catalog(PluginSelection(strict=True))


def test_a_misspelt_hook_is_named_and_the_plugin_not_half_registered(
    install: Callable[..., None],
) -> None:
    install(
        "lab-typo",
        "typo",
        RUNNER_SOURCE.format(name="typo").replace(
            "def lab_register_runners", "def lab_register_runner"
        )
        + "\n    @hookimpl\n    def lab_register_tasks(register):\n        pass\n",
    )
    _, report, pm = load_catalog()
    [warning] = report.warnings
    assert "plugin 'typo' (lab-typo 1.2.3) is invalid" in warning
    assert "lab_register_runner" in warning
    assert not pm.has_plugin("typo")
    assert all(impl.plugin_name != "typo" for impl in pm.hook.lab_register_tasks.get_hookimpls())
    with pytest.raises(PluginError, match="lab_register_runner"):
        load_catalog(PluginSelection(strict=True))


def test_a_hook_with_unknown_arguments_is_named(install: Callable[..., None]) -> None:
    install(
        "lab-args",
        "args",
        RUNNER_SOURCE.format(name="args").replace(
            "lab_register_runners(register)", "lab_register_runners(register, workers)"
        ),
    )
    catalog, report, pm = load_catalog()
    [warning] = report.warnings
    assert "plugin 'args' (lab-args 1.2.3) is invalid" in warning
    assert "workers" in warning
    assert not pm.has_plugin("args")
    assert "args" not in catalog.runners.items


def test_a_duplicate_runner_name_names_both_plugins(
    install: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The listings still work and show the conflict; a measuring command and any use of the
    name are one-line errors naming both plugins; blocking one plugin resolves it."""
    monkeypatch.setenv("COLUMNS", "400")  # the listings' text unwrapped
    install("lab-evil", "evil", RUNNER_SOURCE.format(name="threads"))
    catalog, _, _ = load_catalog()
    with pytest.raises(PluginError) as raised:
        catalog.runners.get("threads")
    message = str(raised.value)
    assert message.startswith("runner 'threads' is registered by both plugin 'threads'")
    assert "plugin 'threads' (concurrency-lab" in message
    assert "plugin 'evil' (lab-evil 1.2.3)" in message
    assert catalog.runners.get("processes").name == "processes"
    for command in (["list"], ["plugins"]):
        assert main(command) == 0
        out, err = capsys.readouterr()
        assert "plugin 'evil' (lab-evil 1.2.3)" in out and f"lab: warning: {message}\n" in err
    assert "no: registered by two plugins" in (main(["list"]), capsys.readouterr().out)[1]
    for command in (["matrix", "--runners", "processes"], ["sweep"]):
        assert main(command) == 2
        assert capsys.readouterr().err == f"lab: error: {message}\n"
    catalog, _, _ = load_catalog(PluginSelection.from_args(["no:evil"]))
    assert catalog.conflicts() == []
    assert catalog.runners.get("threads").description != "an extra runner"


def test_the_kit_can_block_a_plugin_that_conflicts(install: Callable[..., None]) -> None:
    install("lab-evil", "evil", RUNNER_SOURCE.format(name="threads"))

    class KitOfOther(RunnerConformance):
        runner = "processes"

    class KitOfThreads(RunnerConformance):
        runner = "threads"
        blocked = ("evil",)

    assert KitOfOther().catalog().runners.get("processes").name == "processes"
    assert KitOfThreads().catalog().runners.get("threads").description != "an extra runner"


def test_a_hook_that_raises_loses_what_it_registered(install: Callable[..., None]) -> None:
    install(
        "lab-half",
        "half",
        RUNNER_SOURCE.format(name="half").replace(
            "register(Extra())", "register(Extra())\n        raise KeyError('oops')"
        ),
    )
    catalog, report, _ = load_catalog()
    assert "half" not in catalog.runners.items
    assert report.warnings == [
        "plugin 'half' (lab-half 1.2.3) failed in lab_register_runners: KeyError: 'oops';"
        " skipped it"
    ]


@pytest.mark.parametrize("declared", ["0.5", "-0.001", "float('nan')", "'1 ms'"])
def test_a_runner_declaring_bookkeeping_past_the_bound_is_skipped_saying_why(
    install: Callable[..., None], declared: str
) -> None:
    """A runner may declare at most ``BOOKKEEPING_MAX`` of CPU a job for its own bookkeeping:
    more would let it hide work or report its jobs short."""
    source = RUNNER_SOURCE.format(name="greedy").replace(
        'description = "an extra runner"',
        f'description = "an extra runner"\n        bookkeeping_cpu = {declared}',
    )
    install("lab-greedy", "greedy", source)
    catalog, report, _ = load_catalog()
    assert "greedy" not in catalog.runners.items
    [warning] = report.warnings
    assert warning.startswith(
        "plugin 'greedy' (lab-greedy 1.2.3) failed in lab_register_runners: ValueError: runner"
        " 'greedy': bookkeeping_cpu must be seconds from 0 to 0.01, not "
    ), warning


def test_registering_the_wrong_type_is_an_error(install: Callable[..., None]) -> None:
    install(
        "lab-wrong",
        "wrong",
        "from lab import hookimpl\n@hookimpl\ndef lab_register_runners(register):\n"
        "    register('threads')\n",
    )
    with pytest.raises(PluginError, match=r"plugin .wrong. .* not a Runner"):
        load_catalog()


def test_hook_calls_can_be_traced(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(TRACE_ENV, "1")
    load_catalog()
    assert "lab_register_runners" in capsys.readouterr().err


class _Inline(Runner):
    name = "inline-by-hook"
    description = "registered by a plugin object"
    kind = "inline"

    def layout(self, workers: Workers) -> Layout:
        return Layout()

    def start(self, layout: Layout, context: RunContext) -> InlineSession:
        return InlineSession()


def test_hook_lab_register_runners() -> None:
    """A plugin implementing only this hook: its runner, and only it, is collected as its."""

    class Plugin:
        @lab.hookimpl
        def lab_register_runners(self, register: Callable[[Runner], None]) -> None:
            register(_Inline())

    catalog, report, _ = load_catalog(PluginSelection(autoload=False, builtins=False), [Plugin()])
    assert catalog.runners.names() == ["inline-by-hook"]
    assert catalog.tasks.names() == []
    assert report.warnings == []


def test_hook_lab_register_tasks() -> None:
    """A plugin implementing only this hook: its task, and only it, is collected as its."""
    task = lab.Task(
        name="by-hook",
        description="registered by a plugin object",
        bound="io",
        forms={"sync": print},
        size=lab.Size(name="seconds", kind=float, default=0.1, soft_limit=1.0),
    )

    class Plugin:
        @lab.hookimpl
        def lab_register_tasks(self, register: Callable[[lab.Task], None]) -> None:
            register(task)

    catalog, report, _ = load_catalog(PluginSelection(autoload=False, builtins=False), [Plugin()])
    assert catalog.tasks.items == {"by-hook": task}
    assert catalog.runners.names() == []
    assert report.warnings == []


def test_a_plugin_calling_sys_exit_at_import_is_a_failed_plugin(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from lab.cli import main

    assert main(["list", "-p", "lab_exit_plugin"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("lab: warning: plugin 'lab_exit_plugin' failed to import: SystemExit: 4")
    assert main(["list", "-p", "lab_exit_plugin", "--strict-plugins"]) == 2
    assert "SystemExit: 4" in capsys.readouterr().err


def test_the_console_script_finds_a_plugin_module_in_the_current_folder(tmp_path: Path) -> None:
    """``lab -p MODULE`` finds MODULE in the current folder, as ``python -m lab -p MODULE`` does
    (the console script's own folder comes first on its path, not the current one)."""
    (tmp_path / "my_own_tasks.py").write_text(
        textwrap.dedent(
            """
            import lab

            def work(n):
                return n

            @lab.hookimpl
            def lab_register_tasks(register):
                register(lab.Task(name="my-own", description="mine", bound="cpu",
                    forms={"sync": work},
                    size=lab.Size(name="n", kind=int, default=1, soft_limit=10)))
            """
        )
    )
    script = Path(sys.executable).parent / "lab"
    result = subprocess.run(
        [str(script), "list", "-p", "my_own_tasks"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "my-own" in result.stdout and "failed to import" not in result.stderr
