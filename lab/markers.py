"""The project's pluggy markers: one name, ``"lab"``, for specs and implementations."""

from __future__ import annotations

import pluggy

PROJECT_NAME = "lab"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
