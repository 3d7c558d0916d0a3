"""Whether jobs run warm from the first one, in every process, as the lab measures them.

CPython 3.11 runs a function's first calls up to 1.5 times slower than the next ones; the lab
warms every process that runs jobs up before its first job (``lab.pools.prepare_worker``). The
test suite counts those warm-up calls; this measures what they are for, on the CPU time of each
job: a cell's first jobs against its later ones (``single``), and a pool's fresh processes'
jobs against the cell's own later ones (``processes``), both cells in every round.
"""

from __future__ import annotations

import statistics
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tabulate import tabulate

from bench.core import BenchError
from bench.goals import Goal, Judged, Verdict
from bench.report import notes
from lab.run import validate
from lab.run.supervisor import run_cell
from lab.runner import Workers

if TYPE_CHECKING:
    from lab.host.registry import Catalog
    from lab.run.rounds import Rounds

#: A countdown of some 10 ms here, 12 jobs a cell: the first 7 calls are the cold ones.
COUNT = 400_000
JOBS = 12
FIRST = 7
#: Cold, the first 7 jobs ran 1.47 times as long as the later ones here.
GOAL = Goal(1.25, 1.0)
CELLS = (("single", 1), ("processes", 2))


@dataclass
class Warmth:
    """One ratio of job CPU times, round by round."""

    name: str
    ratios: list[float] = field(default_factory=list)
    failure: str | None = None

    def judged(self) -> Judged:
        return Judged(GOAL, tuple(self.ratios))

    def missed(self) -> bool:
        return self.failure is not None or self.judged().verdict is Verdict.MISSES


def measure(most: int, settings: Rounds, catalog: Catalog) -> list[Warmth]:
    """Paired rounds of both cells until both ratios' goals are settled, ``most`` at most."""
    first = Warmth(f"single: its first {FIRST} jobs / its later ones")
    pool = Warmth("processes: the pool's jobs / single's later ones")
    found = [first, pool]
    for number in range(most):
        if all(w.failure is not None or w.judged().settled(most) for w in found):
            break
        try:
            cells = CELLS if number % 2 == 0 else CELLS[::-1]
            cpu = {runner: job_cpu(runner, workers, settings, catalog) for runner, workers in cells}
        except BenchError as exc:
            first.failure = pool.failure = str(exc)
            break
        later = statistics.median(cpu["single"][FIRST:])
        first.ratios.append(statistics.median(cpu["single"][:FIRST]) / later)
        pool.ratios.append(statistics.median(cpu["processes"]) / later)
        ratios = f"{first.ratios[-1]:.3f} and {pool.ratios[-1]:.3f}"
        print(f"round {number + 1} (at most {most}) · warm-up: {ratios}", file=sys.stderr)
    return found


def job_cpu(runner: str, workers: int, settings: Rounds, catalog: Catalog) -> list[float]:
    """The CPU time of each of a lab cell's countdowns, in the jobs' order, its records
    checked as the lab checks them."""
    spec = settings.spec("cpu", runner, str(workers), JOBS, COUNT)
    outcome = run_cell(spec, settings.timeout)
    measurement = outcome.measurement
    if outcome.failure is not None or measurement is None or measurement.error:
        detail = outcome.failure or (measurement.error if measurement else "no measurement")
        raise BenchError(f"warm-up, {runner}: {detail}")
    layout = catalog.runners.get(runner).layout(Workers(workers))
    found = validate.problems(measurement, JOBS, layout, catalog.tasks.get("cpu"), COUNT)
    if found:
        raise BenchError(f"warm-up, {runner}: {found[0]}")
    times = [r.cpu for r in sorted(measurement.records, key=lambda r: r.index)]
    if any(t is None or t <= 0 for t in times):
        raise BenchError(f"warm-up, {runner}: a job recorded no CPU time")
    return [t for t in times if t is not None]


LEGEND = f"""\
warm-up: {JOBS} countdowns from {COUNT:,} on single and on processes with 2 workers, both
cells in every round · each ratio: the median CPU time of those jobs over the median of
single's jobs after its first {FIRST}, near 1 when every process runs warm from its first job
(cold, the first {FIRST} take up to 1.5 times as long); judged on its 95% interval"""


def table(found: list[Warmth], most: int, tablefmt: str) -> str:
    rows = [_row(w) for w in found]
    headers = ["warm-up", "ratio", "95% interval", "rounds", "goal", "verdict"]
    text = tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)
    return text + notes(((w.name, w.judged()) for w in found if w.failure is None), most)


def _row(w: Warmth) -> list[str]:
    if w.failure is not None or not w.ratios:
        return [w.name, "", "", "", str(GOAL), f"error: {w.failure or 'not run'}"]
    judged = w.judged()
    interval = judged.interval
    return [
        w.name,
        "" if interval is None else f"{interval.point:.3f}",
        judged.interval_text(),
        str(judged.rounds),
        str(GOAL),
        judged.verdict.value,
    ]
