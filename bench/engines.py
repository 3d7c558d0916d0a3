"""``python -m bench engines``: what each distributed engine costs a job beyond a process pool,
measured two ways side by side on the same short sleeps, in one matrix of 4, 16 and 64 jobs a
cell: from the job records of each cell (the wait between one job and the next on a worker, as
the engines table's row shows it) and from the lab's line through the run times across the job
counts (the line beneath the table). The records miss what an engine pays per job outside the
jobs' span; the fit is the noisier. Where the two agree within the fit's spread, the row's
figure is the engine's whole cost a job."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import tabulate

from bench.core import BenchError
from lab.report.engines import signed
from lab.report.units import duration
from lab.results.analysis import analyse
from lab.results.engines import engine_cost, engine_costs
from lab.results.journal import load

if TYPE_CHECKING:
    from lab.results.model import Cell, Results

JOB_COUNTS = (4, 16, 64)
SLEEP = 0.005
RUNNERS = ("processes", "dask", "ray")
WORKERS = 2
REPEAT = 5
#: Seconds the matrix (every job count and runner) may take: Ray starts in 10 to 25 s a cell.
TIMEOUT = 2400.0


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
        results = _matrix(counts, args, Path(folder))
    rows = _rows(results)
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
        "records: the mean over the job counts of the engines table's figure; fit: the lab's"
        " line through each runner's run times against its jobs, engine minus pool (its slope"
        " times the workers, its intercept); spread: the slopes' standard errors x workers"
    )
    return 0


def _matrix(counts: list[int], args: argparse.Namespace, folder: Path) -> Results:
    """The matrix of the io task at every job count, run by the lab in a process group of its
    own that is always reaped."""
    path = folder / "engines.json"
    command = [
        sys.executable, "-m", "lab", "matrix", "--tasks", "io", "--sleep", str(args.sleep),
        "--runners", args.runners, "--workers", str(WORKERS),
        "--jobs", ",".join(map(str, counts)), "--repeat", str(args.repeat),
        "--json", str(path), "-q",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        _, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BenchError(f"the matrix took over {TIMEOUT:g} s") from None
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
    if not path.exists():
        last = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise BenchError(f"the matrix failed: {last[0]}")
    return load(path)


def _rows(results: Results) -> list[list[str]]:
    """For each engine, the records' figures (the mean over the job counts of each count's
    cell beside the pool's) and the lab's fit across the counts."""
    analysis = analyse(results)
    rows = []
    for found in engine_costs(analysis):
        fitted = found.fitted
        if fitted is None:
            continue
        engine, pool = found.engine.cell, found.pool.cell
        per_job, per_run = [], []
        for count in fitted.counts:
            at = [a for a in analysis.cells if a.cell.jobs == count and a.figures is not None]
            mine = next(a for a in at if a.cell.runner == engine.runner and _same(a.cell, engine))
            theirs = next(a for a in at if a.cell.runner == pool.runner and _same(a.cell, pool))
            cost = engine_cost(found.task, mine, theirs, analysis.results.metadata.cpus)
            if cost.per_job is not None:
                per_job.append(cost.per_job)
            per_run.append(cost.per_run)
        rows.append(
            [
                f"{engine.runner} beside {pool.runner}",
                signed(statistics.fmean(per_job)) if per_job else "",
                signed(fitted.per_job),
                signed(statistics.fmean(per_run)),
                signed(fitted.per_run),
                f"±{duration(fitted.spread)}",
            ]
        )
    return rows


def _same(cell: Cell, other: Cell) -> bool:
    return cell.layout.concurrency == other.layout.concurrency and cell.task == other.task
