"""The facts printed with every run, and the warnings about a machine that spoils figures."""

from __future__ import annotations

from lab_builders import fake_metadata

from lab.results import metadata


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


def test_the_memory_metric_and_its_step_are_recorded() -> None:
    facts = metadata.collect("spawn")
    assert facts.memory_metric in ("PSS", "RSS")
    assert facts.memory_resolution >= 1024
