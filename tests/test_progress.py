"""The progress bar's arithmetic: what each run is expected to cost, before and after it ran."""

from __future__ import annotations

import pytest
from lab_builders import cell, results, sample

from lab.cli.progress import PROCESS_START_SECONDS, UNKNOWN_JOB_SECONDS, Progress
from lab.results.status import error
from lab.runner import Layout


def test_a_run_is_weighted_by_its_jobs_until_it_has_run_then_by_what_it_took() -> None:
    threads = cell("threads", Layout(threads=2), [], jobs=4)
    pool = cell("processes", Layout(processes=2), [], jobs=4)
    progress = Progress(results([threads, pool], repeat=2), rounds=2, quiet=True)
    assert progress.expected(threads) == pytest.approx(4 * UNKNOWN_JOB_SECONDS / 2)
    assert progress.expected(pool) == pytest.approx(
        2 * PROCESS_START_SECONDS + 4 * UNKNOWN_JOB_SECONDS / 2
    )
    assert progress.total == pytest.approx(2 * (progress.expected(threads) + 0.6))
    progress.starting(threads)
    assert "threads 2" in progress.bar.desc
    progress.finished(threads, sample(1.0))
    assert progress.expected(threads) == pytest.approx(0.01 + 1.0)


def test_a_failed_cell_takes_its_remaining_runs_off_the_total() -> None:
    doomed = cell("threads", Layout(threads=2), [], jobs=4)
    progress = Progress(results([doomed], repeat=3), rounds=3, quiet=True)
    doomed.failure = error("the runner broke")
    progress.finished(doomed, None)
    assert progress.total == pytest.approx(progress.done)


def test_quiet_or_not_a_terminal_draws_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    progress = Progress(results([cell("threads", Layout(threads=2), [])]), rounds=1, quiet=False)
    progress.close()
    assert capsys.readouterr().err == ""
