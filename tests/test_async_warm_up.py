"""A cell whose jobs are coroutines warms the coroutine function up, as it does a sync one."""

from __future__ import annotations

import pytest

from lab.task import WARM_UP_CALLS, Size, Task
from lab.worker.main import _warm_up_async_form

CALLS: dict[str, int] = {}


async def counted(seconds: float) -> None:
    CALLS["async"] = CALLS.get("async", 0) + 1


def plain(seconds: float) -> None:
    pass


@pytest.mark.parametrize("form", ["asyncio", "anyio"])
def test_an_async_form_is_called_as_often_as_the_sync_warm_up(form: str) -> None:
    CALLS.clear()
    task = Task(
        name="t",
        description="a task",
        bound="io",
        forms={"sync": plain, form: counted},
        size=Size(name="seconds", kind=float, default=0.1, soft_limit=60),
        warm_up=0.0,
    )
    _warm_up_async_form(task, form)
    assert CALLS["async"] == WARM_UP_CALLS
    CALLS.clear()
    _warm_up_async_form(task, "sync")
    assert CALLS == {}
