"""The CPU a process tree used between two readings, process by process: a process that vanished
in between (reaped by its own parent, or by the system for it) never makes the difference
negative, and what it used up to its last sample is counted."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab.boundary.measurement import Measurement
from lab.machine.process_tree import (
    CpuReading,
    ProcessCpu,
    ProcessKey,
    VanishedCpu,
    cpu_by_process,
    tree,
    tree_cpu,
)
from lab.run.supervisor import counting_vanished

#: What adding the same counts in another order may change in the last digits of a float.
ROUNDING = 1e-9
SELF: ProcessKey = (1, 0.0)
TICK = 0.01


def reading(processes: dict[ProcessKey, ProcessCpu]) -> CpuReading:
    """A reading of ``processes`` as :func:`tree_cpu` makes it."""
    return CpuReading(
        sum(p.total for p in processes.values() if not p.apart),
        TICK,
        sum(p.total for p in processes.values() if p.apart),
        tick=TICK,
        processes=processes,
    )


def test_a_process_the_system_reaped_is_left_to_its_last_sample_never_subtracted() -> None:
    parent, child = (2, 5.0), (3, 6.0)
    before = reading(
        {
            SELF: ProcessCpu(1.0, 0.0, 0),
            parent: ProcessCpu(0.5, 0.0, 1, drops_children=True),
            child: ProcessCpu(4.0, 0.0, 2),
        }
    )
    after = reading(
        {SELF: ProcessCpu(1.25, 0.0, 0), parent: ProcessCpu(0.75, 0.0, 1, drops_children=True)}
    )
    used = after - before
    assert used.seconds == pytest.approx(0.5)  # the totals' difference would be -3.5
    assert used.vanished == {child: VanishedCpu(4.0)}
    counted = used.counting_vanished({child: 6.0}, interval=0.1)
    assert counted.seconds == pytest.approx(2.5) and not counted.vanished
    assert counted.resolution > used.resolution + 0.1
    assert used.counting_vanished({}, interval=0.1).seconds == pytest.approx(0.5)


def test_a_process_its_living_parent_waited_for_counts_through_the_parent() -> None:
    parent, child, grandchild = (2, 5.0), (3, 6.0), (4, 7.0)
    before = reading(
        {
            SELF: ProcessCpu(1.0, 0.0, 0),
            parent: ProcessCpu(0.5, 0.25, 1),
            child: ProcessCpu(4.0, 1.0, 2),
            grandchild: ProcessCpu(2.0, 0.0, 3),
        }
    )
    # The child waited for the grandchild, then the parent for the child: its reaped count
    # grew by the child's whole life (its own 5 s, the grandchild's 3 s and the 1 s it had
    # reaped before), not just by what they used in between.
    after = reading({SELF: ProcessCpu(1.0, 0.0, 0), parent: ProcessCpu(0.5, 9.25, 1)})
    used = after - before
    assert used.seconds == pytest.approx((5.0 - 4.0) + (3.0 - 2.0)) and not used.vanished


def test_a_new_process_counts_whole_and_a_reused_pid_is_not_the_old_process() -> None:
    old, new = (2, 5.0), (2, 8.0)
    before = CpuReading(
        0.0,
        TICK,
        by_thread={(2, 2): 3.0},
        processes={SELF: ProcessCpu(0, 0, 0), old: ProcessCpu(3, 0, 1)},
    )
    after = CpuReading(
        0.0,
        TICK,
        by_thread={(2, 2): 3.5},
        processes={SELF: ProcessCpu(0, 0, 0), new: ProcessCpu(3.5, 0.5, 1)},
    )
    used = after - before
    assert used.seconds == pytest.approx(4.0)  # not 1.0: another process took pid 2
    assert used.by_thread == {}


KEYS = st.tuples(st.integers(1, 6), st.sampled_from([0.0, 1.0]))
CPU = st.builds(
    ProcessCpu,
    st.floats(0, 100),
    st.floats(0, 100),
    st.integers(0, 6),
    st.booleans(),
    st.booleans(),
)
READINGS = st.dictionaries(KEYS, CPU, max_size=8).map(reading)


@given(READINGS, READINGS, st.dictionaries(KEYS, st.floats(0, 100)))
def test_the_difference_of_two_readings_is_never_negative(
    before: CpuReading, after: CpuReading, seen: dict[ProcessKey, float]
) -> None:
    """Whatever processes appear, vanish or come back under another's pid, and whatever
    they read (a later count below an earlier one included)."""
    used = after - before
    assert used.seconds >= 0 and used.apart >= 0
    assert all(gone.before >= 0 for gone in used.vanished.values())
    counted = used.counting_vanished(seen, interval=0.1)
    assert counted.seconds >= used.seconds and counted.apart >= used.apart


def test_the_lab_adds_a_vanished_process_to_the_measurement_up_to_its_last_sample() -> None:
    measurement = Measurement(
        cpu=1.0,
        cpu_resolution=0.02,
        cpu_tick=TICK,
        session_cpu=0.5,
        vanished_cpu=[[3, 6.0, 4.0, 0], [4, 7.0, 1.0, 1], [5, 8.0, 2.0, 0]],
    )
    counted = counting_vanished(
        Measurement.from_json(measurement.to_json()), {(3, 6.0): 6.0, (4, 7.0): 1.5}, 0.1
    )
    assert counted.cpu == pytest.approx(3.0) and counted.session_cpu == pytest.approx(1.0)
    assert counted.cpu_resolution is not None and counted.cpu_resolution > 0.32
    assert not counted.vanished_cpu


#: A parent that starts a child and leaves it running; with ``ignore``, it ignores SIGCHLD
#: (the system reaps its children, as Ray's raylet has its workers), else it waits for it.
#: The child reads a line before it burns CPU and another before it exits.
PARENT = """
import signal, subprocess, sys, time
if sys.argv[1] == "ignore":
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", sys.argv[2]])
print(child.pid, flush=True)
if sys.argv[1] == "ignore":
    time.sleep(60)
child.wait()
time.sleep(60)
"""
BURN = 0.2
CHILD = f"""
import sys, time
sys.stdin.readline()
start = time.process_time()
while time.process_time() < start + {BURN}:
    pass
print("burned", flush=True)
sys.stdin.readline()
"""


@pytest.mark.parametrize("parent_reaps", ["wait", "ignore"])
@pytest.mark.parametrize("kept_apart", [False, True])
def test_a_grandchild_that_burns_and_exits_between_the_readings_is_counted(
    parent_reaps: str, kept_apart: bool
) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, parent_reaps, CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert parent.stdin is not None and parent.stdout is not None
    try:
        child = psutil.Process(int(parent.stdout.readline()))
        apart = [parent.pid] if kept_apart else []
        before = tree_cpu(before=True, apart=apart)
        parent.stdin.write(b"burn\n")
        parent.stdin.flush()
        assert parent.stdout.readline() == b"burned\n"
        seen = cpu_by_process(tree(psutil.Process()))  # what the lab's sampler does
        parent.stdin.write(b"exit\n")
        parent.stdin.flush()
        child.wait(timeout=30)
        after = tree_cpu(before=False, apart=apart)
    finally:
        parent.kill()
        parent.wait(timeout=30)
    key = (child.pid, child.create_time())
    burned = seen[key] - before.processes[key].total
    assert burned >= BURN / 2  # by its own count, not by how long anything took
    used = (after - before).counting_vanished(seen, interval=0.1)
    assert used.seconds >= 0 and used.apart >= 0
    assert (used.apart if kept_apart else used.seconds) + ROUNDING >= burned
