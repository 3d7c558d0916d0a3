"""Every built-in runner passes the conformance kit that plugin authors use."""

from __future__ import annotations

from lab.host.registry import load_catalog
from lab.testing import RunnerConformance

for _runner in load_catalog()[0].runners.items.values():
    if _runner.unavailable() is None:
        _name = "TestConformance_" + _runner.name.replace("-", "_")
        globals()[_name] = type(_name, (RunnerConformance,), {"runner": _runner.name})
