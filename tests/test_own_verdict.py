"""The verdict on a user's function and the check of its answers, on results built by hand:
the figures come from the records, never from a run's timing."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st
from lab_builders import cell, results

from lab.jobs import JobRecord
from lab.own.answers import answer, digest_of
from lab.report.own_verdict import FASTEST, own_rows, render_own_verdict
from lab.results.analysis import DIFFERENT, analyse
from lab.results.model import UNSIZED, Cell, Results
from lab.results.own_verdict import HOLDS, RELEASES, UNCLEAR, own_verdicts
from lab.runner import PROCESSES, Layout

TASK = "mod:f"


def _own(cells: list[Cell], **changes: object) -> Results:
    found = results(cells)
    [task] = found.tasks
    found.tasks = [replace(task, size_name=UNSIZED, size=1, size_text="1", **changes)]
    return found


def _cell(
    runner: str, layout: Layout, spans: list[float], startup: float, **fields: object
) -> Cell:
    made = cell(runner, layout, spans, task=TASK, **fields)
    made.samples = [replace(s, startup=startup) for s in made.samples]
    return made


def _answers(made: Cell, values: list[list[object]]) -> Cell:
    """``made`` with one sample per list of answers, a job each."""
    template = made.samples[0]
    made.samples = [
        replace(
            template,
            records=[
                JobRecord(i, 100, "MainProcess", "MainThread", 1, 0.0, 0.1, 0.1, answer(v))
                for i, v in enumerate(run)
            ],
        )
        for run in values
    ]
    return made


def test_the_break_even_job_count_comes_from_start_up_and_time_per_job() -> None:
    single = _cell("single", Layout(), [0.4, 0.4, 0.4], startup=0.0)
    processes = _cell("processes", Layout(processes=2), [0.2, 0.2, 0.2], startup=0.5)
    analysis = analyse(_own([single, processes]))
    [verdict] = own_verdicts(analysis)
    assert verdict.fastest is not None and verdict.fastest.cell is processes
    found = verdict.break_even
    assert found is not None
    assert (found.per_job, found.baseline_per_job, found.startup) == (0.05, 0.1, 0.5)
    assert found.jobs == 10 and not found.pays_here
    text = dict(own_rows(analysis, verdict))["start-up against the gain"]
    assert "with 4 jobs it eats the gain; it pays for itself from 10 jobs on" in text
    assert f"the verdict on {TASK}:" in render_own_verdict(analysis, "simple")


def test_threads_that_compute_one_at_a_time_hold_the_gil() -> None:
    single = _cell("single", Layout(), [0.4, 0.4, 0.4], startup=0.0)
    threads = _cell("threads", Layout(threads=2), [0.4, 0.4, 0.4], startup=0.001)
    [verdict] = own_verdicts(analyse(_own([single, threads])))
    assert verdict.gil == HOLDS and verdict.threads is not None


def test_a_runner_with_another_answer_is_an_error_naming_the_first_job() -> None:
    single = _answers(_cell("single", Layout(), [0.4, 0.4], 0.0), [[1, 2], [1, 2]])
    threads = _answers(_cell("threads", Layout(threads=2), [0.4, 0.4], 0.0), [[1, 3], [1, 3]])
    analysis = analyse(_own([single, threads], same_answers=True))
    status = {a.cell.runner: str(a.status) for a in analysis.cells}
    assert status["threads"] == f"error: {DIFFERENT}job 1 returned 3, not 2 as on single"
    assert "1 of 1 cells gave different answers" in analysis.answers[TASK]


def test_answers_that_change_between_runs_of_the_baseline_are_not_compared() -> None:
    single = _answers(_cell("single", Layout(), [0.4, 0.4], 0.0), [[1, 2], [1, 5]])
    threads = _answers(_cell("threads", Layout(threads=2), [0.4, 0.4], 0.0), [[7, 7], [7, 7]])
    analysis = analyse(_own([single, threads], same_answers=True))
    assert all(not a.status.failed for a in analysis.cells)
    assert "they differ from run to run on single (job 1: 2, then 5)" in analysis.answers[TASK]


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.binary(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=10,
)


@given(st.dictionaries(st.text(max_size=4), values, max_size=4))
def test_equal_values_give_the_same_answer_whatever_their_order(value: dict[str, object]) -> None:
    reordered = dict(reversed(list(value.items())))
    assert digest_of(answer(value)) == digest_of(answer(reordered))
    assert digest_of(answer(set(value))) == digest_of(answer(set(reversed(list(value)))))


@given(values, values)
def test_different_values_give_different_answers(one: object, other: object) -> None:
    if one != other or type(one) is not type(other):
        assert digest_of(answer(one)) != digest_of(answer(other)) or repr(one) == repr(other)


def _parallel_cpu(made: Cell) -> Cell:
    """``made`` with two jobs a run, each on the CPU the whole run: threads in parallel."""
    made.samples = [
        replace(
            s,
            records=[
                JobRecord(i, 100, "MainProcess", f"T{i}", i, 0.0, s.job_span, s.job_span)
                for i in range(2)
            ],
        )
        for s in made.samples
    ]
    return made


def test_threads_whose_cpu_shows_parallel_work_but_no_gain_are_unclear() -> None:
    single = _cell("single", Layout(), [0.4, 0.41, 0.39], startup=0.0)
    threads = _parallel_cpu(_cell("threads", Layout(threads=2), [0.4, 0.41, 0.39], 0.001))
    [verdict] = own_verdicts(analyse(_own([single, threads])))
    assert verdict.gil == UNCLEAR


def test_threads_whose_cpu_shows_parallel_work_and_a_gain_release_the_gil() -> None:
    single = _cell("single", Layout(), [0.4, 0.41, 0.39], startup=0.0)
    threads = _parallel_cpu(_cell("threads", Layout(threads=2), [0.2, 0.21, 0.2], 0.001))
    [verdict] = own_verdicts(analyse(_own([single, threads])))
    assert verdict.gil == RELEASES


def test_the_runner_up_is_as_trusted_as_the_fastest() -> None:
    single = _cell("single", Layout(), [0.4, 0.4, 0.4], startup=0.0)
    steady = _cell("processes", Layout(processes=2), [0.3, 0.3, 0.3], startup=0.1)
    noisy = _cell("loky", Layout(processes=2), [0.25, 0.35, 0.15], 0.1, kind=PROCESSES)
    analysis = analyse(_own([single, steady, noisy]))
    [verdict] = own_verdicts(analysis)
    assert verdict.fastest is not None and verdict.fastest.cell is steady
    assert verdict.runner_up is not None and verdict.runner_up.cell is single
    assert verdict.faster_unstable is not None and verdict.faster_unstable.cell is noisy
    said = dict(own_rows(analysis, verdict))[FASTEST]
    assert "; loky with workers 2 took" in said and "but its runs were not stable" in said
