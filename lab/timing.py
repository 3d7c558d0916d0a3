"""The one clock the lab measures with.

``perf_counter`` is system-wide and monotonic on the platforms the lab supports (Linux
``CLOCK_MONOTONIC``, macOS ``mach_absolute_time``, Windows ``QueryPerformanceCounter``), so
timestamps taken in different worker processes can be compared with the cell's own.
"""

from __future__ import annotations

import time

clock = time.perf_counter
thread_cpu = time.thread_time
