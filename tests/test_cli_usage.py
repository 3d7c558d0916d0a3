"""Bad input: one line on stderr, exit 2, nothing started."""

from __future__ import annotations

import pytest

from lab.cli import main
from lab_plugins.tasks import CPU


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["matrix", "--workers", "0"], "workers must be at least 1, not '0'"),
        (["matrix", "--workers", "-1"], "workers must be a whole number or PxT"),
        (["matrix", "--workers", "1.5"], "workers must be a whole number or PxT"),
        (["matrix", "--workers", "ten"], "workers must be a whole number or PxT"),
        (["matrix", "--workers", "2x0"], "workers must be at least 1"),
        (["matrix", "--workers", "1000000"], "above the soft limit of"),
        (["matrix", "--runners", "threads", "--workers", "5000"], "5,000 threads, above the soft"),
        (["matrix", "--jobs", "0"], "jobs must be at least 1"),
        (["matrix", "--jobs", ""], "jobs must be a whole number, not ''"),
        (["matrix", "--timeout", ""], "timeout must be a number of seconds, not ''"),
        (["matrix", "--tasks", ""], "--tasks must name at least one, not ''"),
        (["matrix", "--tasks", ",,"], "--tasks must name at least one, not ',,'"),
        (["matrix", "--runners", ""], "--runners must name at least one, not ''"),
        (["matrix", "--runners", "threads,,"], "--runners has an empty item: 'threads,,'"),
        (["matrix", "--workers", ""], "--workers must name at least one, not ''"),
        (["matrix", "--tasks", "cpu,io,cpu"], "--tasks gives 'cpu' twice: 'cpu,io,cpu'"),
        (["matrix", "--runners", "threads,threads"], "--runners gives 'threads' twice"),
        (["matrix", "--workers", "2,02"], "--workers gives '2' and '02' twice: '2,02'"),
        (["matrix", "--workers", "2x1,2x01"], "--workers gives '2x1' and '2x01' twice"),
        (["run", "lab_own_work:count", "10", "--workers", "1,1"], "--workers gives '1' twice"),
        (["sweep", "--task", "cpu"], "task 'cpu' is cpu-bound: pass --allow-large"),
        (["sweep", "--task", "echo"], "task 'echo' is transfer-bound: pass --allow-large"),
        (["matrix", "--jobs", "many"], "jobs must be a whole number"),
        (["matrix", "--jobs", "4,,16"], "jobs must be a whole number, not ''"),
        (["matrix", "--jobs", "4,04"], "--jobs gives '4' and '04' twice: '4,04'"),
        (["matrix", "--jobs", "4,1000000"], "above the soft limit of 100,000"),
        (["matrix", "--jobs", "1000000"], "above the soft limit of 100,000"),
        (["matrix", "--repeat", "0"], "repeat must be at least 1"),
        (["matrix", "--timeout", "-3"], "timeout must be greater than 0"),
        (["matrix", "--count", "1e15"], "cpu count 1e15 is above the limit of 10,000,000,000"),
        (["matrix", "--count", "1.5"], "cpu count must be a whole number"),
        (["matrix", "--count", "-5"], "cpu count must be greater than 0"),
        (["matrix", "--sleep", "nan"], "--sleep: io seconds must be a number, not 'nan'"),
        (["matrix", "--sleep", "soon"], "io seconds must be a number"),
        (
            ["matrix", "--runners", "thread"],
            "unknown runner 'thread'; valid runners: anyio-asyncio",
        ),
        (["matrix", "--tasks", "gpu"], "unknown task 'gpu'; valid tasks: alloc, cpu, echo,"),
        (["matrix", "--size", "gpu=3"], "unknown task 'gpu'"),
        (["matrix", "--size", "cpu"], "--size takes TASK=SIZE"),
        (["matrix", "--profile", "slow"], "unknown profile 'slow'; valid profiles: quick, seed"),
        (["matrix", "--tablefmt", "fancy"], "unknown table format 'fancy'; valid formats:"),
        (["matrix", "--start-method", "clone"], "unknown start method 'clone'"),
        (["matrix", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["destroy"], "invalid choice: 'destroy'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("lab: error: ")
    assert message in captured.err
    assert captured.err.count("\n") == 1


def test_allow_large_lifts_the_soft_limits(capsys: pytest.CaptureFixture[str]) -> None:
    # Past the soft limits the later checks still run: here the table format stops it.
    args = ["matrix", "--workers", "5000", "--jobs", "200000", "--allow-large", "--tablefmt", "x"]
    assert main(args) == 2
    assert "unknown table format 'x'" in capsys.readouterr().err
    assert CPU.size.parse("1e15", task="cpu", allow_large=True) == 10**15


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", "--help"]) == 0
    assert "--workers" in capsys.readouterr().out


def test_list_shows_runners_and_tasks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("single", "threads", "processes", "threads-in-processes", "uvloop", "anyio-trio"):
        assert f"\n{name} " in out
    assert "CPU-bound countdown" in out


def test_version_names_the_lab(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("concurrency-lab ")
