"""The conformance kit's failures say what went wrong, in the words of ``lab matrix``'s error
cells, for runners that break the contract one way each (``tests/support/lab_broken_runners``)."""

from __future__ import annotations

import pytest

from lab.testing import RunnerConformance

Failed = pytest.fail.Exception


def kit(name: str, modules: tuple[str, ...] = ("lab_broken_runners",)) -> RunnerConformance:
    """The kit, set up for runner ``name`` as a plugin author's ``Test…`` subclass is."""

    class Kit(RunnerConformance):
        runner = name
        plugins = modules

    return Kit()


@pytest.mark.parametrize(
    ("runner", "problem"),
    [
        ("skips-a-job", "job 1 never ran"),
        ("repeats-a-job", "job 0 ran 2 times"),
        ("out-of-order", "the records are not in the jobs' order"),
    ],
)
def test_a_wrong_set_of_records_is_named(runner: str, problem: str) -> None:
    with pytest.raises(Failed, match=problem):
        kit(runner).test_every_job_runs_once_and_records_come_back_in_order()


def test_more_threads_at_once_than_the_layout_is_named() -> None:
    with pytest.raises(Failed, match="jobs ran on 3 threads at once; its layout allows 2"):
        kit("too-many-threads").test_the_worker_count_is_respected()


@pytest.mark.parametrize("runner", ["lazy-threads", "lazy-processes"])
def test_a_pool_started_on_its_first_jobs_is_named(runner: str) -> None:
    with pytest.raises(Failed, match="started during the run, not in start") as failure:
        kit(runner).test_every_worker_is_running_before_the_run()
    assert "its start-up is timed as the run's" in str(failure.value)


def test_a_lazy_pool_that_warms_up_passes_the_warm_up_check_it_is_no_substitute_for() -> None:
    kit("lazy-processes").test_every_worker_is_warmed_up_before_its_first_job()


def test_a_runner_a_misspelt_hook_never_registered_shows_the_load_warning() -> None:
    with pytest.raises(Failed) as failure:
        kit("misspelt", ("lab_broken_runners:MISSPELT",)).test_zero_jobs_and_one_job()
    message = str(failure.value)
    assert message.startswith("unknown runner 'misspelt'")
    assert "plugin 'lab_broken_runners:MISSPELT' is invalid" in message
    assert "lab_register_runnrs" in message


def test_an_unavailable_runner_says_why() -> None:
    with pytest.raises(Failed, match="runner 'unavailable' is not available here: it needs"):
        kit("unavailable").test_the_runner_is_registered_and_available()
