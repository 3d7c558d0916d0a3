"""``make bench``'s own logic, on made-up timings: goals judged on paired rounds' intervals, the
rounds that stop when the interval is narrow enough, the no-op records that validate, and a
failure that is one line. Nothing here is timed: what the bench measures is the bench's."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

from lab.host.registry import Catalog
from lab.run.rounds import Rounds

#: The bench runs from the checkout (``python -m bench``): it is not installed with the lab.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import cli, goals, side_by_side
from bench.core import BenchError, Timing
from bench.goals import MIN_ROUNDS, Goal, Judged, Verdict
from bench.overhead import RECORDS, measurement, validation
from bench.report import ratio_table
from bench.side_by_side import Comparison
from bench.sides import Case

AT_MOST = Goal(1.02, 1.0)
AT_LEAST = Goal(1.6, 2.0)


def judged(goal: Goal, ratios: list[float]) -> Judged:
    return Judged(goal, tuple(ratios))


def test_a_goal_has_a_side_and_a_margin() -> None:
    assert AT_MOST.at_most and AT_MOST.margin == pytest.approx(0.02) and str(AT_MOST) == "<= 1.02"
    assert not AT_LEAST.at_most and AT_LEAST.margin == pytest.approx(0.4)
    assert str(AT_LEAST) == ">= 1.6"


@pytest.mark.parametrize(
    ("goal", "ratios", "verdict"),
    [
        (AT_MOST, [1.0, 1.001, 0.999, 1.002, 0.998], Verdict.MEETS),
        (AT_MOST, [1.09, 1.10, 1.08, 1.11, 1.095], Verdict.MISSES),
        # one round's ratio ranged 0.76-1.41 on a quiet 2-core machine: no verdict
        (AT_MOST, [0.76, 1.41, 1.05, 0.9, 1.2], Verdict.BUSY),
        (AT_MOST, [1.015, 1.02, 1.025, 1.018, 1.022], Verdict.EDGE),
        (AT_MOST, [1.0], Verdict.NO_INTERVAL),
        (AT_LEAST, [1.9, 1.95, 1.92, 1.97, 1.93], Verdict.MEETS),
        (AT_LEAST, [0.91, 0.95, 0.9, 0.97, 0.93], Verdict.MISSES),
        (AT_LEAST, [1.1, 1.9, 1.5, 2.0, 1.3], Verdict.BUSY),
    ],
)
def test_a_goal_is_judged_on_the_interval_of_the_rounds_ratios(
    goal: Goal, ratios: list[float], verdict: Verdict
) -> None:
    found = judged(goal, ratios)
    assert found.verdict is verdict
    interval = found.interval
    if interval is not None:  # the lab's bootstrap interval of their median
        assert interval.low <= sorted(ratios)[len(ratios) // 2] <= interval.high


def test_a_straddling_interval_says_the_machine_was_too_busy() -> None:
    assert Verdict.BUSY.value == "the machine was too busy for a verdict"


def test_rounds_stop_once_the_interval_is_narrower_than_the_margin() -> None:
    steady = [1.0, 1.001, 0.999, 1.0005, 0.9995]
    assert not judged(AT_MOST, steady[:4]).settled(15)  # fewer than MIN_ROUNDS
    assert judged(AT_MOST, steady).narrow and judged(AT_MOST, steady).settled(15)
    assert judged(AT_MOST, steady).note(15) is None


def test_rounds_stop_early_when_the_cap_could_not_narrow_the_interval() -> None:
    noisy = judged(AT_MOST, [0.76, 1.41, 1.05, 0.9, 1.2])
    assert not noisy.narrow and noisy.settled(15)
    needed = noisy.needed()
    assert needed is not None and needed > 15
    note = noisy.note(15)
    assert note is not None and "not narrower than the goal's margin 0.02" in note
    assert note.endswith("more than the 15 the bench runs")
    assert judged(AT_MOST, [0.76, 1.41]).settled(2)  # the cap itself


def paired(monkeypatch: pytest.MonkeyPatch, lab_times: list[float]) -> list[str]:
    """Sides that take made-up times: the hand-written side 1 s, the lab's from ``lab_times``
    in turn; the order the sides ran in, returned."""
    order: list[str] = []
    times = itertools.cycle(lab_times)

    def lab(case: Case, settings: Rounds, catalog: Catalog) -> Timing:
        order.append("lab")
        value = next(times)
        return Timing(value, value)

    def hand(case: Case, timeout: float) -> Timing:
        order.append("hand")
        return Timing(1.0, 1.0)

    monkeypatch.setattr(side_by_side, "run_lab", lab)
    monkeypatch.setattr(side_by_side, "run_hand", hand)
    return order


SETTINGS = Rounds(repeat=1, timeout=1, start_method="spawn")


def case(goal: Goal = AT_MOST) -> Case:
    return Case("threads", "cpu", workers=2, jobs=4, size=1, goal=goal)


def test_paired_rounds_run_both_sides_each_round_in_alternating_order(
    monkeypatch: pytest.MonkeyPatch, catalog: Catalog
) -> None:
    order = paired(monkeypatch, [1.0, 1.001, 0.999])
    steady = Comparison(case())
    side_by_side.run_rounds([steady], 15, SETTINGS, catalog)
    assert len(steady.lab) == len(steady.hand) == MIN_ROUNDS  # narrow by then: no more
    assert order[:4] == ["lab", "hand", "hand", "lab"]
    assert steady.judged().verdict is Verdict.MEETS and not steady.missed()


def test_a_noisy_case_stops_at_the_fewest_rounds_and_is_no_verdict(
    monkeypatch: pytest.MonkeyPatch, catalog: Catalog
) -> None:
    paired(monkeypatch, [0.76, 1.41, 1.05, 0.9, 1.2])
    noisy = Comparison(case())
    side_by_side.run_rounds([noisy], 15, SETTINGS, catalog)
    assert len(noisy.lab) == MIN_ROUNDS
    assert noisy.judged().verdict is Verdict.BUSY and not noisy.missed()
    table = ratio_table([noisy], 15, "simple")
    assert "the machine was too busy for a verdict" in table
    assert "threads cpu: interval " in table and "more than the 15 the bench runs" in table


def test_a_case_that_fails_is_not_run_again(
    monkeypatch: pytest.MonkeyPatch, catalog: Catalog
) -> None:
    paired(monkeypatch, [1.0])
    calls = []

    def broken(case: Case, settings: Rounds, catalog: Catalog) -> Timing:
        calls.append(case)
        raise BenchError("lab: it broke")

    monkeypatch.setattr(side_by_side, "run_lab", broken)
    failing = Comparison(case())
    side_by_side.run_rounds([failing], 15, SETTINGS, catalog)
    assert len(calls) == 1 and failing.failure == "lab: it broke" and failing.missed()
    assert failing.lab == failing.hand == []
    assert "error: lab: it broke" in ratio_table([failing], 15, "simple")


def test_the_generic_rounds_run_each_item_until_it_settles() -> None:
    class Item:
        failure: str | None = None

        def __init__(self, ratios: list[float]) -> None:
            self.source, self.ratios = itertools.cycle(ratios), list[float]()

        def judged(self) -> Judged:
            return Judged(AT_MOST, tuple(self.ratios))

    steady, noisy = Item([1.0, 1.001]), Item([0.9, 1.1, 1.0])
    goals.run_rounds([steady, noisy], 4, lambda item, _: item.ratios.append(next(item.source)))
    assert len(steady.ratios) == len(noisy.ratios) == 4  # the cap, under MIN_ROUNDS


def test_the_no_op_records_validate(catalog: Catalog) -> None:
    """They name this host and its clock offset as a cell worker's measurement does: with the
    host left empty, every record was checked as another host's, on the wall clock, and fell
    outside the run ("job 0 ran outside the run it belongs to")."""
    run = measurement()
    assert len(run.records) == RECORDS and run.host and run.host == run.records[0].host
    assert validation(run, catalog.tasks.get("cpu")).name == "validate.problems"


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (BenchError("the no-op records do not validate:\njob 0 ran outside"), "bench: the no-op"),
        (RuntimeError("a bug"), "bench: failed: RuntimeError: a bug"),
    ],
)
def test_a_bench_failure_is_one_line_and_exit_code_1(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: Exception,
    said: str,
) -> None:
    def fail() -> None:
        raise error

    monkeypatch.setattr(cli, "load_catalog", fail)
    assert cli.main(["--count", "1000", "--rounds", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(said) and err.count("\n") == 1 and "Traceback" not in err
