"""The docs are true: every hook documented and tested, and the examples in the README and the
guide are the code that the tests run."""

from __future__ import annotations

import inspect
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def test_the_guide_shortest_plugin_installs_and_runs(tmp_path: Path) -> None:
    [setup] = [b for b in code_blocks(GUIDE, "ini") if "name = lab-thread-pool" in b]
    [module] = [b for b in code_blocks(GUIDE, "python") if "class ThreadPoolRunner" in b]
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


# The documentation as a whole: README.md and every page under docs/, built as a site by
# mkdocs (mkdocs.yml). Each fenced ``text`` sample is marked on the line before it, either
# ``<!-- excerpt: COMMAND -->`` (real output of COMMAND, trimmed; the command must still parse)
# or ``<!-- checked: TEST -->`` (TEST, in this module, compares its shape with today's output).

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
DOCUMENTS = [ROOT / "README.md", *PAGES]
SAMPLE = re.compile(
    r"^(?P<marker>[^\n]*)\n\n?(?P<indent> *)```text\n(?P<body>.*?)^(?P=indent)```$", re.M | re.S
)
MARKER = re.compile(r"^ *<!-- (excerpt|checked): (.+?) -->$")
#: Options the pages name that belong to other programs, with whose they are.
FOREIGN_OPTIONS = {
    "--disable-gil": "CPython's configure (make pythons)",
    "--disable-pip-version-check": "pip, in the set-up lines make echoes",
    "--strict": "mkdocs build (make docs)",
    "--benchmark-compare-fail": "pytest-benchmark",
    "--host": "dask scheduler",
    "--port": "dask scheduler",
    "--no-dashboard": "dask scheduler and dask worker",
    "--nworkers": "dask worker",
    "--nthreads": "dask worker",
    "--head": "ray start",
    "--num-cpus": "ray start",
    "--include-dashboard": "ray start",
    "--disable-usage-stats": "ray start",
    "--temp-dir": "ray start",
    "--force": "ray stop",
}


def ids(path: Path) -> str:
    return str(path.relative_to(ROOT))


def samples(text: str) -> list[tuple[str, str, str]]:
    """Each ``text`` sample of ``text``: its marker's kind (``excerpt``, ``checked`` or ``""``
    when it has none), the marker's command or test, and the sample's lines."""
    found = []
    for match in SAMPLE.finditer(text):
        marker = MARKER.match(match["marker"])
        kind, what = marker.groups() if marker else ("", match["marker"])
        body = "\n".join(line[len(match["indent"]) :] for line in match["body"].splitlines())
        found.append((kind, what, body))
    assert len(found) == text.count("```text\n"), "a text sample the pattern did not read"
    return found


def checked_sample(path: Path, test: str) -> str:
    """The sample of ``path`` marked ``<!-- checked: TEST -->``."""
    [body] = [
        body for kind, what, body in samples(path.read_text()) if (kind, what) == ("checked", test)
    ]
    return body


def lab_parser() -> Any:
    from lab.cli import build_parser

    return build_parser()


def lab_commands() -> dict[str, Any]:
    return lab_parser()._subparsers._group_actions[0].choices  # type: ignore[no-any-return]


def options_of(parser: Any) -> set[str]:
    return {o for action in parser._actions for o in action.option_strings}


def nav_pages() -> list[str]:
    return re.findall(r"^ +- [^:\n]+: (\S+\.md)$", (ROOT / "mkdocs.yml").read_text(), re.M)


def test_every_page_is_in_the_nav_once_and_every_entry_is_a_page() -> None:
    assert sorted(nav_pages()) == sorted(p.name for p in PAGES)


