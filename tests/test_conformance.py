"""Every built-in runner passes the conformance kit that plugin authors use."""

from __future__ import annotations

import pytest

from lab.host.registry import load_catalog
from lab.runner import INLINE, PROCESSES, THREADS
from lab.testing import RunnerConformance

#: The runners whose fault checks (those docs/faults.md names) the fault suite runs: one of each
#: kind but those the fault suite's matrix test runs the same faults on (a hung job, a job that
#: calls sys.exit: ``test_faults_become_marked_cells_and_the_rest_runs``), and every runner of
#: a kind none of them has. The whole suite runs every check on every built-in runner; see
#: ``pytest_collection_modifyitems`` in ``tests/conftest.py``.
FAULT_SUITE_RUNNERS = {"threads-in-processes", "asyncio", "interpreters"}
COVERED_KINDS = {INLINE, THREADS, PROCESSES}

_all = list(load_catalog()[0].runners.items.values())
_runners = [r for r in _all if r.unavailable() is None]
_kinds = COVERED_KINDS | {r.kind for r in _runners if r.name in FAULT_SUITE_RUNNERS}
for _runner in _runners:
    _name = "TestConformance_" + _runner.name.replace("-", "_")
    _in_fault_suite = _runner.name in FAULT_SUITE_RUNNERS or _runner.kind not in _kinds
    globals()[_name] = type(
        _name, (RunnerConformance,), {"runner": _runner.name, "in_fault_suite": _in_fault_suite}
    )
#: A runner that cannot run here (a library that is not installed, ray on a free-threaded
#: Python) is a skipped class whose reason -ra prints, not a class that is not there.
for _runner in _all:
    if (_why := _runner.unavailable()) is not None:
        _name = "TestConformance_" + _runner.name.replace("-", "_")
        globals()[_name] = type(
            _name,
            (RunnerConformance,),
            {
                "runner": _runner.name,
                "pytestmark": pytest.mark.skip(reason=f"{_runner.name}: {_why}"),
            },
        )
