"""An event-loop runner warms its jobs' coroutine function up on the loop it starts, in the form
it runs (anyio's on trio for ``anyio-trio``), before its start-up returns."""

from __future__ import annotations

import pytest
import sniffio

from lab.host.manager import PluginSelection
from lab.host.registry import load_catalog
from lab.runner import RunContext, Workers
from lab.task import SYNC, WARM_UP_CALLS, Size, Task

#: The loop library each warm-up call ran on, in order.
LIBRARIES: list[str] = []


async def counted(seconds: float) -> None:
    LIBRARIES.append(sniffio.current_async_library())


def plain(seconds: float) -> None:
    pass


TASK = Task(
    name="t",
    description="a task",
    bound="io",
    forms={"sync": plain, "asyncio": counted, "anyio": counted},
    size=Size(name="seconds", kind=float, default=0.1, soft_limit=60),
    warm_up=0.0,
)


@pytest.mark.parametrize(
    ("runner", "library"),
    [("asyncio", "asyncio"), ("uvloop", "asyncio"), ("anyio-asyncio", "asyncio"),
     ("anyio-trio", "trio")],
)  # fmt: skip
def test_an_event_loop_runner_warms_its_form_up_on_its_own_loop(runner: str, library: str) -> None:
    catalog, _, _ = load_catalog(PluginSelection())
    chosen = catalog.runners.get(runner)
    if (why := chosen.unavailable()) is not None:
        pytest.skip(f"{runner} is not available here: {why}")
    LIBRARIES.clear()
    context = RunContext(start_method="spawn", async_warm_up=TASK.warm_up_jobs(chosen.job_form))
    session = chosen.start(chosen.layout(Workers.parse("2")), context)
    try:
        assert [library] * WARM_UP_CALLS == LIBRARIES
    finally:
        session.close()


def test_a_task_without_the_form_has_no_warm_up_in_it() -> None:
    assert len(TASK.warm_up_jobs(SYNC)) == WARM_UP_CALLS
    assert TASK.warm_up_jobs("trio") == ()
