"""Functions like a user's own, to measure with ``lab run``:

lab run examples/own-work/work.py:parse 2000
lab run examples/own-work/work.py:digest 8000000
lab run examples/own-work/work.py:wait 0.1 --async examples/own-work/work.py:wait_async
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time


def parse(records: int) -> int:
    """Pure-Python work that holds the GIL: encode a document of ``records`` rows and parse it
    back."""
    document = json.dumps(
        [{"id": i, "name": f"row {i}", "tags": ["a", "b"]} for i in range(records)]
    )
    return len(json.loads(document))


def digest(size: int) -> str:
    """Hashing ``size`` bytes: hashlib releases the GIL on large buffers."""
    return hashlib.sha256(bytes(size)).hexdigest()


def wait(seconds: float) -> float:
    """A blocking wait, as a call to a slow service would be."""
    time.sleep(seconds)
    return seconds


async def wait_async(seconds: float) -> float:
    """The same wait on an event loop."""
    await asyncio.sleep(seconds)
    return seconds
