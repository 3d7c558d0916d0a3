"""``lab sweep``: IO at rising concurrency, its limits, its table, files and plot."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import LabProcess
from hypothesis import given
from hypothesis import strategies as st

from lab.cli import main
from lab.errors import UsageError
from lab.jobs import JobRecord
from lab.plan.limits import descriptor_limit
from lab.plan.sweep import DEFAULT_LEVELS, SweepPlan, levels_for
from lab.records import Records
from lab.results.analysis import analyse, most_at_once, percentile
from lab.results.journal import load
from lab.results.model import Results
from lab.results.status import Kind
from lab_plugins.dask_runner import DaskRunner
from lab_plugins.http_task import HTTP
from lab_plugins.tasks import IO
from lab_plugins.threads import ThreadsRunner

RUNNERS = "asyncio,uvloop,anyio-trio,thread-per-job,threads,threads-in-processes"


def rows(out: str) -> dict[tuple[int, str], str]:
    """(level, runner) -> the row of the sweep's table."""
    found = {}
    in_table = False
    for line in out.splitlines():
        if re.match(r"^\s*level\s+runner\s", line):
            in_table = True
        elif not line.strip():
            in_table = False
        elif in_table and (match := re.match(r"^\s*([\d,]+)\s+([\w-]+)\s", line)):
            found[int(match[1].replace(",", "")), match[2]] = line
    return found


