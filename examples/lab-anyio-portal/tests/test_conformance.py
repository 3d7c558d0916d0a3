"""The lab's conformance kit, run on this plugin's runner."""

from lab.testing import RunnerConformance


class TestAnyioPortal(RunnerConformance):
    runner = "anyio-portal"
