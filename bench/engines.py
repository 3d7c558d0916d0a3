"""``python -m bench engines``: what each distributed engine costs a job beyond a process pool,
measured two ways side by side on the same short sleeps: from the job records of each cell (the
wait between one job and the next on a worker, as the engines table shows it) and from the run
times of cells of different job counts (the slope and intercept of a line fitted through them,
per runner).

The records give the figure of each cell on its own; the fit needs several job counts and rests
on differences of run times, so it is the noisier of the two. Where they agree within the
fit's spread, the table's figure is the engine's cost a job."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import tabulate

from bench.core import BenchError
from lab.report.engines import signed
from lab.results.analysis import analyse
from lab.results.engines import engine_costs
from lab.results.journal import load

if TYPE_CHECKING:
    from lab.results.model import Cell, Results

JOB_COUNTS = (4, 16, 64)
SLEEP = 0.005
RUNNERS = ("processes", "dask", "ray")
WORKERS = 2
REPEAT = 5
#: Seconds one matrix (one job count, every runner) may take: Ray starts in 10 to 25 s a cell.
TIMEOUT = 900.0


@dataclass(frozen=True)
class Line:
    """A runner's run time against its jobs, fitted over every run of every job count:
    ``intercept`` seconds and ``slope`` seconds a job."""

    intercept: float
    slope: float


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench engines", description=__doc__)
    parser.add_argument(
        "--jobs",
        default=",".join(map(str, JOB_COUNTS)),
        help=f"job counts (default: {','.join(map(str, JOB_COUNTS))})",
    )
    parser.add_argument(
        "--runners",
        default=",".join(RUNNERS),
        help=f"the pool and the engines (default: {','.join(RUNNERS)})",
    )
    parser.add_argument(
        "--sleep", type=float, default=SLEEP, help=f"a job's wait (default {SLEEP})"
    )
    parser.add_argument(
        "--repeat", type=int, default=REPEAT, help=f"runs a cell (default {REPEAT})"
    )
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    counts = sorted({int(n) for n in args.jobs.split(",")})
    if len(counts) < 2 or counts[0] < WORKERS:
        raise BenchError(f"--jobs needs two counts at least, each at least {WORKERS}")
    print(
        f"bench engines · io sleeps of {args.sleep:g} s on {WORKERS} workers · jobs"
        f" {', '.join(map(str, counts))} · {args.repeat} runs a cell",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as folder:
        runs = [_matrix(n, args, Path(folder)) for n in counts]
    rows = _rows(runs)
    if not rows:
        raise BenchError("no engine was measured beside a pool (is dask or ray installed?)")
    headers = [
        "engine",
        "+ a job (records)",
        "+ a job (fit)",
        "+ a run (records)",
        "+ a run (fit)",
        "fit's spread a job",
    ]
    print(tabulate.tabulate(rows, headers, disable_numparse=True))
    print(
        "records: the mean over every job count of the engines table's figure; fit: the slope"
        " x workers and the intercept of each runner's run time against its jobs, engine"
        " minus pool; spread: the slopes' standard errors x workers, added"
    )
    return 0


def _matrix(jobs: int, args: argparse.Namespace, folder: Path) -> Results:
    """One matrix of the io task at ``jobs`` jobs a cell, run by the lab in a process group of
    its own that is always reaped."""
    path = folder / f"jobs-{jobs}.json"
    command = [
        sys.executable, "-m", "lab", "matrix", "--tasks", "io", "--sleep", str(args.sleep),
        "--runners", args.runners, "--workers", str(WORKERS), "--jobs", str(jobs),
        "--repeat", str(args.repeat), "--json", str(path), "-q",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        _, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BenchError(f"the matrix of {jobs} jobs took over {TIMEOUT:g} s") from None
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
    if not path.exists():
        last = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise BenchError(f"the matrix of {jobs} jobs failed: {last[0]}")
    return load(path)


def _rows(runs: list[Results]) -> list[list[str]]:
    by_runner: dict[str, list[Cell]] = {}
    engines: dict[str, list[tuple[float, float | None]]] = {}
    pools: dict[str, str] = {}
    for results in runs:
        for cell in results.cells:
            if cell.samples and cell.failure is None:
                by_runner.setdefault(cell.runner, []).append(cell)
        for found in engine_costs(analyse(results)):
            engines.setdefault(found.engine.cell.runner, []).append((found.per_run, found.per_job))
            pools[found.engine.cell.runner] = found.pool.cell.runner
    rows = []
    for engine, measured in engines.items():
        pool = pools[engine]
        engine_line, engine_error = _fit(by_runner[engine])
        pool_line, pool_error = _fit(by_runner[pool])
        per_jobs = [job for _, job in measured if job is not None]
        rows.append(
            [
                f"{engine} beside {pool}",
                signed(statistics.fmean(per_jobs)) if per_jobs else "",
                signed((engine_line.slope - pool_line.slope) * WORKERS),
                signed(statistics.fmean(run for run, _ in measured)),
                signed(engine_line.intercept - pool_line.intercept),
                f"±{(engine_error + pool_error) * WORKERS * 1000:.2f} ms",
            ]
        )
    return rows


def _fit(cells: list[Cell]) -> tuple[Line, float]:
    """The least-squares line through every run's (jobs, run time), and its slope's standard
    error."""
    points = [(float(c.jobs), s.wall) for c in cells for s in c.samples]
    xs, ys = zip(*points, strict=True)
    slope, intercept = statistics.linear_regression(xs, ys)
    residuals = [y - (intercept + slope * x) for x, y in points]
    spread = sum((x - statistics.fmean(xs)) ** 2 for x in xs)
    error = 0.0
    if len(points) > 2 and spread > 0:
        error = (sum(r * r for r in residuals) / (len(points) - 2) / spread) ** 0.5
    return Line(intercept, slope), error