def test_a_small_sweep_measures_every_level_and_runner(
    tmp_path: Path, lab_process: LabProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    result = lab_process.run(
        "sweep", "--levels", "1,8", "--size", "0.05", "--runners", RUNNERS, "--repeat", "2",
        "-q", "--json", str(tmp_path / "sweep.json"), "--plot", str(tmp_path / "plots"), "--wide",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    table = rows(result.stdout)
    assert set(table) == {(level, r) for level in (1, 8) for r in RUNNERS.split(",")}
    assert "wake-up p50 ms" in result.stdout and "jobs/s" in result.stdout
    assert "levels 1, 8" in result.stdout
    assert lab_process.leftovers() == []
    saved = load(tmp_path / "sweep.json")
    for analysed in analyse(saved).cells:  # unstable on a busy machine, but always measured
        assert analysed.status.kind in (Kind.OK, Kind.UNSTABLE), analysed
        assert analysed.figures is not None and analysed.figures.samples == 2
        assert str(analysed.status) in table[analysed.cell.jobs, analysed.cell.runner]
    spread = next(c for c in saved.cells if c.runner == "threads-in-processes" and c.jobs == 8)
    assert spread.workers == f"{min(8, saved.metadata.cpus)}x{-(-8 // min(8, saved.metadata.cpus))}"
    assert saved.settings["kind"] == "sweep"
    cell = next(c for c in saved.cells if c.runner == "threads" and c.jobs == 8)
    assert cell.layout.concurrency == 8 and len(cell.samples) == 2
    assert (tmp_path / "plots" / "sweep-io.png").read_bytes().startswith(b"\x89PNG")
    assert main(["report", "--wide", str(tmp_path / "sweep.json")]) == 0
    assert capsys.readouterr().out.split("\n", 2)[2] == result.stdout.split("\n", 2)[2]


def test_the_mixed_and_tcp_tasks_sweep_too(tmp_path: Path, lab_process: LabProcess) -> None:
    for task, size in (("mixed", "0.02"), ("tcp", "512")):
        saved = tmp_path / f"{task}.json"
        result = lab_process.run(
            "sweep", "--task", task, "--levels", "1,16", "--size", size, "--repeat", "1", "-q",
            "--runners", "asyncio,anyio-asyncio,threads", "--json", str(saved),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert len(rows(result.stdout)) == 6
        statuses = [a.status.kind for a in analyse(load(saved)).cells]
        assert len(statuses) == 6
        assert set(statuses) <= {Kind.OK, Kind.UNSTABLE}, result.stdout
    assert lab_process.leftovers() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--levels", "20000", "--runners", "threads"], "above the sweep's soft limit of 10,000"),
        (["--levels", "200000", "--runners", "asyncio"], "above the sweep's soft limit of 100,000"),
        (
            ["--levels", "60000", "--runners", "thread-per-job", "--allow-large"],
            "this machine allows",
        ),
        (
            ["--levels", "10000000", "--runners", "asyncio", "--allow-large"],
            "GiB available",
        ),
        (["--levels", "ten"], "levels must be whole numbers, not 'ten'"),
        (["--levels", "0"], "levels must be at least 1"),
        (["--runners", "fibers"], "unknown runner 'fibers'"),
        (["--task", "gpu"], "unknown task 'gpu'"),
        (["--size", "-1"], "io seconds must be greater than 0"),
    ],
)
def test_limits_and_bad_input_are_refused_before_anything_runs(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sweep", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lab: error: ") and message in err and err.count("\n") == 1


@given(st.lists(st.floats(min_value=0, max_value=10), min_size=1, max_size=200))
def test_percentiles_are_values_of_the_sample_in_order(values: list[float]) -> None:
    found = [percentile(values, p) for p in (0.5, 0.9, 0.99, 1.0)]
    assert all(value in values for value in found)
    assert found == sorted(found)
    assert found[-1] == max(values)


def test_sockets_beyond_the_descriptor_limit_are_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    limit = descriptor_limit()
    if limit is None or limit > 90_000:
        pytest.skip("no descriptor limit below the sweep's other limits here")
    args = ["sweep", "--task", "tcp", "--levels", str(limit), "--runners", "asyncio"]
    assert main([*args, "--allow-large"]) == 2
    assert "RLIMIT_NOFILE" in capsys.readouterr().err


def test_a_sweep_says_which_runner_served_best_and_where_threads_fell_behind() -> None:
    from lab.report.sweep_table import sweep_evidence

    run = swept({"threads": (0.2, 0.21, 0.4), "uvloop": (0.2, 0.2, 0.2)})
    found = sweep_evidence(analyse(run), "io")
    assert found[0].startswith("served best at 100 waiting jobs: uvloop (0.200 s")
    assert found[1] == (
        "threads stopped keeping up at 100 waiting jobs: 0.400 s on threads against 0.200 s"
        " on uvloop"
    )


def swept(times: dict[str, tuple[float, ...]], held: dict[str, int] | None = None) -> Results:
    """A sweep of ``io`` at levels 1, 10 and 100: each runner's jobs time per level, every
    level's jobs running at once (or at most ``held[runner]`` of them)."""
    from lab_builders import cell, results

    from lab.runner import EVENT_LOOP, THREADS, Layout

    cells = []
    for number, level in enumerate((1, 10, 100)):
        for runner, spans in times.items():
            loop = runner != "threads"
            layout = Layout(tasks=level) if loop else Layout(threads=level)
            made = cell(runner, layout, [spans[number]] * 2, jobs=level, task="io", bound="io",
                        size=0.2, kind=EVENT_LOOP if loop else THREADS)  # fmt: skip
            at_once = min(level, (held or {}).get(runner, level))
            for sample in made.samples:  # jobs in waves of at_once, filling the span
                wave = sample.job_span / math.ceil(level / at_once)
                sample.records = Records.of([
                    JobRecord(i, 1, "p", "t", i, (i // at_once) * wave, (i // at_once + 1) * wave,
                              None)
                    for i in range(level)
                ])  # fmt: skip
            cells.append(made)
    run = results(cells, repeat=2)
    run.settings.update(kind="sweep", levels=[1, 10, 100])
    return run


@given(
    st.lists(
        st.tuples(st.floats(0, 10, allow_nan=False), st.floats(0, 10, allow_nan=False)),
        min_size=1,
        max_size=30,
    )
)
def test_the_most_jobs_at_once_is_the_most_records_around_any_start(
    spans: list[tuple[float, float]],
) -> None:
    records = [
        JobRecord(i, 1, "p", "t", i, min(a, b), max(a, b), None) for i, (a, b) in enumerate(spans)
    ]
    brute = max(sum(r.start <= s.start < r.end for r in records) for s in records)
    assert most_at_once(records) == max(brute, 1 if records else 0)


def test_a_runner_short_of_its_level_is_shown_with_the_jobs_it_held() -> None:
    from lab.report.sweep_table import render_sweep, sweep_evidence

    run = swept({"threads": (0.2, 0.21, 0.6), "uvloop": (0.2, 0.2, 0.2)}, held={"threads": 25})
    analysis = analyse(run)
    threads_100 = next(
        a for a in analysis.cells if a.cell.runner == "threads" and a.cell.jobs == 100
    )
    assert threads_100.figures is not None and threads_100.figures.most_at_once == 25
    found = sweep_evidence(analysis, "io")
    assert found[1] == (
        "threads stopped keeping up at 100 waiting jobs: 0.600 s on threads (25 at once at most)"
        " against 0.200 s on uvloop"
    )
    table = render_sweep(analysis, "simple", None, wide=True)
    assert re.search(r"runner\s+at once", table) and "held fewer than its level" in table
    narrow = render_sweep(analysis, "simple", 60)
    assert re.search(r"runner\s+at once", narrow), narrow  # the last column to give way
    held = render_sweep(analyse(swept({"threads": (0.2,) * 3, "uvloop": (0.2,) * 3})), "simple")
    assert not re.search(r"runner\s+at once", held) and "held fewer than its level" not in held


@given(
    per_cpu=st.integers(min_value=0, max_value=20_000),
    cpus=st.integers(min_value=1, max_value=64),
    allow_large=st.booleans(),
)
def test_default_levels_stop_at_the_tasks_limit_unless_large_is_allowed(
    per_cpu: int, cpus: int, allow_large: bool
) -> None:
    task = replace(IO, sweep_limit_per_cpu=per_cpu)
    levels = levels_for(task, None, cpus, allow_large)
    limited = per_cpu > 0 and not allow_large
    assert levels == [n for n in DEFAULT_LEVELS if not limited or n <= per_cpu * cpus]


def test_the_http_sweep_stops_at_1000_on_2_cpus_and_asks_for_allow_large_past_it() -> None:
    assert levels_for(HTTP, None, 2, allow_large=False) == [1, 10, 100, 1000]
    assert levels_for(HTTP, None, 2, allow_large=True)[-1] == 10_000
    assert levels_for(HTTP, "5,1000", 2, allow_large=False) == [5, 1000]
    with pytest.raises(UsageError, match=r"http at 2,000 jobs at once is above its soft limit"):
        levels_for(HTTP, "1,2000", 2, allow_large=False)
    assert levels_for(HTTP, "1,2000", 2, allow_large=True) == [1, 2000]


def test_a_runner_is_swept_up_to_its_own_limit_unless_large_is_allowed() -> None:
    runners = [DaskRunner(), ThreadsRunner()]
    cells = SweepPlan(IO, runners, [1000, 10_000], 0.2, 2).cells()
    reasons = {(c.runner, c.jobs): c.not_applicable for c in cells}
    assert reasons[("dask", 10_000)] == (
        "dask is swept up to 1,000 jobs at once; pass --allow-large to run it at more"
    )
    assert reasons[("dask", 1000)] in (None, DaskRunner().unavailable())
    assert reasons[("threads", 10_000)] is None
    large = SweepPlan(IO, runners, [10_000], 0.2, 2, allow_large=True).cells()
    assert all(c.not_applicable in (None, DaskRunner().unavailable()) for c in large)
