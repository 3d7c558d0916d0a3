"""The facts printed with every run, and the warnings about a machine that spoils figures."""

from __future__ import annotations

from lab_builders import fake_metadata

from lab.machine import metadata
from lab.report.terminal import header_lines


def test_header_names_the_machine() -> None:
    lab, python, versions = metadata.header(fake_metadata())
    assert lab == ["concurrency-lab", "2 usable CPUs (affinity 0-1 of 4)"]
    assert python == ["CPython 3.11.7 (GCC 12.2.0)", "GIL on", "start method spawn", "Linux"]
    assert versions == ["2026-11-25T18:00:00+00:00", "load 0.5", "pluggy 1.7.0"]
    facts = fake_metadata(cpu_model="Xeon", memory_total=24 * 2**30, commit="abc1234")
    facts.versions["concurrency-lab"] = "0.1.0"
    assert header_lines(facts, 60) == [
        "concurrency-lab 0.1.0 (commit abc1234)",
        "2 usable CPUs (affinity 0-1 of 4) · Xeon · 24 GiB memory",
        "CPython 3.11.7 (GCC 12.2.0) · GIL on · start method spawn",
        "Linux",
        "2026-11-25T18:00:00+00:00 · load 0.5 · pluggy 1.7.0",
    ]


def test_warnings_for_a_busy_machine_and_coarse_sleeps() -> None:
    assert metadata.warnings(fake_metadata()) == []
    busy, coarse = metadata.warnings(fake_metadata(busy_percent=80.0, sleep_overshoot=0.004))
    assert busy.startswith("the machine is busy (80% CPU in use")
    assert "overshoots by 4.0 ms" in coarse
    loaded = fake_metadata(busy_percent=5.0, load_average=[7.5, 3.0, 1.0])
    assert metadata.warnings(loaded)[0].endswith(
        "(5% CPU in use before the run, load 1.88 a CPU over the last minute):"
        " figures will be noisy"
    )
    assert metadata.warnings(fake_metadata(busy_percent=5.0, load_average=[1.68, 1, 1])) == []


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
