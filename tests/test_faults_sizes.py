"""Sizes and numbers the options are given (issue 22, items 7 and 8): a number is written in
the digits 0-9, ``--job-time`` fits its jobs inside ``--timeout``, and a calibrated size meets
its task's soft limit like a given one. Each bad input is one line naming its option, exit 2,
before anything runs; a later bad option stops the command where the check was missing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import lab.plan.sizes
import lab.run.calibrate
from lab.cli import main
from lab.errors import UsageError
from lab.plan.sizes import Sizing
from lab.run.calibrate import calibrate
from lab.run.rounds import Rounds
from lab_plugins.tasks import CPU

if TYPE_CHECKING:
    from lab.task import Task

#: Bad options checked after each option under test: without that check, the command stops
#: at these instead of running anything.
LATER_TABLEFMT = ["--tablefmt", "nope"]
LATER_RUNNER_OPTION = ["--runner-option", "nope"]
LATER_JSON = ["--json", ""]
MANY_DIGITS = "9" * 5000


def one_error_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """The one line ``lab`` printed on stderr for ``argv``, which must exit 2."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("lab: error: ") and err.count("\n") == 1, err
    return err.strip()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--workers", "\uff12", *LATER_TABLEFMT],
            "--workers must be a whole number or PxT (processes x threads) written with the"
            " digits 0-9, not '\uff12'",
        ),
        (["--workers", "2x\uff13", *LATER_TABLEFMT], "--workers must be a whole number or PxT"),
        (["--workers", "1_0", *LATER_TABLEFMT], "--workers must be a whole number or PxT"),
        (["--workers", MANY_DIGITS], "--workers must be a whole number or PxT"),
        (
            ["--jobs", "\uff14", *LATER_TABLEFMT],
            "--jobs must be a whole number written with the digits 0-9, not '\uff14'",
        ),
        (
            ["--jobs", "1_000", *LATER_TABLEFMT],
            "--jobs must be a whole number written without underscores, not '1_000'",
        ),
        (["--repeat", "\uff13", *LATER_TABLEFMT], "--repeat must be a whole number written with"),
        (["--warmups", "1_0", *LATER_TABLEFMT], "--warmups must be a whole number written without"),
        (
            ["--timeout", "\uff11\uff10", *LATER_TABLEFMT],
            "--timeout must be a number of seconds written with the digits 0-9",
        ),
        (["--timeout", "1_0", *LATER_TABLEFMT], "--timeout must be a number of seconds written"),
        (
            ["--job-time", "\uff11.\uff15", *LATER_RUNNER_OPTION],
            "--job-time must be a number of seconds written with the digits 0-9",
        ),
        (
            ["--count", "\uff11\uff10\uff10", *LATER_RUNNER_OPTION],
            "--count: cpu count must be a number written with the digits 0-9",
        ),
        (
            ["--count", "1_000_000", *LATER_RUNNER_OPTION],
            "--count: cpu count must be a number written without underscores",
        ),
        (
            ["--sleep", "1e400", "--allow-large", *LATER_RUNNER_OPTION],
            "--sleep: io seconds is too large: '1e400'",
        ),
        (
            ["--sleep", "infinity", "--allow-large", *LATER_RUNNER_OPTION],
            "--sleep: io seconds must be a number, not 'infinity'",
        ),
        (
            ["--size", "io=\uff10.\uff11", *LATER_RUNNER_OPTION],
            "--size: io seconds must be a number written with the digits 0-9",
        ),
        (["--size", "cpu=x", *LATER_RUNNER_OPTION], "--size: cpu count must be a number"),
    ],
)
def test_matrix_numbers_are_written_in_the_digits_0_9(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert message in one_error_line(capsys, ["matrix", *args])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--levels", "1,\uff11\uff10", *LATER_TABLEFMT],
            "--levels must be whole numbers written with the digits 0-9, not '\uff11\uff10'",
        ),
        (
            ["--levels", "1_0", *LATER_TABLEFMT],
            "--levels must be whole numbers written without underscores, not '1_0'",
        ),
        (["--size", "", *LATER_TABLEFMT], "--size: io seconds must be a number, not ''"),
        (["--size", "\uff11", *LATER_TABLEFMT], "--size: io seconds must be a number written"),
        (["--repeat", "\uff13", *LATER_RUNNER_OPTION], "--repeat must be a whole number written"),
        (["--repeat", "5000", *LATER_RUNNER_OPTION], "--repeat must be at most 1,000, not 5,000"),
        (["--warmups", "2_0", *LATER_RUNNER_OPTION], "--warmups must be a whole number written"),
        (["--timeout", "\uff15", *LATER_RUNNER_OPTION], "--timeout must be a number of seconds"),
    ],
)
def test_sweep_numbers_are_written_in_the_digits_0_9(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert message in one_error_line(capsys, ["sweep", *args])


def test_a_percentage_is_written_in_the_digits_0_9(capsys: pytest.CaptureFixture[str]) -> None:
    line = one_error_line(capsys, ["compare", "a.json", "b.json", "--fail-slower", "\uff15%"])
    assert "--fail-slower must be a percentage such as 5% written with the digits 0-9" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--job-time", "1e300"],
            "--job-time 1e+300 s: a run of cpu on the baseline, its 4 jobs one after another,"
            " would take 4e+300 s, not less than --timeout 60 s; lower --job-time or --jobs, or"
            " raise --timeout",
        ),
        (
            ["--job-time", "100000", "--timeout", "5"],
            "would take 400,000 s, not less than --timeout 5 s",
        ),
        (["--job-time", "2", "--timeout", "8"], "its 4 jobs one after another, would take 8 s"),
        (
            ["--job-time", "100000", "--timeout", "5", "--allow-large"],
            "would take 400,000 s, not less than --timeout 5 s",
        ),
    ],
)
def test_a_job_time_must_fit_its_jobs_inside_the_timeout(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """Checked before calibration: the baseline runs a calibrated task's jobs one after
    another, in one run that ``--timeout`` ends; ``--allow-large`` does not lift it."""
    argv = ["matrix", "--tasks", "cpu", "--runners", "single", "--jobs", "4", *args, *LATER_JSON]
    assert message in one_error_line(capsys, argv)


def test_a_job_time_no_task_is_calibrated_to_is_not_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = one_error_line(capsys, ["matrix", "--tasks", "io", "--job-time", "1e300", *LATER_JSON])
    assert "--job-time" not in line


def test_a_calibrated_size_above_the_soft_limit_is_refused_before_any_cell_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A machine on which 0.2 s of countdown is 10**11 (a fake calibration here): without the
    check, the matrix runs the countdown to its timeout. Nothing was measured: no journal is
    left."""
    monkeypatch.setattr(lab.plan.sizes, "calibrate", lambda task, target, rounds: 10**11)
    argv = ["matrix", "--tasks", "cpu", "--runners", "single", "--jobs", "1", "--fast"]
    argv += ["--json", str(tmp_path / "r.json")]
    line = one_error_line(capsys, [*argv, "--timeout", "1", "-q"])
    assert list(tmp_path.iterdir()) == []
    assert line == (
        "lab: error: --job-time 0.2 s: cpu count 100,000,000,000 (calibrated to 0.2 s a job) is"
        " above the limit of 10,000,000,000; pass --allow-large to run it anyway"
    )


def test_allow_large_takes_a_calibrated_size_past_the_soft_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lab.plan.sizes, "calibrate", lambda task, target, rounds: 10**11)
    rounds = Rounds(repeat=1, timeout=1.0, start_method="spawn")
    with pytest.raises(UsageError, match="above the limit of 10,000,000,000"):
        Sizing(job_time=0.2).choose([CPU], rounds, quiet=True)
    sizes, _ = Sizing(job_time=0.2, allow_large=True).choose([CPU], rounds, quiet=True)
    assert sizes == {"cpu": 10**11}


def test_calibrating_to_a_huge_job_time_does_not_overflow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--timeout 1e306 --job-time 1e305`` passes the job-time check; the size it calibrates
    is then over the soft limit, not an OverflowError."""

    def probe(task: Task, size: int, rounds: Rounds) -> float:
        return 0.1

    monkeypatch.setattr(lab.run.calibrate, "_probe", probe)
    rounds = Rounds(repeat=1, timeout=1e306, start_method="spawn")
    assert calibrate(CPU, 1e305, rounds) > CPU.size.soft_limit
