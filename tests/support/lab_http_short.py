"""A variant of the ``http`` task whose server answers 24 bytes fewer than the task expects,
loaded with ``-p lab_http_short``: its check must make every cell an error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab import Task, hookimpl
from lab_plugins.http_common import RESPONSE_BYTES
from lab_plugins.http_task import httpx_task

if TYPE_CHECKING:
    from collections.abc import Callable

SHORT_BY = 24
HTTP_SHORT = httpx_task("http-short", served_bytes=RESPONSE_BYTES - SHORT_BY)


@hookimpl
def lab_register_tasks(register: Callable[[Task], None]) -> None:
    register(HTTP_SHORT)