def anchors(text: str) -> set[str]:
    """The anchors of a page's headings, as GitHub and as mkdocs make them."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    found = set()
    for heading in re.findall(r"^#+ (.+)$", text, re.M):
        plain = re.sub(r"[^\w\- ]", "", heading.lower())
        found |= {plain.replace(" ", "-"), re.sub(r"[-\s]+", "-", plain.strip())}
    return found


@pytest.mark.parametrize("path", DOCUMENTS, ids=ids)
def test_every_relative_link_resolves(path: Path) -> None:
    text = re.sub(r"^ *```.*?^ *```", "", path.read_text(), flags=re.M | re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        assert linked.exists(), f"{ids(path)}: {target}"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked.read_text()), f"{ids(path)}: {target}"


def test_the_readme_links_every_page_and_the_three_first_questions() -> None:
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)(?:#[\w-]+)?\)", README))
    assert linked == {p.name for p in PAGES}
    start = README.split("**Start here**")[1].split("\n## ")[0]
    for page in ("getting-started.md", "own-work.md", "io.md#"):
        assert f"(docs/{page}" in start


def test_the_readme_is_short() -> None:
    assert len(README.splitlines()) <= 250


@pytest.mark.parametrize("path", DOCUMENTS, ids=ids)
def test_every_option_a_page_names_exists(path: Path) -> None:
    """Every ``--option`` is one of a ``lab`` command's, the bench's or another program's
    that :data:`FOREIGN_OPTIONS` names."""
    bench = {
        option
        for source in (ROOT / "bench").glob("*.py")
        for option in re.findall(r"add_argument\(\s*\"(--[\w-]+)\"", source.read_text())
    }
    known = options_of(lab_parser()) | bench | set(FOREIGN_OPTIONS)
    for command in lab_commands().values():
        known |= options_of(command)
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*[a-z])", path.read_text()))
    assert named - known == set()


@pytest.mark.parametrize("path", DOCUMENTS, ids=ids)
def test_every_text_sample_is_an_excerpt_or_checked(path: Path) -> None:
    """An excerpt names the command that printed it, which must still be a valid one (``lab``
    parses it; a ``make`` target exists; a script is there); a checked sample names the test
    that compares it with today's output."""
    makefile = (ROOT / "Makefile").read_text()
    for kind, what, body in samples(path.read_text()):
        assert kind, f"{ids(path)}: a text sample not marked excerpt or checked: {body[:80]!r}"
        if kind == "checked":
            assert what.startswith("test_") and callable(globals().get(what)), what
            continue
        if body.startswith("$ "):
            assert body.splitlines()[0] == f"$ {what}", (what, body.splitlines()[0])
        words = shlex.split(what)
        if words[0] in ("lab", ".venv/bin/lab"):
            lab_parser().parse_args(words[1:])  # exits 2, failing the test, if it does not parse
        elif words[0] == "make":
            assert re.search(rf"^{words[1]}:", makefile, re.M), what
        elif words[:3] == ["python", "-m", "bench"]:
            assert (ROOT / "bench" / f"{words[3]}.py").is_file(), what
        else:
            assert words[0] == ".venv/bin/python" and (ROOT / words[1]).is_file(), what


def sample_shape(text: str) -> dict[str, Any]:
    """What a matrix's printout is made of, without its figures: each table's header (the
    line above a line of dashes), the runners of its rows and of its ``n/a on`` lines, and the
    verdict's questions (its first column)."""
    lines = text.splitlines()
    tables: dict[str, Any] = {}
    task = ""
    for number, line in enumerate(lines):
        if re.match(r"^[\w-]+: [A-Z]", line) and number + 1 < len(lines):
            task = line.split(":")[0]
        if number + 1 < len(lines) and re.fullmatch(r"-+( +-+)+", lines[number + 1]):
            width = len(lines[number + 1].split()[0])
            rows, index = [], number + 2
            while index < len(lines) and lines[index].strip():
                if lines[index].startswith(("[", "n/a on ", "...")):
                    break  # the table's notes, or the end of an excerpt
                rows.append(lines[index][:width].strip())
                index += 1
            tables[task if line.startswith("runner ") else line[:width].strip()] = {
                "header": line.split(),
                "rows": [row for row in rows if row],
            }
    for line in lines:
        if line.startswith("n/a on "):
            tables.setdefault("n/a", set()).update(line[7:].split(":")[0].split(", "))
    return tables


