"""The figures and the facts: unstable cells, memory per worker, metadata warnings."""

from __future__ import annotations

from dataclasses import replace

from lab.results import metadata
from lab.results.analysis import figures, unstable
from lab.results.model import Cell, Sample
from lab.results.stats import summarise
from lab.runner import Layout

MIB = 1024 * 1024


def sample(job_span: float, peak: int = 20 * MIB) -> Sample:
    return Sample(0.1, job_span, 0.0, job_span, job_span, peak)


def cell(runner: str, workers: int, spans: list[float], peak: int, bound: str = "cpu") -> Cell:
    layout = Layout(processes=workers) if workers > 1 else Layout()
    samples = [sample(s, peak) for s in spans]
    return Cell(bound, bound, runner, str(workers), layout, 4, 1000, None, samples)


def test_spread_and_short_jobs_are_flagged_unstable() -> None:
    assert unstable(summarise([1.0, 1.01, 0.99])) is None
    assert unstable(summarise([1.0, 1.2, 0.8])) == "sd 20% of the mean"
    assert unstable(summarise([0.001, 0.001])) == "too short to time well (under 10 ms)"


def test_speed_up_efficiency_and_memory_per_worker() -> None:
    base = cell("single", 1, [0.8, 0.81, 0.79], 20 * MIB)
    two = cell("processes", 2, [0.4, 0.41, 0.39], 60 * MIB)
    four = cell("processes", 4, [0.4, 0.4, 0.4], 100 * MIB)
    found = figures(two, base, cpus=2, siblings=[two, four])
    assert found is not None and found.interval is not None
    assert found.speedup == 2.0
    assert found.interval.low <= 2.0 <= found.interval.high
    assert found.efficiency == 1.0
    assert found.memory_per_worker == 20 * MIB  # (60 - 20) / 2, no smaller sibling
    slope = figures(four, base, cpus=2, siblings=[two, four])
    assert slope is not None
    assert slope.memory_per_worker == 20 * MIB  # (100 - 60) / (4 - 2)
    assert slope.efficiency == 1.0  # ideal = min(4 workers, 2 CPUs, 4 jobs) = 2
    assert figures(base, base, cpus=2) is not None
    assert figures(replace(two, failure="timeout after 2 s"), base, cpus=2) is None


def test_io_efficiency_is_against_the_ideal_time() -> None:
    base = cell("single", 1, [4.0, 4.0], 20 * MIB, bound="io")
    two = Cell("io", "io", "processes", "2", Layout(processes=2), 4, 1.0, None, [sample(2.5)] * 2)
    found = figures(two, base, cpus=2)
    assert found is not None
    assert found.efficiency == 2.0 / 2.5  # ceil(4 jobs / 2) x 1 s ideal


def fake_metadata(**changes: object) -> metadata.Metadata:
    facts = metadata.Metadata(
        date="2026-11-25T18:00:00+00:00",
        python="CPython 3.11.7 (GCC 12.2.0)",
        gil_enabled=True,
        cpus=2,
        logical_cpus=4,
        affinity=[0, 1],
        system="Linux",
        load_average=[0.5, 0.4, 0.3],
        busy_percent=3.0,
        sleep_overshoot=0.0001,
        start_method="spawn",
        versions={"pluggy": "1.7.0"},
    )
    return replace(facts, **changes)  # type: ignore[arg-type]


def test_header_names_the_machine() -> None:
    first, second = metadata.header(fake_metadata())
    assert first == (
        "concurrency-lab · 2 usable CPUs (affinity 0-1 of 4) · CPython 3.11.7 (GCC 12.2.0)"
        " · GIL on · start method spawn"
    )
    assert second == "Linux · 2026-11-25T18:00:00+00:00 · load 0.5 · pluggy 1.7.0"


def test_warnings_for_a_busy_machine_and_coarse_sleeps() -> None:
    assert metadata.warnings(fake_metadata()) == []
    busy, coarse = metadata.warnings(fake_metadata(busy_percent=80.0, sleep_overshoot=0.004))
    assert busy.startswith("the machine is busy (80% CPU in use")
    assert "overshoots by 4.0 ms" in coarse


def test_collect_reads_this_machine() -> None:
    facts = metadata.collect("spawn")
    assert facts.cpus >= 1
    assert facts.gil_enabled is metadata.gil_enabled()
    assert {"pluggy", "anyio", "tabulate", "psutil"} <= set(facts.versions)
    assert facts.sleep_overshoot >= 0
