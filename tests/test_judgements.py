"""The figures and judgements the reports word, chosen once in ``lab.results``: the classic
claims, the verdict's figures and a sweep's findings, on results built by hand."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lab_builders import MIB, cell, results, sample

from lab.jobs import JobRecord
from lab.report.classic import VERDICTS, classic_rows
from lab.report.markdown_csv import to_markdown
from lab.report.sweep_table import AT_ONCE_LEGEND, render_sweep
from lab.results.analysis import Analysis, Estimate, analyse
from lab.results.classic import Judgement, classic_claims, overall
from lab.results.model import Cell, Results
from lab.results.selection import most_workers, run_kinds, typical, worker_memory
from lab.results.status import Kind, Status, timeout
from lab.results.sweep import KeepingUp, short_of_level, sweep_findings
from lab.results.verdict import verdict_figures
from lab.runner import EVENT_LOOP, INLINE, OTHER, PROCESSES, THREADS, Layout

LABELS = [{"label": "gil", "description": "x"}, {"label": "free", "description": "y"}]


def _cpu(threads_span: float, gil: bool, interpreter: str = "") -> list[Cell]:
    """A baseline, 2 threads taking ``threads_span`` and 2 processes taking half the time."""
    cells = [
        cell("single", Layout(), [1.0] * 3),
        cell("threads", Layout(threads=2), [threads_span] * 3, kind=THREADS, peak=21 * MIB),
        cell("processes", Layout(processes=2), [0.5] * 3, kind=PROCESSES, peak=60 * MIB),
    ]
    for c in cells:
        c.interpreter = interpreter
        for s in c.samples:
            s.gil_enabled = gil
    return cells


def _judged(cells: list[Cell], **facts: bool) -> Analysis:
    return analyse(results(cells, **facts))


def test_with_the_gil_the_claims_hold_with_their_figures() -> None:
    found = classic_claims(_judged(_cpu(1.0, gil=True)))
    (threads,) = found.gil.threads
    assert (threads.speedup, threads.gil, threads.judgement) == (1.0, True, Judgement.HOLDS)
    (cpu,) = found.parallelism.interpreters
    assert [(s.kind, s.speedup) for s in cpu.speedups] == [(THREADS, 1.0), (PROCESSES, 2.0)]
    assert found.parallelism.judgement is Judgement.HOLDS
    assert found.memory.judgement is Judgement.HOLDS
    assert [k.kind for k in found.memory.kinds] == [THREADS, PROCESSES]
    assert found.use_cases.tasks[0].analysed.cell.runner == "processes"
    assert found.synchronization.judgement is Judgement.NOT_MEASURED
    assert found.communication.judgement is Judgement.NOT_MEASURED


def test_without_the_gil_threads_in_parallel_contradict_the_claims() -> None:
    found = classic_claims(_judged(_cpu(0.5, gil=False), gil_enabled=False))
    assert found.gil.judgement is Judgement.CONTRADICTED
    assert found.gil.threads[0].gil is False
    assert found.parallelism.judgement is Judgement.CONTRADICTED


def test_threads_faster_than_processes_under_the_gil_contradict_the_use_cases() -> None:
    run = results(_cpu(0.48, gil=True))
    run.tasks = [replace(t, releases_gil=True) for t in run.tasks]  # hashing, say
    found = classic_claims(analyse(run))
    (cpu,) = found.use_cases.tasks
    assert cpu.analysed.cell.kind == THREADS and cpu.judgement is Judgement.CONTRADICTED
    assert found.gil.judgement is Judgement.CONTRADICTED  # 2.08x with the GIL on


def test_a_claim_that_holds_on_one_interpreter_only_is_mixed() -> None:
    cells = [*_cpu(1.0, gil=True, interpreter="gil"), *_cpu(0.5, gil=False, interpreter="free")]
    run = results(cells)
    run.interpreters = LABELS
    analysis = analyse(run)
    found = classic_claims(analysis)
    assert [t.interpreter for t in found.gil.threads] == ["gil", "free"]
    assert found.gil.judgement is Judgement.MIXED
    assert found.parallelism.judgement is Judgement.MIXED
    rows = {r.aspect: r.verdict for r in classic_rows(analysis)}
    assert rows["the GIL"] == "holds on some interpreters, not all"


def test_threads_costing_more_memory_contradict_the_memory_claim() -> None:
    cells = _cpu(1.0, gil=True)
    cells[1] = cell("threads", Layout(threads=2), [1.0] * 3, kind=THREADS, peak=80 * MIB)
    assert classic_claims(_judged(cells)).memory.judgement is Judgement.CONTRADICTED


def _transfer(threads_span: float, processes_span: float, shares: bool = False) -> Results:
    cells = [
        cell(runner, Layout(**{kind: 2}), [span] * 3, task="send", bound="transfer", size=MIB)
        for runner, kind, span in (
            ("threads", "threads", threads_span),
            ("processes", "processes", processes_span),
        )
    ]
    run = results(cells)
    run.tasks = [replace(t, size_name="bytes", shares_state=shares) for t in run.tasks]
    return run


def test_moving_a_mib_is_judged_by_its_cost_per_kind() -> None:
    cheap = classic_claims(analyse(_transfer(0.1, 0.4))).communication
    assert cheap.judgement is Judgement.HOLDS
    # two jobs at a time on two workers of a four-job run: half the run per job, per MiB
    assert [(c.kind, c.seconds) for c in cheap.costs] == [(THREADS, 0.05), (PROCESSES, 0.2)]
    dear = classic_claims(analyse(_transfer(0.4, 0.1))).communication
    assert dear.judgement is Judgement.CONTRADICTED


def test_cells_that_share_state_are_measured_with_their_failures() -> None:
    run = _transfer(0.1, 0.4, shares=True)
    run.cells[1].failure = Status(Kind.ERROR, "lost an update")
    found = classic_claims(analyse(run)).synchronization
    assert found.judgement is Judgement.MEASURED
    assert found.tasks == ("send",)
    assert [a.cell.runner for a in found.kept] == ["threads"]
    assert [a.cell.runner for a in found.failed] == ["processes"]
    assert [c.kind for c in found.costs[0].costs] == [THREADS]


def test_a_run_with_nothing_to_judge_measures_no_claim() -> None:
    found = classic_claims(_judged([cell("single", Layout(), [1.0] * 3)]))
    assert {c.judgement for c in found.claims} == {Judgement.NOT_MEASURED}


def test_every_judgement_has_its_words() -> None:
    assert set(VERDICTS) == set(Judgement)


@given(st.lists(st.sampled_from([None, Judgement.HOLDS, Judgement.CONTRADICTED]), max_size=6))
def test_a_claims_judgement_is_the_sum_of_its_parts(parts: list[Judgement | None]) -> None:
    found = overall(parts)
    known = set(parts) - {None}
    if not parts:
        assert found is Judgement.NOT_MEASURED
    elif not known:
        assert found is Judgement.MEASURED
    elif len(known) == 2:
        assert found is Judgement.MIXED
    else:
        assert {found} == known


@given(
    st.lists(
        st.tuples(st.floats(-1e9, 1e9), st.floats(0, 1e9)).map(lambda p: Estimate(*p)),
        min_size=1,
        max_size=9,
    )
)
def test_the_typical_estimate_is_no_more_precise_than_any(estimates: list[Estimate]) -> None:
    found = typical(estimates)
    assert found is not None
    assert min(e.value for e in estimates) <= found.value <= max(e.value for e in estimates)
    assert found.resolution == max(e.resolution for e in estimates)


def test_no_estimates_have_no_typical_one() -> None:
    assert typical([]) is None


def test_the_cell_with_most_workers_speaks_for_its_kind_the_fastest_of_equals() -> None:
    analysis = _judged(
        [
            cell("single", Layout(), [1.0]),
            cell("threads", Layout(threads=2), [0.95], kind=THREADS),
            cell("threads", Layout(threads=4), [0.99], kind=THREADS),
            cell("thread-per-job", Layout(threads=4), [0.97], kind=THREADS),
            cell("other", Layout(threads=8), [0.98], kind=OTHER),
        ]
    )
    best = most_workers(analysis.cells, THREADS)
    assert best is not None and best.cell.runner == "thread-per-job"
    assert most_workers(analysis.cells, PROCESSES) is None
    assert run_kinds(analysis) == [THREADS]  # neither the baseline nor a runner of no kind


def test_a_workers_memory_comes_from_io_bound_cells_when_there_are_some() -> None:
    base_io = cell("single", Layout(), [1.0], task="io", bound="io", size=0.25, peak=20 * MIB)
    io = cell("threads", Layout(threads=2), [0.5], task="io", bound="io", size=0.25, peak=22 * MIB)
    cpu = cell("threads", Layout(threads=2), [0.5], peak=40 * MIB)
    found = worker_memory(
        _judged([cell("single", Layout(), [1.0]), cpu, base_io, io]).cells, THREADS
    )
    assert found is not None and found.value == MIB


def test_the_verdict_cites_speedups_the_fastest_cell_and_costs() -> None:
    analysis = _judged(_cpu(1.0, gil=True))
    found = verdict_figures(analysis)
    assert [(s.analysed.cell.kind, s.gil, s.alone) for s in found.speedups] == [
        (THREADS, True, True),
        (PROCESSES, True, True),
    ]
    (fastest,) = found.fastest
    assert fastest.analysed.cell.runner == "processes" and fastest.ratio == 2.0
    assert not fastest.against_reference
    costs = {c.kind: c for c in found.costs}
    assert costs[PROCESSES].startup == pytest.approx(0.01) and costs[EVENT_LOOP].startup is None
    memory = costs[PROCESSES].memory
    assert memory is not None and memory.value == 20 * MIB
    assert found.transfers == ()


def test_a_transfers_baseline_is_not_its_fastest_way() -> None:
    run = _transfer(0.1, 0.4)
    run.cells.insert(0, cell("single", Layout(), [0.01], task="send", bound="transfer", size=MIB))
    found = verdict_figures(analyse(run))
    assert [f.analysed.cell.kind for f in found.fastest] == [THREADS]
    (send,) = found.transfers
    assert [c.kind for c in send.costs] == [THREADS, PROCESSES]
    assert INLINE not in [c.kind for c in send.costs]


def _sweep(
    times: dict[str, tuple[float, ...]], held: int | None = None, threads_to: int = 100
) -> Analysis:
    """``io`` at 1, 10 and 100 waiting jobs; the threads hold at most ``held`` at once, and
    time out past ``threads_to``."""
    cells = []
    for number, level in enumerate((1, 10, 100)):
        for runner, spans in times.items():
            loop = runner != "threads"
            layout = Layout(tasks=level) if loop else Layout(threads=level)
            at_once = level if loop or held is None else min(level, held)
            span = spans[number]
            records = [JobRecord(i, 1, "p", "t", i, 0.0, span, None) for i in range(at_once)]
            made = cell(runner, layout, [], task="io", bound="io", jobs=level, size=0.2,
                        kind=EVENT_LOOP if loop else THREADS)  # fmt: skip
            made.samples = [sample(span, records=records)] * 2
            if not loop and level > threads_to:
                made.samples, made.failure = [], timeout(60)
            cells.append(made)
    run = results(cells, repeat=2)
    run.settings.update(kind="sweep", levels=[1, 10, 100])
    return analyse(run)


def test_a_sweep_finds_the_best_runner_and_where_threads_fell_behind() -> None:
    (found,) = sweep_findings(_sweep({"threads": (0.2, 0.21, 0.4), "uvloop": (0.2,) * 3}), "io")
    assert (found.level, found.best.cell.runner, found.contested) == (100, "uvloop", True)
    assert found.threads is not None
    assert (found.threads.kept_up, found.threads.level) == (False, 100)
    assert found.threads.loop.cell.runner == "uvloop"


def test_threads_that_keep_up_do_so_to_the_highest_level() -> None:
    analysis = _sweep({"threads": (0.2, 0.21, 0.21), "uvloop": (0.2,) * 3}, held=25)
    (found,) = sweep_findings(analysis, "io")
    assert isinstance(found.threads, KeepingUp)
    assert (found.threads.kept_up, found.threads.level) == (True, 100)
    assert short_of_level(found.threads.threads)
    assert not short_of_level(found.threads.loop)


def test_a_sweeps_markdown_explains_a_runner_short_of_its_level_as_its_terminal_does() -> None:
    analysis = _sweep({"threads": (0.2, 0.21, 0.21), "uvloop": (0.2,) * 3}, held=25)
    assert AT_ONCE_LEGEND.splitlines()[0] in render_sweep(analysis, "simple", None)
    assert AT_ONCE_LEGEND in to_markdown(analysis.results)


def test_threads_that_time_out_at_a_level_kept_up_only_to_the_level_before() -> None:
    analysis = _sweep({"threads": (0.2, 0.2, 0.2), "uvloop": (0.2,) * 3}, threads_to=10)
    (found,) = sweep_findings(analysis, "io")
    assert found.level == 100 and found.best.cell.runner == "uvloop"
    assert isinstance(found.threads, KeepingUp)
    assert (found.threads.kept_up, found.threads.level) == (True, 10)
    assert found.threads.threads.cell.jobs == 10


def test_a_sweep_of_one_runner_is_uncontested_with_no_threads_finding() -> None:
    (found,) = sweep_findings(_sweep({"uvloop": (0.2,) * 3}), "io")
    assert not found.contested and found.threads is None


def test_the_verdict_rests_on_stable_cells_while_there_are_any() -> None:
    stable = cell("processes", Layout(processes=2), [0.55] * 3, kind=PROCESSES)
    shaky = cell("other-pool", Layout(processes=2), [0.3, 0.5, 0.7], kind=PROCESSES)
    analysis = _judged([cell("single", Layout(), [1.0] * 3), stable, shaky])
    assert analysis.cells[2].status.kind is Kind.UNSTABLE
    (fastest,) = verdict_figures(analysis).fastest
    assert fastest.analysed.cell.runner == "processes"  # though the unstable one's median won
    assert most_workers(analysis.cells, PROCESSES) is analysis.cells[1]
    alone = _judged([cell("single", Layout(), [0.8, 1.0, 1.2]), shaky])  # no stable cell
    (only,) = verdict_figures(alone).fastest
    assert only.analysed.cell.runner == "other-pool" and only.analysed.unstable