def test_the_readme_matrix_sample_has_todays_shape(tmp_path: Path) -> None:
    """The README's ``make matrix`` sample (the cpu table and the verdict) has today's columns,
    runners and verdict questions: a quick matrix on the same tasks prints the same shape."""
    sample = sample_shape(
        checked_sample(ROOT / "README.md", "test_the_readme_matrix_sample_has_todays_shape")
    )
    result = LabProcess(tmp_path).run(
        "matrix", "--fast", "--tasks", "cpu,io", "--workers", "2", "--count", "2000000",
        "--sleep", "0.02", timeout=600,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr  # 1: a cell failed on a busy machine
    today = sample_shape(result.stdout)
    assert sample["cpu"]["header"] == today["cpu"]["header"]
    runners = set(today["cpu"]["rows"]) | today.get("n/a", set())
    assert set(sample["cpu"]["rows"]) | sample.get("n/a", set()) == runners
    verdict = "threads or processes?"
    assert sample[verdict]["header"] == today[verdict]["header"]
    if result.returncode == 0:
        assert sample[verdict]["rows"] == today[verdict]["rows"]
    else:  # a question whose cells failed on a busy machine has no evidence and no row
        rows = iter(sample[verdict]["rows"])
        assert all(row in rows for row in today[verdict]["rows"]), result.stdout


def test_the_readme_run_sample_has_todays_shape(tmp_path: Path) -> None:
    """The README's ``lab run`` sample: the verdict's title and questions are today's."""
    sample = checked_sample(ROOT / "README.md", "test_the_readme_run_sample_has_todays_shape")
    target = str(ROOT / "examples" / "own-work" / "work.py") + ":parse"
    result = LabProcess(tmp_path).run(
        "run", target, "2000", "--runners", "single,threads", "--workers", "1", "--repeat", "1",
        timeout=600,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    today = sample_shape(result.stdout)
    title = re.compile(r"^the verdict on .*:parse:$", re.M)
    assert title.search(sample) and title.search(result.stdout)
    shown = sample_shape(sample)["which way?"]
    assert shown["header"] == today["which way?"]["header"]
    assert shown["rows"] == today["which way?"]["rows"][: len(shown["rows"])]
    assert len(shown["rows"]) >= 2


def sweep_line_shape(line: str) -> str:
    """A sweep's finding without its figures and runners."""
    line = re.sub(r"(?<=: )[\w-]+(?= \()|(?<= on )[\w-]+", "R", line)
    return re.sub(r"\d[\d.,]*", "N", line)


def test_the_readme_sweep_sample_has_todays_shape(tmp_path: Path) -> None:
    """The README's ``lab sweep`` sample: the findings a sweep prints under its table read as
    today's (which runner served best; where threads stopped keeping up, or that they kept up,
    whichever this quick sweep found)."""
    sample = checked_sample(ROOT / "README.md", "test_the_readme_sweep_sample_has_todays_shape")
    command, *findings = sample.splitlines()
    assert command.startswith("$ lab sweep ")
    lab_parser().parse_args(shlex.split(command)[2:])
    result = LabProcess(tmp_path).run(
        "sweep", "--levels", "1,100", "--runners", "asyncio,threads", "--repeat", "1",
        "--size", "0.02", timeout=600,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    today = {sweep_line_shape(line) for line in result.stdout.splitlines()}
    served, keeping_up = (sweep_line_shape(line) for line in findings)
    assert served in today
    kept = "threads kept up with the event loops to N waiting jobs"
    assert keeping_up in today or kept in today, (keeping_up, today)


def synopsis_commands(text: str) -> dict[str, set[str]]:
    """Each command a synopsis shows (``lab matrix``, ``lab --version``) and its options."""
    shown: dict[str, set[str]] = {}
    command = ""
    for line in text.splitlines():
        if line.startswith("lab "):
            command = line.split()[1]
            shown.setdefault(command, set())
        shown[command] |= set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", line.split("#")[0]))
    return shown


@pytest.mark.parametrize("path", [ROOT / "README.md", DOCS / "getting-started.md"], ids=ids)
def test_the_synopsis_names_every_command_and_only_their_options(path: Path) -> None:
    shown = synopsis_commands(
        checked_sample(path, "test_the_synopsis_names_every_command_and_only_their_options")
    )
    commands = lab_commands()
    assert set(shown) - {"--version"} == set(commands)
    for name, options in shown.items():
        known = options_of(lab_parser()) if name == "--version" else options_of(commands[name])
        assert options - {name} <= known, (name, options - known)


def test_the_layout_drawing_lists_the_layers() -> None:
    """docs/layout.md draws the layers tests/test_layers.py holds the code to, top down."""
    from test_layers import LAYERS

    drawing = checked_sample(DOCS / "layout.md", "test_the_layout_drawing_lists_the_layers")
    drawn = re.findall(r"^(lab[\w.]*) ", drawing, re.M)
    assert len(drawn) == len(LAYERS)
    for module, layer in zip(drawn, LAYERS, strict=True):
        assert module in layer or any(module.startswith(p + ".") for p in layer), module


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    """``mkdocs build --strict``: a broken link, a page missing from the nav or any other
    warning fails it."""
    if shutil.which("mkdocs", path=str(Path(sys.executable).parent)) is None:
        print("mkdocs is not installed (pip install -e '.[docs]'): the site was not built")
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]')")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    assert (tmp_path / "site" / "index.html").is_file()
